// A pod's capabilities as containerd's CRI plugin hands them to libcni: the CNI capability args
// (runtimeConfig for plugins that declare the capability) built the way go-cni builds them.
import type { PodCapabilities } from '../model/scenario.ts';
import { quantityValue } from '../util/quantity.ts';

/** The burst containerd gives every bandwidth limit (toCNIBandWidth: math.MaxUint32). */
export const CRI_BANDWIDTH_BURST = 2 ** 32 - 1;

/**
 * capabilityArgs as containerd passes them: portMappings (hostPort > 0 only, protocol lower-case)
 * and bandwidth (rates in bits/s from the annotations, burst MaxUint32), as go-cni's structs marshal
 * (Go field names; plugins read them case-insensitively). Undefined when the pod has none.
 */
export function cniCapabilityArgs(caps: PodCapabilities | undefined): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  const ports = (caps?.portMappings ?? []).filter((m) => m.hostPort > 0);
  if (ports.length) {
    out.portMappings = ports.map((m) => ({ HostPort: m.hostPort, ContainerPort: m.containerPort, Protocol: (m.protocol ?? 'tcp').toLowerCase(), HostIP: m.hostIP ?? '' }));
  }
  const ingress = caps?.bandwidth?.ingress === undefined ? undefined : quantityValue(caps.bandwidth.ingress);
  const egress = caps?.bandwidth?.egress === undefined ? undefined : quantityValue(caps.bandwidth.egress);
  if (ingress !== undefined || egress !== undefined) {
    out.bandwidth = {
      IngressRate: ingress ?? 0,
      IngressBurst: ingress === undefined ? 0 : CRI_BANDWIDTH_BURST,
      EgressRate: egress ?? 0,
      EgressBurst: egress === undefined ? 0 : CRI_BANDWIDTH_BURST,
    };
  }
  return Object.keys(out).length ? out : undefined;
}

/** The pod annotations kubelet sets for bandwidth (containerd reads them back into capability args). */
export function bandwidthAnnotations(caps: PodCapabilities | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (caps?.bandwidth?.ingress !== undefined) out['kubernetes.io/ingress-bandwidth'] = caps.bandwidth.ingress;
  if (caps?.bandwidth?.egress !== undefined) out['kubernetes.io/egress-bandwidth'] = caps.bandwidth.egress;
  return out;
}
