// The runtime registry: which implementation serves a cell's runtime profile. With the CLI, the
// only place that knows concrete runtimes (docs/ARCHITECTURE.md "Runtimes").
import type { Node } from '../backends/types.ts';
import type { ResolvedStack } from '../model/profile.ts';
import type { SandboxRuntime } from './types.ts';
import { ModelRuntime } from './model/model-runtime.ts';
import { MultiNetwork } from './model/multi-network.ts';
import type { ClusterNetworks } from '../cluster/network-store.ts';

export interface RuntimeDeps {
  nodes: readonly Node[];
  stack: ResolvedStack;
  /** The cluster's network definitions (secondary networks attach from them, as Multus does). */
  networks: ClusterNetworks;
  /** Sandbox ids, seeded per cell. */
  newId: () => string;
}

/** One runtime per node, in node order. Runtime profiles libcni-* are served by the model. */
export function createRuntimes(deps: RuntimeDeps): SandboxRuntime[] {
  const { networks, stack } = deps;
  const multi = networks.multi ? new MultiNetwork(networks.store, stack, (node) => networks.placement(node.name)) : undefined;
  return deps.nodes.map((node) => new ModelRuntime({ node, stack, newId: deps.newId, ...(multi ? { multi } : {}) }));
}
