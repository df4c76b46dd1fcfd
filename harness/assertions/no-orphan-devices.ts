// Devices a plugin made that outlived what they were made for, in a node or in a pod's namespace:
// - a veth whose other end is in a network namespace no running pod owns (its DEL never completed);
// - an ifb (the bandwidth plugin's egress device, bwp<hash>) of a container that is not a running pod;
// - a macvlan, macvtap, ipvlan, ipvtap, vlan, vxlan or dummy left in the node's namespace (plugins
//   make them there and move them into the pod), unless the stack names it (a segment, a master);
// - a bridge no network of the stack names;
// - in a pod's namespace, a device none of the pod's attachments is, or any device but the veth
//   (reported from the node's side) in the namespace of a pod that is not running.
// Evidence names the kind, the device and its owner where known. Kernel devices every namespace may
// have (lo, tunl0, sit0...) are not plugin kinds and are not judged.
import * as s from '../schema/dsl.ts';
import { defineAssertion, fail, pass } from './registry.ts';
import { nodeParam, selectNodes } from './node-filter.ts';
import { addsOn, bandwidthIfbName } from './owners.ts';
import type { Evidence } from '../model/verdict.ts';
import type { CellContext } from '../context/cell-context.ts';
import type { LinkInfo } from '../model/snapshot.ts';
import type { PodState } from '../agent/types.ts';

/** The link kinds a CNI plugin makes. */
export const PLUGIN_LINK_KINDS = ['veth', 'ifb', 'macvlan', 'macvtap', 'ipvlan', 'ipvtap', 'vlan', 'vxlan', 'dummy', 'bridge'] as const;
const PLUGIN_KINDS = new Set<string>(PLUGIN_LINK_KINDS);
/** Kinds a plugin creates in the node and moves into the pod: one left in the node is left over. */
const MOVED_INTO_POD = new Set(['macvlan', 'macvtap', 'ipvlan', 'ipvtap', 'vlan', 'vxlan', 'dummy']);

/** Device names the stack's networks name (bridges, masters, segments): they belong to the node. */
export function stackDeviceNames(ctx: Pick<CellContext, 'stack'>): Set<string> {
  const names = new Set<string>();
  for (const net of ctx.stack.profile.networks) {
    if (net.segment) names.add(net.segment);
    for (const plugin of net.conflist.plugins) {
      if (plugin.type === 'bridge') names.add(typeof plugin.bridge === 'string' && plugin.bridge ? plugin.bridge : 'cni0');
      for (const key of ['bridge', 'master', 'device', 'vxlanDevice']) if (typeof plugin[key] === 'string' && plugin[key]) names.add(plugin[key] as string);
    }
  }
  return names;
}

/** The bandwidth ifb devices of every container the node ever ran, with its pod. */
function ifbOwners(ctx: CellContext, node: string): Map<string, { pod: string; containerId: string; network: string }> {
  const networks = ctx.stack.profile.networks.map((n) => n.conflist.name);
  const out = new Map<string, { pod: string; containerId: string; network: string }>();
  const add = (pod: string, containerId: string) => {
    if (!containerId) return;
    for (const network of networks) out.set(bandwidthIfbName(network, containerId), { pod, containerId, network });
  };
  for (const a of addsOn(ctx, node)) add(a.pod, a.containerId);
  for (const p of ctx.agent(node).pods()) add(p.spec.name, p.containerId);
  return out;
}

const phaseText = (p: PodState) => `${p.phase}${p.error ? `: ${p.error.length > 200 ? `${p.error.slice(0, 197)}...` : p.error}` : ''}`;

export const noOrphanDevices = defineAssertion({
  name: 'no-orphan-devices',
  description: 'Every device a plugin makes (veth, ifb, macvlan, ipvlan, vlan, vxlan, dummy, bridges) in a node or in a pod belongs to a running pod or is named by the stack.',
  params: s.object({ node: nodeParam }),
  evaluate(ctx, snapshot, p) {
    const evidence: Evidence[] = [];
    const counts = new Map<string, number>();
    const named = stackDeviceNames(ctx);
    for (const n of selectNodes(snapshot, p.node)) {
      const pods = ctx.agent(n.node).pods();
      const running = pods.filter((x) => x.phase === 'running');
      const liveNetns = new Set(running.map((x) => x.netnsName));
      const byNetns = new Map(pods.filter((x) => x.netnsName).map((x) => [x.netnsName, x]));
      const ifbs = n.links.some((l) => l.kind === 'ifb') ? ifbOwners(ctx, n.node) : new Map();
      const orphan = (l: LinkInfo, summary: string, extra: Record<string, unknown> = {}) =>
        evidence.push({ summary: `${n.node}: ${summary}`, node: n.node, link: l.name, kind: l.kind, ...(l.ns !== 'node' ? { netns: l.ns } : {}), ...extra });
      for (const l of n.links) {
        if (!PLUGIN_KINDS.has(l.kind)) continue;
        if (l.ns === 'node') {
          if (l.kind === 'veth') {
            // Pod sandboxes are named namespaces of the node (/run/netns); a veth into a namespace the
            // node has not named is not pod-facing (an external segment's link, e.g. ext0).
            if (!l.peer || l.peer.startsWith('netnsid:')) continue;
            counts.set('veth', (counts.get('veth') ?? 0) + 1);
            if (!liveNetns.has(l.peer)) {
              const owner = byNetns.get(l.peer);
              orphan(l, `${l.name}${l.master ? ` (on ${l.master})` : ''} peers into ${l.peer}, ${owner ? `pod ${owner.spec.name} is ${owner.phase}` : 'which no pod owns'}`, { netns: l.peer, ...(owner ? { owner: owner.spec.name } : {}) });
            }
            continue;
          }
          counts.set(l.kind, (counts.get(l.kind) ?? 0) + 1);
          if (l.kind === 'ifb') {
            const owner = ifbs.get(l.name);
            const st = owner ? pods.find((x) => x.containerId === owner.containerId) : undefined;
            if (st?.phase === 'running') continue;
            const whose = owner ? `is the bandwidth plugin's egress device of pod ${owner.pod} (container ${owner.containerId.slice(0, 12)}, network ${owner.network}), ${st ? `which is ${phaseText(st)}` : 'which no longer has a sandbox'}` : 'belongs to no container of this run';
            orphan(l, `ifb ${l.name} ${whose}`, { ...(owner ? { owner: owner.pod, containerId: owner.containerId } : {}), ...(st?.error ? { error: st.error } : {}) });
            continue;
          }
          if (named.has(l.name)) continue;
          if (l.kind === 'bridge') {
            orphan(l, `bridge ${l.name}, which no network of the stack names (${[...named].join(', ') || 'none'})`);
            continue;
          }
          if (MOVED_INTO_POD.has(l.kind)) {
            orphan(l, `${l.kind} ${l.name}${l.parent ? ` (on ${l.parent})` : ''} is in the node's namespace: a plugin makes it there and moves it into a pod, so one left here belongs to no pod`);
          }
          continue;
        }
        // Inside a pod's namespace.
        counts.set(`${l.kind} in pods`, (counts.get(`${l.kind} in pods`) ?? 0) + 1);
        const owner = byNetns.get(l.ns);
        if (owner?.phase === 'running') {
          const ifNames = owner.attachments.map((a) => a.ifName);
          if (!ifNames.includes(l.name)) orphan(l, `${l.kind} ${l.name} in pod ${owner.spec.name}'s namespace ${l.ns} is none of its attachments (${ifNames.join(', ') || 'none'})`, { owner: owner.spec.name });
          continue;
        }
        if (l.kind === 'veth') continue; // its node end is judged above, with the namespace it peers into
        orphan(l, `${l.kind} ${l.name} is in namespace ${l.ns}, ${owner ? `of pod ${owner.spec.name}, which is ${phaseText(owner)}` : 'which no pod owns'}`, owner ? { owner: owner.spec.name } : {});
      }
    }
    if (evidence.length) return fail(evidence);
    const seen = [...counts].map(([k, v]) => `${v} ${k}`).join(', ');
    return pass([{ summary: `${seen || 'no plugin device'}: all owned by running pods or named by the stack` }]);
  },
});
