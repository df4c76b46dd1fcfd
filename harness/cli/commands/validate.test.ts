import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultlineError } from '../../errors.ts';
import { validateCommand } from './validate.ts';

const TESTDATA = path.resolve(import.meta.dirname, '..', '..', 'scenario', 'testdata');
const minimal = path.join(TESTDATA, 'good', 'minimal.yaml');
const matrix = path.join(TESTDATA, 'good', 'matrix-expect.yaml');

async function validate(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await validateCommand.run({}, args, { out: (l) => out.push(l), err: (l) => err.push(l), signal: new AbortController().signal });
  return { code, out, err };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'faultline-validate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('faultline validate', () => {
  it('prints ok with the cell count per valid file and exits 0', async () => {
    expect(await validate([minimal, matrix])).toEqual({ code: 0, out: [`ok ${minimal} (1 cell)`, `ok ${matrix} (6 cells)`], err: [] });
  });

  it('keeps going past an invalid file, locates its errors and exits 2', async () => {
    const bad = path.join(TESTDATA, 'bad', 'public-cidr.yaml');
    const r = await validate([bad, minimal]);
    expect(r.code).toBe(2);
    expect(r.out).toEqual([`ok ${minimal} (1 cell)`]);
    expect(r.err[0]).toMatch(new RegExp(`^error: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:5:12: cluster\\.podCIDR: expected a private range`));
    expect(r.err.at(-1)).toBe('1 of 2 scenario files invalid');
  });

  it('flags two files with one scenario name', async () => {
    const copy = path.join(dir, 'copy.yaml');
    await writeFile(copy, 'name: minimal\ndescription: d\ncluster:\n  stack: {profile: harvester/v1.4.3}\n');
    const r = await validate([minimal, copy]);
    expect(r.code).toBe(2);
    expect(r.err[0]).toBe(`error: ${copy}:1:7: name: scenario 'minimal' is already defined in ${minimal}; names must be unique`);
  });

  it('is a usage error for a missing path or a directory without scenarios', async () => {
    await expect(validate([path.join(dir, 'nope')])).rejects.toThrow(FaultlineError);
    const empty = await mkdtemp(path.join(dir, 'empty-'));
    await expect(validate([empty])).rejects.toThrow(/no scenario files/);
  });
});
