// `faultline validate <files or dirs>`: checks scenario files without running anything.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { EXIT, FaultlineError, InvalidInputError, formatLocation } from '../../errors.ts';
import { REPO_ROOT } from '../../version.ts';
import type { Command } from '../command.ts';
import { duplicateNames, findScenarioFiles, loadScenario } from '../../scenario/load.ts';
import { cellCount } from '../../scenario/matrix.ts';
import { maxCellsFlag, maxCellsHelp, maxCellsOption } from '../flags.ts';
import type { Scenario } from '../../model/scenario.ts';

/** `scenarios/` of the working directory, else of the faultline checkout. */
export function defaultScenarioDir(): string {
  return existsSync('scenarios') ? 'scenarios' : path.join(REPO_ROOT, 'scenarios');
}

export const validateCommand: Command = {
  name: 'validate',
  summary: 'Check scenario files (schema, matrix, CIDRs, profiles) without running them',
  usage: 'faultline validate [files or dirs...] [--max-cells N]   (default: scenarios/)',
  optionHelp: { ...maxCellsHelp },
  options: { ...maxCellsOption },
  async run(values, positionals, io) {
    const limits = maxCellsFlag(values);
    const files = await findScenarioFiles(positionals.length ? positionals : [defaultScenarioDir()]);
    if (!files.length) throw new FaultlineError('usage', `no scenario files (*.yaml, *.yml) in ${positionals.join(', ') || defaultScenarioDir()}`);
    const loaded: Scenario[] = [];
    let invalid = 0;
    for (const file of files) {
      try {
        const scenario = await loadScenario(file, limits);
        loaded.push(scenario);
        const cells = cellCount(scenario.matrix);
        io.out(`ok ${file} (${cells} cell${cells === 1 ? '' : 's'})`);
      } catch (e) {
        if (!(e instanceof InvalidInputError)) throw e;
        invalid++;
        for (const p of e.problems) io.err(`error: ${formatLocation(p.location)}: ${p.message}`);
      }
    }
    const clashes = duplicateNames(loaded);
    for (const p of clashes) io.err(`error: ${formatLocation(p.location)}: ${p.message}`);
    invalid += new Set(clashes.map((p) => p.location.file)).size;
    if (!invalid) return EXIT.ok;
    io.err(`${invalid} of ${files.length} scenario file${files.length === 1 ? '' : 's'} invalid`);
    return EXIT.invalidInput;
  },
};
