// A snapshot of a node after a step: what the disk, the kernel and the runtime say.
import type { NodeSnapshot } from '../model/snapshot.ts';
import type { NodeAgent } from '../agent/types.ts';
import type { ClusterNetworks } from '../cluster/network-store.ts';
import { readReservations } from './reservations.ts';
import { readLinks } from './links.ts';
import { readHeadroom } from './headroom.ts';
import { readCacheEntries } from '../runtime/libcni/cache.ts';
import { nodeRuntimeIo } from '../runtime/libcni/node-io.ts';
import { readIptablesChains } from './iptables.ts';
import { observeMultusConfig } from './multus-config.ts';
import { networkCapacities } from './accounting.ts';

export async function observeNode(agent: NodeAgent, networks: ClusterNetworks): Promise<NodeSnapshot> {
  const node = agent.node;
  const reservations = await readReservations(node);
  const attachments = agent.attachments();
  const snap: NodeSnapshot = { node: node.name, running: node.running, reservations, attachments, links: [], netns: [] };
  if (node.bootedAtMs !== undefined) snap.bootedAtMs = node.bootedAtMs;
  snap.cache = await readCacheEntries(nodeRuntimeIo(node).cacheFs, '/var/lib/cni');
  snap.headroom = await readHeadroom(node, reservations);
  // Secondary networks are definitions in the cluster store, not files in net.d.
  for (const [net, capacity] of networkCapacities(networks, node.name)) {
    if (snap.headroom[net]) continue;
    const used = reservations.filter((r) => r.network === net).length;
    snap.headroom[net] = { capacity, used, free: Math.max(0, capacity - used) };
  }
  const multus = await observeMultusConfig(node);
  if (multus.present) snap.multusConfig = multus;
  if (node.running) {
    const { links, netns } = await readLinks(node);
    snap.links = links;
    snap.netns = netns;
    snap.iptables = await readIptablesChains(node);
    if ((await agent.runtime.status().catch(() => undefined))?.ready) {
      snap.sandboxes = (await agent.runtime.listPodSandbox()).map((s) => ({ id: s.id, pod: s.pod, state: s.state, createdAtMs: s.createdAtMs }));
    }
  }
  return snap;
}
