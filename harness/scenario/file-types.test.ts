// A scenario path is read only when it is a regular file: a FIFO (which would wait for a writer for
// ever), a device (which never ends) or a directory named like a scenario file is refused by its
// type before any read, naming the path; the read itself is capped.
import { execa } from 'execa';
import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { looksClean, refusal, tempDir } from '../../testing/cli.ts';
import { MAX_SCENARIO_BYTES } from './load.ts';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let fifo: string;
let dirYaml: string;
let dirWithFifo: string;
let tooBig: string;
beforeAll(async () => {
  tmp = await tempDir('fl-file-types-');
  fifo = path.join(tmp.dir, 'pipe.yaml');
  await execa('mkfifo', [fifo]);
  dirYaml = path.join(tmp.dir, 'x.yaml');
  await mkdir(dirYaml);
  dirWithFifo = path.join(tmp.dir, 'suite');
  await mkdir(dirWithFifo);
  await execa('mkfifo', [path.join(dirWithFifo, 'inner.yaml')]);
  tooBig = path.join(tmp.dir, 'big.yaml');
  await writeFile(tooBig, `# ${'x'.repeat(MAX_SCENARIO_BYTES)}\nname: big\n`);
});
afterAll(async () => {
  await tmp.cleanup();
});

const TITLES = ['a FIFO', 'a FIFO inside a directory given', 'a device', '/dev/null', 'a directory named x.yaml', 'a file over 1 MiB'];

describe('a scenario path that is not a regular file', () => {
  const cases = (): [string, string, string][] => [
    ['a FIFO', fifo, `${fifo}: expected a scenario file (a regular YAML file), found a FIFO (named pipe)`],
    ['a FIFO inside a directory given', dirWithFifo, `${path.join(dirWithFifo, 'inner.yaml')}: expected a scenario file (a regular YAML file), found a FIFO (named pipe)`],
    ['a device', '/dev/urandom', '/dev/urandom: expected a scenario file (a regular YAML file), found a character device'],
    ['/dev/null', '/dev/null', '/dev/null: expected a scenario file (a regular YAML file), found a character device'],
    ['a directory named x.yaml', dirYaml, `${dirYaml}: expected a scenario file (a regular YAML file), found a directory`],
    ['a file over 1 MiB', tooBig, `${tooBig}: the file has ${MAX_SCENARIO_BYTES + 13} bytes; scenario files are limited to 1 MiB`],
  ];
  for (const cmd of ['validate', 'run', 'list'] as const) {
    it.each(TITLES.map((t, i) => [t, i] as const))(`faultline ${cmd} refuses %s by its type, exit 2, creating nothing`, async (_what, i) => {
      const [, file, message] = cases()[i]!;
      const out = path.join(tmp.dir, `out-${cmd}-${i}`);
      const r = await refusal(cmd === 'run' ? ['run', file, '--out', out] : [cmd, file]);
      expect(r.exitCode, r.output).toBe(2);
      expect(r.output).toContain(`error: ${message}`);
      expect(looksClean(r.output), r.output).toBe(true);
      expect(existsSync(out)).toBe(false);
      expect(r.runsDirCreated).toBe(false);
    });
  }
});
