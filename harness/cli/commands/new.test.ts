// `faultline new <name>`: the skeleton validates and runs as it is, lists every step and check with
// its docs, never overwrites a file, and refuses a bad name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { newCommand } from './new.ts';
import { validateCommand } from './validate.ts';
import { faults } from '../../faults/index.ts';
import { assertions } from '../../assertions/index.ts';
import { FaultlineError } from '../../errors.ts';
import { loadScenario } from '../../scenario/load.ts';
import { planCells } from '../../runner/cell.ts';
import { runCells } from '../../runner/run.ts';
import { useTempStateDir } from '../../../testing/host.ts';
import { registryEnv } from '../../../testing/run-env.ts';

let dir: string;
const lines: string[] = [];
const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), signal: new AbortController().signal };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-new-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('faultline new', () => {
  it('writes <name>.yaml that validates as it is, with the schema modeline', async () => {
    expect(await newCommand.run({ dir }, ['my-bug'], io)).toBe(0);
    const file = path.join(dir, 'my-bug.yaml');
    expect(lines).toContain(`wrote ${file}`);
    const text = await readFile(file, 'utf8');
    expect(text.split('\n')[0]).toBe(`# yaml-language-server: $schema=${path.relative(dir, path.resolve(import.meta.dirname, '../../../schemas/scenario.schema.json'))}`);
    expect(await validateCommand.run({}, [file], io)).toBe(0);
    expect(text.split('\n').filter((l) => l.length > 100)).toEqual([]);
  });

  it('documents every registered step (and repeat) and every check, with their parameters', async () => {
    const text = await readFile(path.join(dir, 'my-bug.yaml'), 'utf8');
    for (const f of faults) expect(text, f.name).toContain(`#   ${f.name}: `);
    for (const a of assertions) expect(text, a.name).toContain(`#   ${a.name}: `);
    expect(text).toContain('#   repeat: Run the steps, in order, `times` times');
    expect(text).toMatch(/#       concurrency \(integer >= 1, <= 256; default 1\): How many pods are created at once/);
    expect(text).toMatch(/#       pods \(list; optional\): These pods, by name\./);
  });

  it('runs and passes as written (a real cell on the model)', async () => {
    const state = await useTempStateDir();
    const out = await mkdtemp(path.join(os.tmpdir(), 'fl-new-run-'));
    try {
      const sc = await loadScenario(path.join(dir, 'my-bug.yaml'));
      const report = await runCells({ cells: planCells([sc]), jobs: 1, out, reporters: [], signal: new AbortController().signal, seed: 1, ...registryEnv() });
      expect(report.cells.map((c) => [c.outcome, c.reason])).toEqual([['passed', 'all 6 check(s) held']]);
      expect(report.cells[0]!.timeline.filter((e) => e.kind === 'step').map((e) => e.kind === 'step' && e.number)).toEqual(['1', '2.1.1', '2.1.2', '2.2.1', '2.2.2', '3']);
    } finally {
      await rm(out, { recursive: true, force: true });
      await state.restore();
    }
  });

  it('never overwrites a file, and refuses a bad name or a missing directory', async () => {
    const file = path.join(dir, 'mine.yaml');
    await writeFile(file, 'mine\n');
    await expect(newCommand.run({ dir }, ['mine'], io)).rejects.toThrow(new FaultlineError('usage', `${file} already exists; choose another name or remove it`));
    expect(await readFile(file, 'utf8')).toBe('mine\n');
    await expect(newCommand.run({ dir }, ['My Bug'], io)).rejects.toThrow(/expected a lowercase name like netns-gone-before-del/);
    await expect(newCommand.run({ dir }, [], io)).rejects.toThrow(/expected one scenario name, found none/);
    await expect(newCommand.run({ dir: path.join(dir, 'nope') }, ['x'], io)).rejects.toThrow(/--dir .*nope: not a directory/);
  });
});
