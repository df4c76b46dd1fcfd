// A faultline process killed with SIGKILL: its holders die with it (parent-death signal), and
// `gcRuns` then removes what it left (a stray inside the node, the run dir) without touching a
// second run that is still alive.
import { localReaper } from './reaper.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { gcRuns } from '../../ledger/ledger.ts';
import { eventually, fakePluginDir, hostLeftovers, hostSnapshot, pidAlive, useTempStateDir } from '../../../testing/host.ts';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./testdata/hold-cluster.ts', import.meta.url));

interface Holding {
  child: ChildProcess;
  info: { runId: string; workDir: string; holderPid: number; strayPid: number };
}

let state: Awaited<ReturnType<typeof useTempStateDir>>;
let plugins: string;
const children: ChildProcess[] = [];

/** Starts the fixture in its own process and waits for its JSON line. */
async function holdCluster(): Promise<Holding> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, plugins], {
    cwd: REPO,
    env: { ...process.env, FAULTLINE_STATE_DIR: state.dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`fixture exited with ${code}: ${stderr}`)));
  });
  return { child, info: JSON.parse(line) as Holding['info'] };
}

async function sigkill(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

beforeAll(async () => {
  state = await useTempStateDir();
  plugins = await fakePluginDir();
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) await sigkill(c);
  await gcRuns([localReaper], { stateDir: state.dir }).catch(() => {});
  await rm(plugins, { recursive: true, force: true });
  await state.restore();
});

describe('a faultline process killed with SIGKILL', () => {
  it('leaves no holder, and gc removes its run but not a live one', async () => {
    const hostBefore = await hostSnapshot();
    const [a, b] = await Promise.all([holdCluster(), holdCluster()]);
    for (const h of [a, b]) {
      expect(pidAlive(h.info.holderPid)).toBe(true);
      expect(pidAlive(h.info.strayPid)).toBe(true);
      expect(existsSync(h.info.workDir)).toBe(true);
    }

    await sigkill(a.child);
    // The parent-death signal takes the holder; the stray (own session, no such signal) stays.
    expect(await eventually(() => !pidAlive(a.info.holderPid))).toBe(true);
    expect(pidAlive(a.info.strayPid)).toBe(true);

    const dry = await gcRuns([localReaper], { dryRun: true });
    expect(dry.removed).toEqual([a.info.runId]);
    expect(existsSync(a.info.workDir)).toBe(true);
    expect(pidAlive(a.info.strayPid)).toBe(true);

    const r = await gcRuns([localReaper]);
    expect(r).toMatchObject({ removed: [a.info.runId], skippedLive: [b.info.runId], failed: [] });
    expect(r.reasons[b.info.runId]).toMatch(/still running/);
    expect(pidAlive(a.info.strayPid)).toBe(false);
    expect(existsSync(a.info.workDir)).toBe(false);
    // The live run is untouched.
    expect(pidAlive(b.info.holderPid)).toBe(true);
    expect(pidAlive(b.info.strayPid)).toBe(true);
    expect(existsSync(b.info.workDir)).toBe(true);

    await sigkill(b.child);
    expect(await eventually(() => !pidAlive(b.info.holderPid))).toBe(true);
    expect((await gcRuns([localReaper])).removed).toEqual([b.info.runId]);
    expect(pidAlive(b.info.strayPid)).toBe(false);
    expect(hostLeftovers(hostBefore, await hostSnapshot(), [a.info.runId, b.info.runId])).toEqual([]);
  });
});
