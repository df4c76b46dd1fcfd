// What every backend's cluster teardown does with its parts: take them down stage by stage (a stage's
// parts at once), then report every part that failed in one error: a failed part must not stop the
// others from being removed.
import { FaultlineError, errorMessage } from '../errors.ts';

export interface TeardownPart {
  name: string;
  down: () => Promise<unknown>;
}

/** Settles every stage in turn and throws one environment error naming each part that failed. */
export async function tearDownAll(...stages: readonly (readonly TeardownPart[])[]): Promise<void> {
  const failed: { name: string; reason: unknown }[] = [];
  for (const parts of stages) {
    const results = await Promise.allSettled(parts.map((p) => p.down()));
    results.forEach((r, i) => {
      if (r.status === 'rejected') failed.push({ name: parts[i]!.name, reason: r.reason });
    });
  }
  if (!failed.length) return;
  throw new FaultlineError('environment', `cluster teardown left problems:\n${failed.map((f) => `${f.name}: ${errorMessage(f.reason)}`).join('\n')}`, {
    cause: new AggregateError(failed.map((f) => f.reason)),
    hint: "run 'faultline gc' once faultline has exited",
  });
}
