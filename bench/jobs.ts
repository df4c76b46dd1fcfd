// Issue 3 "Speed": the four-cell libcni-empty-cache-del matrix run through the real runner with
// --jobs 1 and --jobs 2, back to back in one process, wall time of each. A warm-up run first, so
// neither measurement pays for first-time work (plugin resolution, module loading, page cache).
import { registryEnv } from '../testing/run-env.ts';
import path from 'node:path';
import os from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadScenario } from '../harness/scenario/load.ts';
import { REPO_ROOT } from '../harness/version.ts';
import { FaultlineError } from '../harness/errors.ts';
import { runCells } from '../harness/runner/run.ts';
import { planCells, type CellPlan } from '../harness/runner/cell.ts';

export const BENCH_SCENARIO = path.join(REPO_ROOT, 'scenarios', 'libcni-empty-cache-del.yaml');

export interface BenchJobsResult {
  jobs1Ms: number;
  jobs2Ms: number;
  /** jobs1Ms / jobs2Ms. */
  speedup: number;
  cells: number;
  /** Every cell of both measured runs ended as its scenario expects. */
  asExpected: boolean;
}

export interface BenchJobsOptions {
  scenario?: string;
  /** Skip the warm-up run (default false). */
  noWarmup?: boolean;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export async function benchJobs(opts: BenchJobsOptions = {}): Promise<BenchJobsResult> {
  const scenario = await loadScenario(opts.scenario ?? BENCH_SCENARIO);
  // The four cells of faultline's libcni model: the --jobs speedup of the harness itself.
  const plans: CellPlan[] = planCells([scenario], { only: new Map([['runtime', new Set(['libcni-1.1', 'libcni-1.2'])]]) });
  const signal = opts.signal ?? new AbortController().signal;
  const outRoot = await mkdtemp(path.join(os.tmpdir(), 'faultline-bench-jobs-'));
  let asExpected = true;
  const timed = async (jobs: number, label: string): Promise<number> => {
    const t0 = performance.now();
    const report = await runCells({ cells: plans, jobs, out: path.join(outRoot, label), reporters: [], signal, seed: 1, ...registryEnv() });
    const ms = performance.now() - t0;
    if (label !== 'warmup') asExpected &&= report.summary.asExpected;
    const bad = report.cells.filter((c) => !c.asExpected);
    if (bad.length) opts.onProgress?.(`${label}: ${bad.map((c) => `${c.id} ${c.outcome}: ${c.reason}`).join('; ')}`);
    opts.onProgress?.(`${label}: ${plans.length} cells, --jobs ${jobs}: ${Math.round(ms)} ms`);
    return ms;
  };
  try {
    if (!opts.noWarmup) await timed(2, 'warmup');
    const jobs1Ms = await timed(1, 'jobs1');
    const jobs2Ms = await timed(2, 'jobs2');
    if (jobs2Ms <= 0) throw new FaultlineError('internal', 'bench: a run took no time');
    return { jobs1Ms: Math.round(jobs1Ms), jobs2Ms: Math.round(jobs2Ms), speedup: Math.round((jobs1Ms / jobs2Ms) * 100) / 100, cells: plans.length, asExpected };
  } finally {
    await rm(outRoot, { recursive: true, force: true });
  }
}
