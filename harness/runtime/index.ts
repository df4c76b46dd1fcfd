// The runtime registry: which implementation serves a cell's runtime. With the CLI, the only place that
// knows concrete runtimes (docs/ARCHITECTURE.md "Runtimes"): libcni-* profiles are served by the model,
// containerd-* by the real containerd over CRI.
import type { Node } from '../backends/types.ts';
import type { ResolvedStack } from '../model/profile.ts';
import type { SandboxRuntime } from './types.ts';
import { ModelRuntime } from './model/model-runtime.ts';
import { MultiNetwork } from './model/multi-network.ts';
import { CriRuntime } from './cri/cri-runtime.ts';
import type { ClusterNetworks } from '../cluster/network-store.ts';
import type { RuntimeCapability } from '../model/scenario.ts';

export interface RuntimeDeps {
  nodes: readonly Node[];
  stack: ResolvedStack;
  /** The cluster's network definitions (secondary networks attach from them, as Multus does). */
  networks: ClusterNetworks;
  /** Sandbox ids, seeded per cell (the model's; a real runtime makes its own). */
  newId: () => string;
}

/** One runtime per node, in node order. */
export function createRuntimes(deps: RuntimeDeps): SandboxRuntime[] {
  const { networks, stack } = deps;
  const rt = stack.runtime;
  if (rt.kind === 'containerd') {
    return deps.nodes.map((node) => new CriRuntime({ node, component: { version: rt.containerd.version, protoFile: rt.containerd.protoFile } }));
  }
  const multi = networks.multi ? new MultiNetwork(networks.store, stack, (node) => networks.placement(node.name)) : undefined;
  return deps.nodes.map((node) => new ModelRuntime({ node, stack, profile: rt.profile, newId: deps.newId, ...(multi ? { multi } : {}) }));
}

/** Why a real containerd cannot do each capability (FACTS.md section 7, containerd's CRI plugin). */
const CONTAINERD_CANNOT: Record<RuntimeCapability, string> = {
  'crash-points': 'its libcni cannot be stopped between two writes',
  'cni-gc': 'CNI GC is not a CRI call',
  'multi-network': 'its nodes run no Multus',
  'cni-args': "it builds CNI_ARGS itself from the pod's metadata (K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_INFRA_CONTAINER_ID, K8S_POD_UID, IgnoreUnknown) and CRI has no field for more",
};

/** What a runtime (by the name a scenario gives) can do, known before anything runs, and why not. */
export function runtimeCapabilities(runtime: string): { has: RuntimeCapability[]; why?: string; whyNot(cap: RuntimeCapability): string | undefined } {
  if (runtime.startsWith('containerd-')) {
    return {
      has: [],
      why: `${runtime} is a real containerd: ${Object.values(CONTAINERD_CANNOT).join(', ')}`,
      whyNot: (cap) => `${runtime} is a real containerd: ${CONTAINERD_CANNOT[cap]}`,
    };
  }
  return { has: ['crash-points', 'cni-gc', 'multi-network', 'cni-args'], whyNot: () => undefined };
}
