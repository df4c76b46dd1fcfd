import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gcCommand } from './gc.ts';
import type { CommandIO } from '../command.ts';
import { deadProcess, useTempStateDir, writeFakeRun } from '../../../testing/host.ts';

let state: Awaited<ReturnType<typeof useTempStateDir>>;
beforeAll(async () => {
  state = await useTempStateDir();
});
afterAll(async () => {
  await state.restore();
});

function io(): CommandIO & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), signal: new AbortController().signal };
}

describe('faultline gc', () => {
  it('says there is nothing to do on an empty state dir', async () => {
    const o = io();
    expect(await gcCommand.run({}, [], o)).toBe(0);
    expect(o.lines).toEqual([`state dir: ${state.dir}`, 'nothing to clean up']);
  });

  it('with --dry-run only says what it would remove, then removes it', async () => {
    const dir = await writeFakeRun(state.dir, 'fl-20250101-000003-000001', await deadProcess());
    const dry = io();
    expect(await gcCommand.run({ 'dry-run': true }, [], dry)).toBe(0);
    expect(dry.lines).toContain('would remove fl-20250101-000003-000001');
    expect(existsSync(dir)).toBe(true);
    const real = io();
    expect(await gcCommand.run({}, [], real)).toBe(0);
    expect(real.lines).toContain('removed fl-20250101-000003-000001');
    expect(existsSync(dir)).toBe(false);
  });

  it('reports a run it cannot judge and fails with an environment error', async () => {
    const dir = join(state.dir, 'runs', 'fl-20250101-000003-000002');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'ledger.json'), 'not json');
    const o = io();
    await expect(gcCommand.run({}, [], o)).rejects.toMatchObject({ code: 'environment' });
    expect(o.errors).toEqual([expect.stringMatching(/^failed fl-20250101-000003-000002: no readable ledger/)]);
    expect(existsSync(dir)).toBe(true);
  });

  it('declares its one flag', () => {
    expect(gcCommand.name).toBe('gc');
    expect(gcCommand.options).toEqual({ 'dry-run': { type: 'boolean' } });
  });
});
