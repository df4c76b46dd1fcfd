// A run: load and expand scenarios, run the cells (in parallel up to --jobs, each with its own
// cluster), feed reporters, and leave nothing behind but the report.
import os from 'node:os';
import path from 'node:path';
import type { Backend } from '../backends/types.ts';
import { isKubeBackend } from '../backends/kube-types.ts';
import { kubePreflightCells, runKubeCell } from './kube-cell.ts';
import type { CellReport, Outcome, RunReport, ShardInfo } from '../model/report.ts';
import type { Reporter } from '../reporters/types.ts';
import { runCell, type CellEnv, type CellPlan } from './cell.ts';
import { FAULTLINE_VERSION, REPO_ROOT } from '../version.ts';
import { FaultlineError } from '../errors.ts';
import { randomSeed } from '../util/rng.ts';
import { createRun, newRunId, type RunReaper } from '../ledger/ledger.ts';
import { prepareOutDir } from '../reporters/out-dir.ts';
import { fanOut, writtenPaths } from '../reporters/index.ts';

/** Where cells run: the backends by name (the registry, composed by the CLI) and their reapers. */
export interface RunEnvironment {
  backends: (name: string) => Backend;
  /** What the run's release asks to remove leftovers (every backend's reaper). */
  reapers: readonly RunReaper[];
}

export interface RunOptions extends RunEnvironment {
  cells: CellPlan[];
  /** Report directory; default <reportsRoot>/<run-id>. */
  out?: string;
  /** Where a run without `out` puts its report directory; default the checkout's reports/. */
  reportsRoot?: string;
  jobs?: number;
  seed?: number;
  reporters: Reporter[];
  signal: AbortSignal;
  argv?: string[];
  /** `cells` are this shard of a bigger run (see shard.ts); the report says so. */
  shard?: ShardInfo;
}

const OUTCOMES: Outcome[] = ['passed', 'failed', 'xfail', 'xpass', 'error'];

/** The run's summary: counts per outcome, the total, and whether every cell is as expected. */
export function summarize(cells: readonly CellReport[]): RunReport['summary'] {
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, cells.filter((c) => c.outcome === o).length])) as Record<Outcome, number>;
  return { ...counts, total: cells.length, asExpected: cells.every((c) => c.asExpected) };
}

export function defaultJobs(cells: number): number {
  return Math.max(1, Math.min(cells, os.availableParallelism()));
}

export async function runCells(opts: RunOptions): Promise<RunReport> {
  for (const name of [...new Set(opts.cells.map((c) => c.backend))]) {
    const backend = opts.backends(name);
    const problems = (await backend.check()).filter((c) => !c.ok);
    if (problems.length) {
      throw new FaultlineError('prerequisite', `the ${backend.name} backend cannot run here:\n${problems.map((p) => `  - ${p.detail}${p.fix ? ` (fix: ${p.fix})` : ''}`).join('\n')}`, {
        hint: "run 'faultline doctor' for every prerequisite",
      });
    }
  }
  // The report dir is proven writable before the run exists: a run that could not report must not start.
  const runId = newRunId();
  // Backends of real Kubernetes check each cell before anything is created (tools, configs, images).
  for (const name of [...new Set(opts.cells.map((c) => c.backend))]) {
    const backend = opts.backends(name);
    if (!isKubeBackend(backend)) continue;
    const cells = await kubePreflightCells(opts.cells.filter((c) => c.backend === name), backend, runId);
    await backend.kube.preflight(cells, { signal: opts.signal });
  }
  const outDir = path.resolve(opts.out ?? path.join(opts.reportsRoot ?? path.join(REPO_ROOT, 'reports'), runId));
  const undoOutDir = await prepareOutDir(opts.out ?? outDir, opts.out === undefined ? `the report directory ${outDir}` : `--out ${opts.out}`);
  const run = await createRun({ runId }).catch(async (e: unknown) => {
    await undoOutDir();
    throw e;
  });
  const seed = opts.seed ?? randomSeed();
  const startedAt = new Date();
  const fan = <K extends keyof Reporter>(hook: K, ...args: Parameters<NonNullable<Reporter[K]>>) => fanOut(opts.reporters, hook, ...args);
  const reports: CellReport[] = new Array(opts.cells.length);
  try {
    await fan('onRunStart', { runId: run.runId, outDir, cells: opts.cells.map((c) => ({ id: c.id })) });
    const jobs = Math.max(1, Math.min(opts.jobs ?? 1, opts.cells.length));
    let next = 0;
    const worker = async () => {
      while (next < opts.cells.length) {
        const i = next++;
        const plan = opts.cells[i]!;
        await fan('onCellStart', { id: plan.id });
        const backend = opts.backends(plan.backend);
        // Real Kubernetes (kind): the cell runs through the API (runner/kube-cell.ts).
        const report = await (isKubeBackend(backend) ? (e: CellEnv) => runKubeCell(plan, { ...e, backend }) : (e: CellEnv) => runCell(plan, e))({
          runId: run.runId,
          backend,
          workDir: run.workDir,
          reportDir: outDir,
          seed,
          signal: opts.signal,
          // Progress is best effort: a reporter failing here must not stop the cell.
          progress: (id, m) => void fan('onProgress', id, m).catch(() => undefined),
        });
        reports[i] = report;
        await fan('onCellEnd', report);
      }
    };
    await Promise.all(Array.from({ length: jobs }, worker));
  } finally {
    await run.release(opts.reapers);
  }
  const cells = reports.filter(Boolean);
  const finishedAt = new Date();
  const report: RunReport = {
    runId: run.runId,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    faultlineVersion: FAULTLINE_VERSION,
    host: { hostname: os.hostname(), kernel: os.release(), cores: os.availableParallelism() },
    argv: opts.argv ?? [],
    outDir,
    summary: summarize(cells),
    cells,
    ...(opts.shard ? { shard: opts.shard } : {}),
  };
  report.written = writtenPaths(await fan('onRunEnd', report));
  if (opts.signal.aborted) throw opts.signal.reason instanceof FaultlineError ? opts.signal.reason : new FaultlineError('interrupted', 'interrupted');
  return report;
}
