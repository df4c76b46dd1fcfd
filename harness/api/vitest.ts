// faultline/vitest: a scenario file as vitest tests, one test per cell. A test passes when its cell
// ends as the scenario expects (passed, xfail, or the expected error), exactly when `faultline run`
// would exit 0 for it; otherwise it fails with the cell's reason and evidence as its message. An
// expected failure (xfail) therefore passes, named "[expected to fail]", with the reproduced bug as
// an annotation: `it.fails` would also pass a cell whose harness broke (error) and would lose the
// XPASS explanation, both of which CI must show as failures. After the file's tests, the cells that
// ran are written as one report (report.json and report.html by default).
// The one production file that imports vitest (an optional peer dependency).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, test } from 'vitest';
import { allReapers, getBackend } from '../backends/index.ts';
import { runCells, summarize } from '../runner/run.ts';
import { selectRun } from '../runner/select.ts';
import type { CellPlan } from '../runner/cell.ts';
import { createReporters, fanOut, writtenPaths, type ReporterSpec } from '../reporters/index.ts';
import { cellText } from '../reporters/format.ts';
import { newRunId } from '../ledger/ledger.ts';
import { FAULTLINE_VERSION } from '../version.ts';
import { FaultlineError } from '../errors.ts';
import type { CellReport, RunReport } from '../model/report.ts';
import os from 'node:os';

export interface ScenarioTestOptions {
  /** Keep the cells with these matrix values, e.g. `{ runtime: ['libcni-1.1', 'libcni-1.2'] }`. */
  only?: Readonly<Record<string, string | readonly string[]>>;
  /** Run every cell on this backend instead of the scenario's. */
  backend?: string;
  /** Seed for container ids and churn schedules; default random (each report states it). */
  seed?: number;
  /** Report directory; default `reports/vitest/<scenario file name>` under the working directory. */
  out?: string;
  /** Reporters of the report written after the tests; default ['json', 'html']; [] writes none. */
  reporters?: readonly ReporterSpec[];
  /** Per-cell timeout in ms (a hang guard); default 10 minutes. */
  timeout?: number;
  /** Run the cells at once (vitest's test.concurrent; vitest's maxConcurrency bounds it). */
  concurrent?: boolean;
  /** Most cells the scenario's matrix may have. */
  maxCells?: number;
}

/** What a test of a cell records in vitest's task meta (for custom vitest reporters). */
export interface FaultlineTaskMeta {
  cellId: string;
  outcome: CellReport['outcome'];
  asExpected: boolean;
  reason: string;
}

declare module 'vitest' {
  interface TaskMeta {
    faultline?: FaultlineTaskMeta;
  }
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/** The test's name: the cell id, marked when the scenario expects the cell to fail or to error. */
export function cellTestName(plan: Pick<CellPlan, 'id' | 'expectation'>): string {
  if (plan.expectation.outcome === 'fail') return `${plan.id} [expected to fail]`;
  if (plan.expectation.outcome === 'error') return `${plan.id} [expected error]`;
  return plan.id;
}

/** Why a cell's test fails (undefined: it passes): the cell in text, with where the report will be. */
export function cellFailure(cell: CellReport, reportDir: string): string | undefined {
  if (cell.asExpected) return undefined;
  return `${cellText(cell)}\n\nreport: ${path.join(reportDir, 'report.json')} (written after this file's tests)`;
}

function onlyFlags(only: ScenarioTestOptions['only']): Map<string, Set<string>> {
  return new Map(Object.entries(only ?? {}).map(([dim, v]) => [dim, new Set(Array.isArray(v) ? v : [v as string])]));
}

/**
 * Declares a vitest suite for a scenario file with one test per cell:
 *
 *     import { describeScenario } from 'faultline/vitest';
 *     describeScenario('scenarios/harvester-hard-reboot-ip-leak.yaml');
 *
 * An invalid scenario fails the file at collection with every problem at file:line:col.
 */
export function describeScenario(file: string | URL, options: ScenarioTestOptions = {}): void {
  const scenarioFile = path.resolve(file instanceof URL ? fileURLToPath(file) : file);
  const label = path.relative(process.cwd(), scenarioFile) || scenarioFile;
  const outDir = path.resolve(options.out ?? path.join('reports', 'vitest', path.basename(scenarioFile).replace(/\.ya?ml$/, '')));
  describe(label, async () => {
    const { cells } = await selectRun({
      paths: [scenarioFile],
      only: onlyFlags(options.only),
      ...(options.backend !== undefined ? { backend: options.backend } : {}),
      ...(options.maxCells !== undefined ? { maxCells: options.maxCells } : {}),
    });
    const done = new Map<string, CellReport>();
    const started = new Date();
    const declare = options.concurrent ? test.concurrent : test;
    for (const plan of cells) {
      declare(cellTestName(plan), { timeout: options.timeout ?? DEFAULT_TIMEOUT_MS }, async (ctx) => {
        const controller = new AbortController();
        ctx.onTestFailed?.(() => controller.abort(new FaultlineError('interrupted', 'the test failed or timed out')));
        const report = await runCells({
          cells: [plan],
          out: outDir,
          jobs: 1,
          ...(options.seed !== undefined ? { seed: options.seed } : {}),
          reporters: [],
          signal: controller.signal,
          backends: getBackend,
          reapers: allReapers(),
        });
        const cell = report.cells[0]!;
        done.set(cell.id, cell);
        ctx.task.meta.faultline = { cellId: cell.id, outcome: cell.outcome, asExpected: cell.asExpected, reason: cell.reason };
        const failure = cellFailure(cell, outDir);
        if (failure) {
          // The message is the whole story; a stack into faultline's own code would only add noise.
          const err = new Error(failure);
          err.stack = `Error: ${failure}`;
          throw err;
        }
        if (cell.outcome !== 'passed') await ctx.annotate?.(`${cell.outcome.toUpperCase()}: ${cell.reason}`, 'faultline');
      });
    }
    afterAll(async () => {
      const ran = cells.flatMap((p) => (done.has(p.id) ? [done.get(p.id)!] : []));
      const reporters = createReporters(options.reporters ?? ['json', 'html']);
      if (!ran.length || !reporters.length) return;
      const finished = new Date();
      const report: RunReport = {
        runId: newRunId(),
        startedAt: started.toISOString(),
        finishedAt: finished.toISOString(),
        durationMs: finished.getTime() - started.getTime(),
        faultlineVersion: FAULTLINE_VERSION,
        host: { hostname: os.hostname(), kernel: os.release(), cores: os.availableParallelism() },
        argv: [],
        outDir,
        summary: summarize(ran),
        cells: ran,
      };
      writtenPaths(await fanOut(reporters, 'onRunEnd', report));
    });
  });
}
