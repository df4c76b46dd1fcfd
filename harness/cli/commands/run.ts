// faultline run <files or dirs>: every cell of every scenario, reports under reports/<run-id>/.
import path from 'node:path';
import type { Command } from '../command.ts';
import { loadScenarios } from '../../scenario/load.ts';
import { expandMatrix, parseOnly, selectCells } from '../../scenario/matrix.ts';
import { defaultJobs, runCells } from '../../runner/run.ts';
import type { CellPlan } from '../../runner/cell.ts';
import { createReporters, DEFAULT_REPORTERS, writtenPaths } from '../../reporters/index.ts';
import { FaultlineError } from '../../errors.ts';
import { EXIT } from '../../errors.ts';

function intFlag(name: string, raw: unknown, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new FaultlineError('usage', `Expected the \`--${name}\` option to be an integer >= ${min}, got \`${String(raw)}\``);
  return n;
}

export const runCommand: Command = {
  name: 'run',
  summary: 'Run scenarios (files or directories) across their matrix and write reports.',
  usage: 'faultline run <files or dirs...> [--out DIR] [--only dim=value]... [--suite NAME] [--jobs N] [--seed N] [--reporter NAME]...',
  options: {
    out: { type: 'string' },
    only: { type: 'string', multiple: true },
    suite: { type: 'string' },
    jobs: { type: 'string' },
    seed: { type: 'string' },
    reporter: { type: 'string', multiple: true },
  },
  async run(values, positionals, io) {
    if (!positionals.length) throw new FaultlineError('usage', 'name at least one scenario file or directory, e.g. faultline run scenarios/');
    const jobs = intFlag('jobs', values.jobs, 1);
    const seed = intFlag('seed', values.seed, 0);
    let scenarios = await loadScenarios(positionals.map((p) => path.resolve(p)));
    if (typeof values.suite === 'string') {
      const suite = values.suite;
      scenarios = scenarios.filter((s) => s.suites.includes(suite));
      if (!scenarios.length) throw new FaultlineError('usage', `--suite ${suite}: no scenario in ${positionals.join(', ')} belongs to suite '${suite}'`);
    }
    const only = parseOnly(values.only as string[] | undefined);
    const plans: CellPlan[] = [];
    for (const scenario of scenarios) {
      // --only applies to scenarios that have the dimensions it names.
      const applicable = new Map([...only].filter(([dim]) => dim in scenario.matrix));
      const cells = selectCells(scenario, expandMatrix(scenario), applicable);
      for (const c of cells) plans.push({ index: plans.length, id: c.id, scenario, values: { ...c.values }, stack: c.stack, expectation: c.expectation });
    }
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
      argv: process.argv.slice(2),
    });
    void writtenPaths;
    return report.summary.asExpected ? EXIT.ok : EXIT.unexpectedOutcome;
  },
};
