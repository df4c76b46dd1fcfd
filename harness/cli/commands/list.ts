// `faultline list [dirs]`: the scenarios there, with their description, matrix cells and suites.
import { EXIT, FaultlineError, InvalidInputError, formatLocation } from '../../errors.ts';
import type { Command } from '../command.ts';
import { duplicateNames, findScenarioFiles, loadScenario } from '../../scenario/load.ts';
import { expandMatrix, type Cell } from '../../scenario/matrix.ts';
import type { Scenario } from '../../model/scenario.ts';
import { defaultScenarioDir } from './validate.ts';
import { maxCellsFlag, maxCellsHelp, maxCellsOption } from '../flags.ts';

/** The description's first line, cut at its first sentence when it is long (folded YAML text). */
export function summaryLine(description: string): string {
  const first = description.trim().split('\n')[0]!.trim();
  if (first.length <= 100) return first;
  const sentence = /^.{20,100}?[.!?](?=\s)/.exec(first)?.[0];
  return sentence ?? `${first.slice(0, 97)}...`;
}

// "pass", "fail (a, b)" for an expected failure, "error (plugin: /regex/)" for an expected error.
function expectationText(cell: Cell): string {
  const e = cell.expectation;
  if (e.outcome === 'fail') return `fail (${e.failing.join(', ')})`;
  if (e.outcome === 'error' && e.error) return `error (${e.error.source}: /${e.error.match}/)`;
  return e.outcome;
}

export const listCommand: Command = {
  name: 'list',
  summary: 'List scenarios with their description, matrix cells and suites',
  usage: 'faultline list [dirs or files...] [--suite <name>] [--json] [--max-cells N]   (default: scenarios/)',
  optionHelp: { suite: 'only scenarios of this suite', json: 'machine-readable output', ...maxCellsHelp },
  options: {
    suite: { type: 'string', multiple: true },
    json: { type: 'boolean' },
    ...maxCellsOption,
  },
  async run(values, positionals, io) {
    const limits = maxCellsFlag(values);
    const dirs = positionals.length ? positionals : [defaultScenarioDir()];
    const suites = (values.suite as string[] | undefined) ?? [];
    const scenarios: Scenario[] = [];
    let invalid = false;
    for (const file of await findScenarioFiles(dirs)) {
      try {
        scenarios.push(await loadScenario(file, limits));
      } catch (e) {
        if (!(e instanceof InvalidInputError)) throw e;
        invalid = true;
        for (const p of e.problems) io.err(`error: ${formatLocation(p.location)}: ${p.message}`);
      }
    }
    for (const p of duplicateNames(scenarios)) {
      invalid = true;
      io.err(`error: ${formatLocation(p.location)}: ${p.message}`);
    }
    const shown = scenarios.filter((s) => !suites.length || suites.some((x) => (s.suites ?? []).includes(x)));
    if (suites.length && !shown.length && scenarios.length) {
      const known = [...new Set(scenarios.flatMap((s) => s.suites ?? []))].sort();
      throw new FaultlineError('usage', `--suite ${suites.join(', ')}: no scenario belongs to it; suites: ${known.join(', ') || 'none'}`);
    }

    if (values.json) {
      io.out(JSON.stringify(shown.map((s) => ({
        name: s.name,
        file: s.file,
        description: s.description,
        suites: s.suites ?? [],
        references: s.references ?? [],
        cells: expandMatrix(s).map((c) => ({ id: c.id, values: c.values, stack: c.stack, expect: c.expectation })),
      })), null, 2));
    } else if (!shown.length) {
      io.out(`no scenarios in ${dirs.join(', ')}`);
    } else {
      for (const s of shown) {
        const cells = expandMatrix(s);
        io.out(`${s.name}  (${s.file})`);
        io.out(`  ${summaryLine(s.description)}`);
        io.out(`  suites: ${(s.suites ?? []).join(', ') || '-'}`);
        io.out(`  cells (${cells.length}):`);
        for (const c of cells) io.out(`    ${c.id}  expect ${expectationText(c)}`);
      }
    }
    return invalid ? EXIT.invalidInput : EXIT.ok;
  },
};
