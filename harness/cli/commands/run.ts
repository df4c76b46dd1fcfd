// faultline run <files or dirs>: every cell of every scenario, reports under reports/<run-id>/.
import path from 'node:path';
import type { Command } from '../command.ts';
import { loadScenarios } from '../../scenario/load.ts';
import { parseOnly } from '../../scenario/matrix.ts';
import { defaultJobs, runCells } from '../../runner/run.ts';
import { planCells, type CellPlan } from '../../runner/cell.ts';
import { allReapers, getBackend } from '../../backends/index.ts';
import { createReporters, DEFAULT_REPORTERS } from '../../reporters/index.ts';
import { runExitCode } from '../../runner/outcome.ts';
import { FaultlineError } from '../../errors.ts';
import { decimalFlag, maxCellsFlag, maxCellsHelp, maxCellsOption } from '../flags.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import type { RunReport } from '../../model/report.ts';
import { shrinkCell, type ShrinkOutcome } from '../../shrink/shrink.ts';

/** Most cells run at once; more would only queue behind the machine's cores. */
export const MAX_JOBS = 1024;

export const runCommand: Command = {
  name: 'run',
  summary: 'Run scenarios (files or directories) across their matrix and write reports.',
  usage: 'faultline run <files or dirs...> [--out DIR] [--only dim=value]... [--suite NAME] [--jobs N] [--seed N] [--reporter NAME]... [--backend NAME] [--shrink [--shrink-runs N]] [--max-cells N]',
  optionHelp: {
    out: 'report directory (default reports/<run-id>)',
    only: 'run only the cells with this matrix value, e.g. --only harvester=v1.4.2',
    suite: 'run only the scenarios that list this suite (npm start: default)',
    jobs: 'cells run at once, each with its own nodes (default: number of cores)',
    seed: 'seed for container ids and churn schedules; the report states it, the same seed replays a run',
    reporter: 'console, json, junit, markdown, html (default: all)',
    backend: 'run every cell on this backend instead of the scenario\'s cluster.backend (local)',
    shrink: 'for a failing churn cell, search a smaller schedule that fails the same way and write it as a scenario',
    'shrink-runs': 'most runs the shrink search may make',
    ...maxCellsHelp,
  },
  options: {
    out: { type: 'string' },
    only: { type: 'string', multiple: true },
    suite: { type: 'string' },
    jobs: { type: 'string' },
    seed: { type: 'string' },
    reporter: { type: 'string', multiple: true },
    backend: { type: 'string' },
    shrink: { type: 'boolean' },
    'shrink-runs': { type: 'string' },
    ...maxCellsOption,
  },
  async run(values, positionals, io) {
    if (!positionals.length) throw new FaultlineError('usage', 'name at least one scenario file or directory, e.g. faultline run scenarios/');
    const jobs = decimalFlag('jobs', values.jobs, 1, MAX_JOBS);
    const seed = decimalFlag('seed', values.seed, 0, Number.MAX_SAFE_INTEGER);
    const shrinkRuns = decimalFlag('shrink-runs', values['shrink-runs'], 1, 10_000);
    const limits = maxCellsFlag(values);
    if (values.out === '') throw new FaultlineError('usage', 'Expected the `--out` option to be a directory path, got an empty string');
    if (shrinkRuns !== undefined && !values.shrink) throw new FaultlineError('usage', '--shrink-runs needs --shrink');
    const backend = typeof values.backend === 'string' ? values.backend : undefined;
    if (backend !== undefined) getBackend(backend); // an unknown or planned name is a usage error, before any loading
    let scenarios = await loadScenarios(positionals.map((p) => path.resolve(p)), { ...limits, ...(backend ? { backend } : {}) });
    if (typeof values.suite === 'string') {
      const suite = values.suite;
      scenarios = scenarios.filter((s) => s.suites.includes(suite));
      if (!scenarios.length) throw new FaultlineError('usage', `--suite ${suite}: no scenario in ${positionals.join(', ')} belongs to suite '${suite}'`);
    }
    const only = parseOnly(values.only as string[] | undefined);
    // --only applies to scenarios that have the dimensions it names.
    const plans = planCells(scenarios, { only, ...(backend ? { backend } : {}) });
    const unusedOnly = [...only.keys()].filter((dim) => !scenarios.some((s) => dim in s.matrix));
    if (unusedOnly.length) throw new FaultlineError('usage', `--only ${unusedOnly[0]}=...: no scenario has a matrix dimension '${unusedOnly[0]}'`);
    if (!plans.length) throw new FaultlineError('usage', 'no cell to run');
    const reporters = createReporters((values.reporter as string[] | undefined) ?? DEFAULT_REPORTERS);
    const report = await runCells({
      cells: plans,
      ...(typeof values.out === 'string' ? { out: values.out } : {}),
      jobs: jobs ?? defaultJobs(plans.length),
      ...(seed !== undefined ? { seed } : {}),
      reporters,
      signal: io.signal,
      backends: getBackend,
      reapers: allReapers(),
      argv: process.argv.slice(2),
    });
    if (report.written?.length) io.err(`reports: ${report.written.join(', ')}`);
    if (values.shrink) await shrinkFailingChurns(plans, report, { signal: io.signal, out: io.out, ...(shrinkRuns !== undefined ? { maxRuns: shrinkRuns } : {}) });
    return runExitCode(report.cells);
  },
};

/** --shrink: every cell with a churn step and a failed assertion gets a smaller scenario written. */
async function shrinkFailingChurns(plans: CellPlan[], report: RunReport, opts: { signal: AbortSignal; out: (line: string) => void; maxRuns?: number }): Promise<void> {
  const outDir = path.join(report.outDir, 'shrunk');
  const outcomes: ShrinkOutcome[] = [];
  for (const plan of plans) {
    const cell = report.cells.find((c) => c.id === plan.id);
    if (!cell || !plan.scenario.steps.some((s) => s.kind === 'churn') || !cell.assertions.some((a) => a.status === 'fail')) continue;
    opts.out(`shrink: ${plan.id}: searching for a smaller schedule that still fails (seed ${cell.seed})`);
    const r = await shrinkCell(plan, cell, { outDir, seed: cell.seed, signal: opts.signal, env: { backends: getBackend, reapers: allReapers() }, ...(opts.maxRuns ? { maxRuns: opts.maxRuns } : {}), progress: (m) => opts.out(`  ${m}`) });
    outcomes.push(r);
    if (r.skipped) opts.out(`shrink: ${plan.id}: not shrunk: ${r.skipped} (${r.runs} run(s))`);
    else {
      opts.out(`shrink: ${plan.id}: ${r.from!.ops} ops at concurrency ${r.from!.concurrency} -> ${r.to!.ops} op(s) at concurrency ${r.to!.concurrency}, still failing ${r.target}; ${r.searchRuns ?? r.runs} search run(s) + ${r.runs - (r.searchRuns ?? r.runs)} verification run`);
      opts.out(`shrink: wrote ${r.file} (${r.verified ? `run on its own it fails ${r.target} again` : `WARNING: run on its own it did not fail ${r.target}`})`);
    }
  }
  if (!outcomes.length) {
    opts.out('shrink: no churn cell failed an assertion; nothing to shrink');
    return;
  }
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, 'shrink.json'), JSON.stringify(outcomes, null, 2) + '\n');
}
