// Composes a cell's node agents: the cluster's network definitions, one runtime per node (from the
// runtime registry) and one agent (kubelet's role) over it, with each node's desired pods.
import type { Node } from '../backends/types.ts';
import type { ResolvedStack } from '../model/profile.ts';
import type { Timeline } from '../model/timeline.ts';
import type { Workload } from '../model/scenario.ts';
import type { NodeAgent } from '../agent/types.ts';
import { KubeletAgent, workloadPods, type KubeletOptions } from '../agent/node-agent.ts';
import { NetworkStore, type ClusterNetworks } from '../cluster/network-store.ts';
import { createRuntimes } from '../runtime/index.ts';
import type { Rng } from '../util/rng.ts';

export interface CellAgents {
  agents: NodeAgent[];
  networks: ClusterNetworks;
}

export function composeAgents(nodes: readonly Node[], stack: ResolvedStack, timeline: Timeline, rng: Rng, workloads: readonly Workload[], options: KubeletOptions = {}): CellAgents {
  const store = new NetworkStore(stack.profile.networks);
  const index = (name: string) => Math.max(0, nodes.findIndex((n) => n.name === name));
  const networks: ClusterNetworks = {
    store,
    multi: stack.profile.networks.some((n) => n.secondary),
    placement: (name) => ({ podSubnet: nodes[index(name)]!.spec.podSubnet, index: index(name) }),
  };
  // One id sequence for the cell: the same seed gives the same sandbox ids in the same order.
  const runtimes = createRuntimes({ nodes, stack, networks, newId: () => rng.hex(64) });
  const agents = nodes.map((node, i) => new KubeletAgent(node, runtimes[i]!, timeline, workloadPods(workloads, node.name, i + 1), options));
  return { agents, networks };
}
