// Observations of a real cluster through the API: pods, warning events, Kube-OVN's IP CRs and Subnet
// status, NetworkAttachmentDefinitions. The parsers are pure (kubectl's JSON in, model/kube.ts out);
// a resource type the cluster does not have is recorded as absent, not as empty.
import type { KubeEvent, KubeObservation, KubeOvnIp, KubeOvnSubnet, KubePod, NetworkAttachmentDefinition } from '../model/kube.ts';
import type { Kubectl } from './kubectl.ts';

type Obj = Record<string, any>;

export function parsePods(items: readonly Obj[]): KubePod[] {
  return items
    .map((p) => {
      const statuses = [...((p.status?.initContainerStatuses ?? []) as Obj[]), ...((p.status?.containerStatuses ?? []) as Obj[])];
      const ready = ((p.status?.conditions ?? []) as Obj[]).find((c) => c.type === 'Ready');
      const waiting = statuses.map((s) => s.state?.waiting?.reason as string | undefined).find(Boolean);
      const owner = ((p.metadata?.ownerReferences ?? []) as Obj[])[0];
      const pod: KubePod = {
        namespace: String(p.metadata?.namespace ?? ''),
        name: String(p.metadata?.name ?? ''),
        phase: String(p.status?.phase ?? 'Unknown'),
        ready: ready?.status === 'True',
        restarts: ((p.status?.containerStatuses ?? []) as Obj[]).reduce((n, s) => n + Number(s.restartCount ?? 0), 0),
      };
      if (p.spec?.nodeName) pod.node = String(p.spec.nodeName);
      if (p.status?.podIP) pod.podIP = String(p.status.podIP);
      if (waiting) pod.waiting = waiting;
      if (owner) {
        pod.ownerKind = String(owner.kind);
        pod.ownerName = String(owner.name);
      }
      if (p.metadata?.creationTimestamp) pod.createdAt = String(p.metadata.creationTimestamp);
      if (ready?.status === 'True' && ready.lastTransitionTime) pod.readyAt = String(ready.lastTransitionTime);
      return pod;
    })
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

/** Warning events, most recent last (the reasons a pod does not start: FailedCreatePodSandBox...). */
export function parseEvents(items: readonly Obj[], max = 200): KubeEvent[] {
  return items
    .filter((e) => e.type === 'Warning')
    .map((e) => {
      const ev: KubeEvent = {
        namespace: String(e.metadata?.namespace ?? ''),
        object: `${String(e.involvedObject?.kind ?? '?')}/${String(e.involvedObject?.name ?? '?')}`,
        reason: String(e.reason ?? ''),
        message: String(e.message ?? '').trim(),
        count: Number(e.count ?? 1),
      };
      const last = e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp;
      if (last) ev.lastSeen = String(last);
      return ev;
    })
    .sort((a, b) => (a.lastSeen ?? '').localeCompare(b.lastSeen ?? ''))
    .slice(-max);
}

export function parseIps(items: readonly Obj[]): KubeOvnIp[] {
  return items
    .map((i) => {
      const ip: KubeOvnIp = {
        name: String(i.metadata?.name ?? ''),
        subnet: String(i.spec?.subnet ?? i.metadata?.labels?.['ovn.kubernetes.io/subnet'] ?? ''),
        podName: String(i.spec?.podName ?? ''),
        namespace: String(i.spec?.namespace ?? ''),
        ipAddress: String(i.spec?.v4IpAddress || i.spec?.ipAddress || ''),
        attachSubnets: ((i.spec?.attachSubnets ?? []) as unknown[]).map(String),
      };
      if (i.spec?.nodeName) ip.nodeName = String(i.spec.nodeName);
      if (i.spec?.podType) ip.podType = String(i.spec.podType);
      return ip;
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function parseSubnets(items: readonly Obj[]): KubeOvnSubnet[] {
  return items
    .map((s) => {
      const sub: KubeOvnSubnet = {
        name: String(s.metadata?.name ?? ''),
        cidrBlock: String(s.spec?.cidrBlock ?? ''),
        excludeIps: ((s.spec?.excludeIps ?? []) as unknown[]).map(String),
      };
      if (s.spec?.provider) sub.provider = String(s.spec.provider);
      const st = (s.status ?? {}) as Obj;
      // Counters are numbers in the CRD (floats in v1.12's Go type); kept as given.
      if (st.v4usingIPs !== undefined) sub.v4usingIPs = Number(st.v4usingIPs);
      if (st.v4availableIPs !== undefined) sub.v4availableIPs = Number(st.v4availableIPs);
      if (st.v4usingIPrange !== undefined) sub.v4usingIPrange = String(st.v4usingIPrange);
      if (st.v4availableIPrange !== undefined) sub.v4availableIPrange = String(st.v4availableIPrange);
      return sub;
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function parseNads(items: readonly Obj[]): NetworkAttachmentDefinition[] {
  return items
    .map((n) => ({ namespace: String(n.metadata?.namespace ?? ''), name: String(n.metadata?.name ?? ''), config: String(n.spec?.config ?? '') }))
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

/** One observation of the cluster's objects. */
export async function observeKube(kubectl: Kubectl, after: string, atMs: number): Promise<KubeObservation> {
  const [pods, events, ips, subnets, nads] = await Promise.all([
    kubectl.list('pods'),
    kubectl.list('events'),
    kubectl.list('ips.kubeovn.io'),
    kubectl.list('subnets.kubeovn.io'),
    kubectl.list('network-attachment-definitions.k8s.cni.cncf.io'),
  ]);
  return {
    after,
    atMs,
    pods: parsePods(pods ?? []),
    events: parseEvents(events ?? []),
    ...(ips ? { ips: parseIps(ips) } : {}),
    ...(subnets ? { subnets: parseSubnets(subnets) } : {}),
    ...(nads ? { nads: parseNads(nads) } : {}),
  };
}
