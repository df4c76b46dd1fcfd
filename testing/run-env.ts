// The run environment tests and benchmarks use: the backend registry, as the CLI composes it.
import { allReapers, getBackend } from '../harness/backends/index.ts';
import type { RunEnvironment } from '../harness/runner/run.ts';

export function registryEnv(): RunEnvironment {
  return { backends: getBackend, reapers: allReapers() };
}
