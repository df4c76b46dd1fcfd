// faultline run <files or dirs>: every cell of every scenario, reports under reports/<run-id>/.
import path from 'node:path';
import type { Command } from '../command.ts';
import { parseOnly } from '../../scenario/matrix.ts';
import { defaultJobs, runCells } from '../../runner/run.ts';
import type { CellPlan } from '../../runner/cell.ts';
import { selectRun } from '../../runner/select.ts';
import { parseShard, readDurations } from '../../runner/shard.ts';
import { allReapers, getBackend } from '../../backends/index.ts';
import { createReporters, DEFAULT_REPORTERS } from '../../reporters/index.ts';
import { runExitCode } from '../../runner/outcome.ts';
import { FaultlineError } from '../../errors.ts';
import { decimalFlag, maxCellsFlag, maxCellsHelp, maxCellsOption } from '../flags.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import type { RunReport } from '../../model/report.ts';
import { shrinkCell, type ShrinkOutcome } from '../../shrink/shrink.ts';

/** A run label: printable, one line, short enough to read in a report. */
const RUN_LABEL = /^[\x21-\x7e][\x20-\x7e]{0,199}$/;

/** Most cells run at once; more would only queue behind the machine's cores. */
export const MAX_JOBS = 1024;

export const runCommand: Command = {
  name: 'run',
  summary: 'Run scenarios (files or directories) across their matrix and write reports.',
  usage: 'faultline run <files or dirs...> [--out DIR] [--only dim=value]... [--suite NAME] [--jobs N] [--seed N] [--reporter NAME]... [--backend NAME] [--shard i/n [--durations FILE] [--run-label TEXT]] [--shrink [--shrink-runs N]] [--max-cells N]',
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
    shard: 'run only shard i of n (e.g. 2/4): a deterministic slice of the cells; merge the shards with merge-reports',
    durations: 'with --shard: balance the shards by the cell durations of an earlier report.json (default: by count)',
    'run-label': 'with --shard: a name for this run (e.g. the CI pipeline id), so merge-reports never mixes shards of two runs',
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
    shard: { type: 'string' },
    durations: { type: 'string' },
    'run-label': { type: 'string' },
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
    const shard = values.shard === undefined ? undefined : parseShard(values.shard);
    if (values.durations !== undefined && !shard) throw new FaultlineError('usage', '--durations needs --shard (it balances the shards)');
    if (values['run-label'] !== undefined && !shard) throw new FaultlineError('usage', '--run-label needs --shard (it tells the shards of one run apart from another\'s)');
    const label = typeof values['run-label'] === 'string' ? values['run-label'] : undefined;
    if (label !== undefined && !RUN_LABEL.test(label)) throw new FaultlineError('usage', `Expected the \`--run-label\` option to be 1 to 200 printable characters, got \`${label}\``);
    const backend = typeof values.backend === 'string' ? values.backend : undefined;
    if (backend !== undefined) getBackend(backend); // an unknown or planned name is a usage error, before any loading
    const durations = typeof values.durations === 'string' ? await readDurations(values.durations) : undefined;
    const selection = await selectRun({
      paths: positionals,
      ...(typeof values.suite === 'string' ? { suite: values.suite } : {}),
      only: parseOnly(values.only as string[] | undefined),
      ...(backend ? { backend } : {}),
      ...limits,
      ...(shard ? { shard } : {}),
      ...(durations ? { durations } : {}),
      ...(label !== undefined ? { label } : {}),
    });
    const plans = selection.cells;
    if (selection.shard) io.err(`shard ${selection.shard.index}/${selection.shard.total}: ${plans.length} of ${selection.shard.plan.length} cells (balanced by ${selection.shard.balance}; run key ${selection.shard.runKey})`);
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
      ...(selection.shard ? { shard: selection.shard } : {}),
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
