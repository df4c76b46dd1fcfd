// The backend registry: every backend this version of faultline knows, by the name scenarios and
// --backend use. With the CLI, the only place that knows concrete backends (docs/ARCHITECTURE.md).
import { FaultlineError } from '../errors.ts';
import type { RunReaper } from '../ledger/ledger.ts';
import type { Backend } from './types.ts';
import { LocalBackend } from './local/local-backend.ts';
import { KindBackend } from './kind/kind-backend.ts';
import { ContainerBackend } from './container/container-backend.ts';

const FACTORIES: Record<string, () => Backend> = {
  local: () => new LocalBackend(),
  container: () => new ContainerBackend(),
  kind: () => new KindBackend(),
};

/** Every backend name a scenario may write (the schema's enum). */
export const KNOWN_BACKENDS: readonly string[] = Object.keys(FACTORIES);

export function availableBackends(): string[] {
  return Object.keys(FACTORIES);
}

/** Why no backend has that name, or undefined when one does. */
export function unavailableReason(name: string): string | undefined {
  if (FACTORIES[name]) return undefined;
  return `no backend named '${name}' (available: ${availableBackends().join(', ')})`;
}

const instances = new Map<string, Backend>();

/** The backend of that name (one instance per process). Unknown names are usage errors. */
export function getBackend(name: string): Backend {
  const existing = instances.get(name);
  if (existing) return existing;
  const make = FACTORIES[name];
  if (!make) throw new FaultlineError('usage', `backend '${name}' is not available: ${unavailableReason(name)}`);
  const backend = make();
  instances.set(name, backend);
  return backend;
}

/** The reaper of every available backend (what `faultline gc` and a run's release ask). */
export function allReapers(): RunReaper[] {
  return availableBackends().map((n) => getBackend(n).reaper);
}
