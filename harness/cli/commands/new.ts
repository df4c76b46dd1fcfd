// `faultline new <name>`: writes a commented scenario skeleton that validates and runs as it is.
import { existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { EXIT, FaultlineError } from '../../errors.ts';
import { REPO_ROOT } from '../../version.ts';
import type { Command } from '../command.ts';
import { scenarioSkeleton } from '../../scenario/skeleton.ts';

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const newCommand: Command = {
  name: 'new',
  summary: 'Write a commented scenario skeleton (every step and check with its docs) that validates as it is',
  usage: 'faultline new <name> [--dir DIR]   (default dir: scenarios/ when it exists, else the current one)',
  optionHelp: { dir: 'where to write <name>.yaml' },
  options: { dir: { type: 'string' } },
  async run(values, positionals, io) {
    if (positionals.length !== 1) throw new FaultlineError('usage', `expected one scenario name, found ${positionals.length ? positionals.join(' ') : 'none'} (usage: ${newCommand.usage})`);
    const name = positionals[0]!;
    if (!NAME.test(name)) throw new FaultlineError('usage', `expected a lowercase name like netns-gone-before-del (letters, digits, '-'), found ${JSON.stringify(name)}`);
    const dir = typeof values.dir === 'string' ? values.dir : existsSync('scenarios') ? 'scenarios' : '.';
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new FaultlineError('usage', `--dir ${dir}: not a directory`);
    const file = path.join(dir, `${name}.yaml`);
    let fh;
    try {
      // Never overwrite: a scenario someone wrote is worth more than a skeleton.
      fh = await open(file, 'wx', 0o644);
      await fh.writeFile(scenarioSkeleton(name, path.resolve(dir), REPO_ROOT));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new FaultlineError('usage', `${file} already exists; choose another name or remove it`);
      throw new FaultlineError('environment', `cannot write ${file}: ${code ?? (e as Error).message}`);
    } finally {
      await fh?.close();
    }
    io.out(`wrote ${file}`);
    io.out(`next: edit it, then faultline validate ${file} && faultline run ${file}`);
    return EXIT.ok;
  },
};
