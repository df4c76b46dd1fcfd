// The cheap observation a churn takes after every operation: host-local reservations (a readdir and
// small reads on the node's disk, no exec), the runtime's live attachments, the ranges' capacity from
// the cluster's network definitions, and which containers have an operation under way. Links,
// iptables and caches are left to the full observation at step boundaries.
import type { NodeSnapshot } from '../model/snapshot.ts';
import type { NodeAgent } from '../agent/types.ts';
import { readReservations } from './reservations.ts';
import { rangeCapacity } from './headroom.ts';
import { renderNetwork, type ClusterNetworks } from '../cluster/network-store.ts';

/** The snapshot fields an accounting observation carries. */
export const ACCOUNTING_FIELDS = ['running', 'reservations', 'attachments', 'headroom', 'inFlight'] as const satisfies readonly (keyof NodeSnapshot)[];

export async function observeAccounting(agent: NodeAgent, networks: ClusterNetworks): Promise<NodeSnapshot> {
  const node = agent.node;
  const inFlight = agent.inFlight();
  const reservations = await readReservations(node);
  const attachments = agent.attachments();
  // Operations that started while the disk was read are in flight too.
  for (const cid of agent.inFlight()) if (!inFlight.includes(cid)) inFlight.push(cid);
  const headroom: NonNullable<NodeSnapshot['headroom']> = {};
  for (const [net, capacity] of networkCapacities(networks, node.name)) {
    const used = reservations.filter((r) => r.network === net).length;
    headroom[net] = { capacity, used, free: Math.max(0, capacity - used) };
  }
  return { node: node.name, running: node.running, reservations, attachments, links: [], netns: [], headroom, inFlight };
}

const capacityCache = new WeakMap<ClusterNetworks, Map<string, Map<string, number>>>();

/**
 * Host-local capacity of every network the cluster defines, as rendered for this node (removed
 * definitions included: their reservations still count). Only multi-network stacks have a store of
 * definitions; for others the full observation reads the ranges from /etc/cni/net.d.
 */
export function networkCapacities(networks: ClusterNetworks, node: string): Map<string, number> {
  let perNode = capacityCache.get(networks);
  if (!perNode) capacityCache.set(networks, (perNode = new Map()));
  const cached = perNode.get(node);
  if (cached) return cached;
  const out = new Map<string, number>();
  if (networks.multi) {
    const at = networks.placement(node);
    for (const name of networks.store.known()) {
      const def = networks.store.profileDef(name)!;
      const list = renderNetwork(def, at, def.conflist.cniVersion);
      for (const plugin of list.plugins) {
        const ipam = plugin.ipam as Record<string, unknown> | undefined;
        if (!ipam || ipam.type !== 'host-local') continue;
        const ranges = Array.isArray(ipam.ranges) ? (ipam.ranges as Record<string, string>[][]).flat() : [ipam as Record<string, string>];
        const caps = ranges.map((r) => rangeCapacity(r));
        if (caps.every((c) => c !== undefined)) out.set(name, caps.reduce((a, b) => a! + b!, 0)!);
      }
    }
  }
  perNode.set(node, out);
  return out;
}
