// A faultline process killed with SIGKILL while its container nodes run: its podman service goes with
// it (parent-death signal), the containers stay (conmon is their parent) until `gcRuns` removes them,
// their volumes and cgroups, without touching a second run that is still alive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { gcRuns } from '../../ledger/ledger.ts';
import { ContainerBackend } from './container-backend.ts';
import { eventually, fakePluginDir, hostLeftovers, hostSnapshot, pidAlive, useTempStateDir } from '../../../testing/host.ts';
import { containerSkipReason, engineInventory, hostIptables, iptablesLeftovers, processesOfContainerRun, runCgroups } from '../../../testing/container.ts';
import { titled } from '../../../testing/network.ts';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./testdata/hold-container-cluster.ts', import.meta.url));

type Child = ResultPromise<{ stdin: 'ignore'; reject: false }>;

interface Holding {
  child: Child;
  info: { runId: string; workDir: string; pids: number[]; volumes: string[]; socket: string };
}

const skip = await containerSkipReason('the container backend SIGKILL test');

describe.skipIf(skip)(titled('a faultline process with container nodes killed with SIGKILL', skip), () => {
  let state: Awaited<ReturnType<typeof useTempStateDir>>;
  let plugins: string;
  const children: Child[] = [];
  const reaper = new ContainerBackend().reaper;

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
    await gcRuns([reaper], { stateDir: state.dir }).catch(() => {});
    await rm(plugins, { recursive: true, force: true });
    await state.restore();
  });

  it('leaves containers that gc removes, with their volumes, cgroups and processes; a live run is untouched', async () => {
    const hostBefore = await hostSnapshot();
    const iptablesBefore = await hostIptables();
    const [a, b] = await Promise.all([holdCluster(), holdCluster()]);
    for (const h of [a, b]) {
      expect(h.info.pids.every(pidAlive)).toBe(true);
      expect(existsSync(h.info.socket)).toBe(true);
    }

    await sigkill(a.child);
    // The engine service dies with its process; the node containers do not.
    expect(await eventually(() => !existsSync(a.info.socket), 10_000)).toBe(true);
    expect(a.info.pids.every(pidAlive)).toBe(true);
    expect((await engineInventory(a.info.runId)).containers).toHaveLength(3); // two nodes and the segment

    const dry = await gcRuns([reaper], { dryRun: true });
    expect(dry.removed).toEqual([a.info.runId]);
    expect(a.info.pids.every(pidAlive)).toBe(true);

    const r = await gcRuns([reaper]);
    expect(r).toMatchObject({ removed: [a.info.runId], skippedLive: [b.info.runId], failed: [] });
    expect(await engineInventory(a.info.runId)).toEqual({ containers: [], volumes: [], networks: [] });
    expect(a.info.pids.filter(pidAlive)).toEqual([]);
    expect(a.info.volumes.filter((v) => existsSync(v))).toEqual([]);
    expect(runCgroups(a.info.runId)).toEqual([]);
    expect(await eventually(() => processesOfContainerRun(a.info.runId).length === 0)).toBe(true);
    expect(existsSync(a.info.workDir)).toBe(false);
    // The live run is untouched.
    expect(b.info.pids.every(pidAlive)).toBe(true);
    expect((await engineInventory(b.info.runId)).containers).toHaveLength(3);
    expect(existsSync(b.info.workDir)).toBe(true);

    await sigkill(b.child);
    expect((await gcRuns([reaper])).removed).toEqual([b.info.runId]);
    expect(await engineInventory(b.info.runId)).toEqual({ containers: [], volumes: [], networks: [] });
    expect(runCgroups(b.info.runId)).toEqual([]);
    expect(await eventually(() => processesOfContainerRun(b.info.runId).length === 0)).toBe(true);
    expect(hostLeftovers(hostBefore, await hostSnapshot(), [a.info.runId, b.info.runId, 'pod-a'])).toEqual([]);
    expect(iptablesLeftovers(iptablesBefore, await hostIptables(), [a.info.runId, b.info.runId])).toEqual([]);
  });
});
