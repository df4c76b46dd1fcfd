// Every file under testdata/bad/ is a broken profile that says on its first line what the loader must
// report and where: `# expect: <part of the message> @ <line>:<col>`. Stack profiles sit at
// <kind>/<version>.yaml, runtime profiles under runtime/, as in profiles/.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.ts';
import { listStackProfiles, loadStackProfile } from './stack-profile.ts';
import { listRuntimeProfiles, loadRuntimeProfile } from './runtime-profile.ts';

const BAD = path.join(import.meta.dirname, 'testdata', 'bad');

interface Case {
  /** The profile's name as a scenario would give it. */
  name: string;
  kind: 'stack' | 'runtime';
  file: string;
  substring: string;
  line: number;
  column: number;
}

async function expectation(file: string): Promise<Pick<Case, 'substring' | 'line' | 'column'>> {
  const first = (await readFile(file, 'utf8')).split('\n')[0]!;
  const m = /^# expect: (.+) @ (\d+):(\d+)$/.exec(first);
  if (!m) throw new Error(`${file}: first line must be '# expect: <message part> @ <line>:<col>', found ${JSON.stringify(first)}`);
  return { substring: m[1]!, line: Number(m[2]), column: Number(m[3]) };
}

const cases: Case[] = [
  ...(await Promise.all((await listStackProfiles(BAD)).map(async (name) => {
    const file = path.join(BAD, `${name}.yaml`);
    return { name, kind: 'stack' as const, file, ...(await expectation(file)) };
  }))),
  ...(await Promise.all((await listRuntimeProfiles(BAD)).map(async (name) => {
    const file = path.join(BAD, 'runtime', `${name}.yaml`);
    return { name, kind: 'runtime' as const, file, ...(await expectation(file)) };
  }))),
];

describe('bad profile corpus', () => {
  it('holds every annotated file, stack and runtime profiles both', async () => {
    const files = (await readdir(BAD, { recursive: true })).filter((f) => f.endsWith('.yaml'));
    expect(cases.length).toBe(files.length);
    expect(cases.filter((c) => c.kind === 'stack').length).toBeGreaterThanOrEqual(5);
    expect(cases.filter((c) => c.kind === 'runtime').length).toBeGreaterThanOrEqual(4);
  });

  for (const c of cases) {
    it(`${c.kind} profile ${c.name}: '${c.substring}' at ${c.line}:${c.column}`, async () => {
      const load = c.kind === 'stack' ? loadStackProfile(c.name, BAD) : loadRuntimeProfile(c.name, BAD);
      const err = await load.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidInputError);
      const problems = (err as InvalidInputError).problems;
      // Every problem names file:line:col, and the expected one is among them.
      for (const p of problems) {
        expect(p.location.file).toBe(c.file);
        expect(p.location.line).toBeGreaterThan(0);
        expect(p.location.column).toBeGreaterThan(0);
      }
      const here = problems.filter((p) => p.location.line === c.line && p.location.column === c.column);
      expect(here.map((p) => p.message), `no problem at ${c.line}:${c.column} in:\n${(err as Error).message}`).toContainEqual(expect.stringContaining(c.substring));
      expect((err as Error).message).toContain(`${c.file}:${c.line}:${c.column}: ${c.kind} profile: `);
    });
  }

  it('reports every problem of a file at once', async () => {
    const err = await loadStackProfile('bad/name-mismatch', BAD).catch((e: unknown) => e);
    expect((err as InvalidInputError).problems).toHaveLength(1);
    const many = await loadRuntimeProfile('missing-gc', BAD).catch((e: unknown) => e);
    expect((many as InvalidInputError).problems.map((p) => p.message)).toEqual([
      "runtime profile: top level: missing required key 'gc' (a mapping)",
    ]);
  });
});

describe('shipped profiles', () => {
  it('all load without a problem', async () => {
    for (const name of await listStackProfiles()) await expect(loadStackProfile(name), name).resolves.toMatchObject({ name });
    for (const name of await listRuntimeProfiles()) await expect(loadRuntimeProfile(name), name).resolves.toMatchObject({ name });
  });
});
