// Every file under testdata/bad/ says on its first line what `faultline validate` must report and
// where: `# expect: <part of the message> @ <line>:<col>`; an optional second line
// `# requires: <fault or assertion>, ...` names what it needs; a name that is not registered fails
// the case (a renamed fault must not turn its cases into silent skips).
// The real CLI must exit 2 with that message at file:line:col, print no stack trace, and create
// nothing on the machine.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faults } from '../faults/index.ts';
import { assertions } from '../assertions/index.ts';
import { commands } from '../cli/commands/index.ts';
import { validateCommand } from '../cli/commands/validate.ts';
import { type HostSnapshot, hostLeftovers, hostSnapshot } from '../../testing/host.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const BAD = path.join(import.meta.dirname, 'testdata', 'bad');
const registered = new Set<string>([...faults.map((f) => f.name), ...assertions.map((a) => a.name)]);
const validateWired = commands.some((c) => c.name === 'validate');

interface Case {
  name: string;
  /** Path relative to the repository, as given to the CLI. */
  rel: string;
  substring: string;
  line: number;
  column: number;
  missing: string[];
}

const cases: Case[] = await Promise.all(
  (await readdir(BAD)).filter((f) => /\.ya?ml$/.test(f)).sort().map(async (name) => {
    const [first = '', second = ''] = (await readFile(path.join(BAD, name), 'utf8')).split('\n');
    const m = /^# expect: (.+) @ (\d+):(\d+)$/.exec(first);
    if (!m) throw new Error(`${name}: first line must be '# expect: <message part> @ <line>:<col>', found ${JSON.stringify(first)}`);
    const requires = /^# requires: (.+)$/.exec(second)?.[1]?.split(',').map((x) => x.trim()) ?? [];
    return { name, rel: path.relative(REPO, path.join(BAD, name)), substring: m[1]!, line: Number(m[2]), column: Number(m[3]), missing: requires.filter((r) => !registered.has(r)) };
  }),
);

// What a run could leave behind: its state dir (ours alone, compared whole), and anything in the
// host's CNI dirs or netns named after these files (others may change those dirs meanwhile).
async function stateDirListing(stateDir: string): Promise<string[]> {
  return existsSync(stateDir) ? readdirSync(stateDir).sort() : ['(absent)'];
}

function requireRegistered(c: Case): void {
  expect(c.missing, `${c.name} requires ${c.missing.join(', ')}, which no registered fault or assertion is called (renamed?)`).toEqual([]);
}

// The output must hold the expected message at file:line:col, and no stack trace.
function checkOutput(c: Case, file: string, output: string): void {
  const where = `${file}:${c.line}:${c.column}: `;
  const located = output.split('\n').filter((l) => l.includes(where));
  expect(located.length, `no message at ${where} in:\n${output}`).toBeGreaterThan(0);
  expect(located.some((l) => l.includes(c.substring)), `no '${c.substring}' at ${where} in:\n${output}`).toBe(true);
  expect(output).not.toMatch(/^ {4}at /m);
  expect(output).not.toContain('internal error');
}

let stateDir: string;
let stateBefore: string[];
let hostBefore: HostSnapshot;

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), 'faultline-state-'));
  process.env.FAULTLINE_STATE_DIR = stateDir;
  stateBefore = await stateDirListing(stateDir);
  hostBefore = await hostSnapshot();
});
afterAll(async () => {
  delete process.env.FAULTLINE_STATE_DIR;
  await rm(stateDir, { recursive: true, force: true });
});

describe('bad scenario corpus', () => {
  it('has at least 22 annotated files', () => {
    expect(cases.length).toBeGreaterThanOrEqual(22);
  });

  it('the CLI has a validate command', () => {
    expect(validateWired, `no 'validate' among the CLI commands: ${commands.map((x) => x.name).join(', ')}`).toBe(true);
  });

  describe('through the CLI (node bin/faultline.js validate <file>)', () => {
    for (const c of cases) {
      it(`${c.name}: exit 2 with '${c.substring}' at ${c.line}:${c.column}`, async () => {
        requireRegistered(c);
        const r = await execa('node', ['bin/faultline.js', 'validate', c.rel], { cwd: REPO, reject: false, all: true, env: { FAULTLINE_STATE_DIR: stateDir }, timeout: 60_000 });
        expect(r.exitCode, r.all).toBe(2);
        checkOutput(c, c.rel, r.all ?? '');
      });
    }
  });

  describe('through validateCommand.run', () => {
    for (const c of cases) {
      it(`${c.name}: exit 2 with '${c.substring}' at ${c.line}:${c.column}`, async () => {
        requireRegistered(c);
        const lines: string[] = [];
        const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), signal: new AbortController().signal };
        const file = path.join(BAD, c.name);
        expect(await validateCommand.run({}, [file], io)).toBe(2);
        checkOutput(c, file, lines.join('\n'));
      });
    }
  });

  it('left nothing on the machine (state dir, host CNI dirs, namespaces)', async () => {
    expect(await stateDirListing(stateDir)).toEqual(stateBefore);
    const marks = cases.map((c) => c.name.replace(/\.ya?ml$/, ''));
    expect(hostLeftovers(hostBefore, await hostSnapshot(), marks)).toEqual([]);
  });
});
