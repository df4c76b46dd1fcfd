// Benchmark: wall time of a whole scenario (all its cells) through the runner, as `faultline run` does it.
import { registryEnv } from '../testing/run-env.ts';
import path from 'node:path';
import { loadScenarios } from '../harness/scenario/load.ts';
import { defaultJobs, runCells } from '../harness/runner/run.ts';
import { planCells, type CellPlan } from '../harness/runner/cell.ts';
import { REPO_ROOT } from '../harness/version.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';

/** Wall time of every cell of a scenario file or directory (a suite's scenarios only, when named). */
export async function benchScenarioWall(fileOrDir: string, jobs?: number, suite?: string): Promise<{ cells: number; jobs: number; wallMs: number; outcomes: string }> {
  const scenarios = (await loadScenarios([path.resolve(REPO_ROOT, fileOrDir)])).filter((s) => !suite || s.suites.includes(suite));
  const plans: CellPlan[] = planCells(scenarios);
  const out = await mkdtemp(path.join(os.tmpdir(), 'faultline-bench-'));
  const j = jobs ?? defaultJobs(plans.length);
  try {
    const t0 = performance.now();
    const report = await runCells({ cells: plans, out, jobs: j, reporters: [], signal: new AbortController().signal, ...registryEnv() });
    const wallMs = performance.now() - t0;
    return { cells: plans.length, jobs: j, wallMs, outcomes: report.cells.map((c) => c.outcome).join(', ') };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
