// A pod's capabilities as containerd's CRI plugin passes them: the capability args go to the plugins
// that declare them (runtimeConfig), and the model gives the same bytes containerd 1.6 cached for the
// same pod (checked end to end in scenarios/bandwidth-ifb-left-by-failed-del).
import { describe, expect, it } from 'vitest';
import { bandwidthAnnotations, cniCapabilityArgs, CRI_BANDWIDTH_BURST } from './capabilities.ts';
import { quantityValue } from '../util/quantity.ts';

describe('quantityValue', () => {
  it.each([
    ['10M', 10_000_000],
    ['1.5G', 1_500_000_000],
    ['500k', 500_000],
    ['100Mi', 100 * 2 ** 20],
    ['1', 1],
    ['0.1k', 100],
    ['1.0001', 2], // rounded up, as Quantity.Value() does
  ])('%s is %d', (q, v) => {
    expect(quantityValue(q)).toBe(v);
  });
  it.each(['10 M', '10m', 'fast', '-1M', '1e3', ''])('%j is not a quantity', (q) => {
    expect(quantityValue(q)).toBeUndefined();
  });
});

describe('cniCapabilityArgs', () => {
  it('has nothing for a pod without capabilities', () => {
    expect(cniCapabilityArgs(undefined)).toBeUndefined();
    expect(cniCapabilityArgs({})).toBeUndefined();
  });

  it('passes port mappings as go-cni marshals them, protocol lower-case, hostIP empty by default', () => {
    expect(cniCapabilityArgs({ portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostPort: 53, containerPort: 5353, protocol: 'udp', hostIP: '10.0.0.1' }] })).toEqual({
      portMappings: [
        { HostPort: 8080, ContainerPort: 80, Protocol: 'tcp', HostIP: '' },
        { HostPort: 53, ContainerPort: 5353, Protocol: 'udp', HostIP: '10.0.0.1' },
      ],
    });
  });

  it('passes bandwidth rates from the annotation quantities with the burst containerd gives (2^32-1), zero where not asked', () => {
    expect(CRI_BANDWIDTH_BURST).toBe(4294967295);
    expect(cniCapabilityArgs({ bandwidth: { egress: '1M' } })).toEqual({ bandwidth: { IngressRate: 0, IngressBurst: 0, EgressRate: 1_000_000, EgressBurst: 4294967295 } });
    expect(cniCapabilityArgs({ bandwidth: { ingress: '10M', egress: '2Mi' } })).toEqual({ bandwidth: { IngressRate: 10_000_000, IngressBurst: 4294967295, EgressRate: 2 * 2 ** 20, EgressBurst: 4294967295 } });
  });

  it('gives the real runtime the annotations kubelet sets', () => {
    expect(bandwidthAnnotations({ bandwidth: { ingress: '10M', egress: '1M' } })).toEqual({ 'kubernetes.io/ingress-bandwidth': '10M', 'kubernetes.io/egress-bandwidth': '1M' });
    expect(bandwidthAnnotations({})).toEqual({});
  });
});
