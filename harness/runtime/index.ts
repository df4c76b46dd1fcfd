// The runtime registry: which implementation serves a cell's runtime profile. With the CLI, the
// only place that knows concrete runtimes (docs/ARCHITECTURE.md "Runtimes").
import type { Node } from '../backends/types.ts';
import type { ResolvedStack } from '../model/profile.ts';
import type { SandboxRuntime } from './types.ts';
import { ModelRuntime } from './model/model-runtime.ts';
import type { MultiNetwork } from './model/multi-network.ts';

export interface RuntimeDeps {
  node: Node;
  stack: ResolvedStack;
  /** Sandbox ids, seeded per cell. */
  newId: () => string;
  /** Multus-style attachment of secondary networks (multi-network stacks). */
  multi?: MultiNetwork;
}

/** The runtime of one node for this stack. Runtime profiles libcni-* are served by the model. */
export function createRuntime(deps: RuntimeDeps): SandboxRuntime {
  return new ModelRuntime(deps);
}
