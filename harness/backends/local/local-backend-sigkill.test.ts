// A faultline process killed with SIGKILL: its holders die with it (parent-death signal), and with
// each holder the node's pid namespace, so even a stray that left its session dies; `gcRuns` then
// removes what it left (the run dir) without touching a second run that is still alive.
import { localReaper } from './reaper.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { gcRuns } from '../../ledger/ledger.ts';
import { eventually, fakePluginDir, hostLeftovers, hostSnapshot, pidAlive, useTempStateDir } from '../../../testing/host.ts';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./testdata/hold-cluster.ts', import.meta.url));

type Child = ResultPromise<{ stdin: 'ignore'; reject: false }>;

interface Holding {
  child: Child;
  info: { runId: string; workDir: string; holderPid: number; strayPid: number };
}

let state: Awaited<ReturnType<typeof useTempStateDir>>;
let plugins: string;
const children: Child[] = [];

/** Starts the fixture in its own process and waits for its JSON line. */
async function holdCluster(): Promise<Holding> {
  const child = execa(process.execPath, ['--import', 'tsx', FIXTURE, plugins], { cwd: REPO, env: { FAULTLINE_STATE_DIR: state.dir }, stdin: 'ignore', reject: false });
  children.push(child);
  const line = await Promise.race([
    new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve)),
    child.then((r) => Promise.reject(new Error(`fixture exited with ${r.exitCode ?? r.signal}: ${r.stderr}`))),
  ]);
  return { child, info: JSON.parse(line) as Holding['info'] };
}

async function sigkill(child: Child): Promise<void> {
  child.kill('SIGKILL');
  await child;
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
    // The parent-death signal takes the holder, and with it the node's pid namespace: the stray
    // (own session, no such signal) dies too, before any gc.
    expect(await eventually(() => !pidAlive(a.info.holderPid))).toBe(true);
    expect(await eventually(() => !pidAlive(a.info.strayPid))).toBe(true);

    const dry = await gcRuns([localReaper], { dryRun: true });
    expect(dry.removed).toEqual([a.info.runId]);
    expect(existsSync(a.info.workDir)).toBe(true);

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
    expect(await eventually(() => !pidAlive(b.info.strayPid))).toBe(true);
    expect((await gcRuns([localReaper])).removed).toEqual([b.info.runId]);
    expect(hostLeftovers(hostBefore, await hostSnapshot(), [a.info.runId, b.info.runId])).toEqual([]);
  });
});
