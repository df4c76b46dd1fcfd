// Interrupting a run cleans up everything; a SIGKILLed run leaves only disk state that `faultline gc`
// removes, without touching a run that is still alive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import path from 'node:path';
import { BIN, alive, faultline, holdersOf, processesMentioning, processesOfRun, tempDir, waitFor } from '../../testing/cli.ts';
import { type HostSnapshot, hostLeftovers, hostSnapshot, marksOfReport } from '../../testing/host.ts';
import { REPO_ROOT } from '../version.ts';

const SCENARIO = 'harness/cli/testdata/long-wait.yaml';

const started: ReturnType<typeof execa>[] = [];

/**
 * Starts a run; every run a test starts is stopped when the test ends, even when it fails early.
 * The console reporter's progress lines tell how far the run got.
 */
function start(stateDir: string, outDir: string) {
  const child = execa('node', [BIN, 'run', SCENARIO, '--out', outDir, '--reporter', 'json', '--reporter', 'console'], {
    reject: false,
    all: true,
    cwd: REPO_ROOT,
    env: { FAULTLINE_STATE_DIR: stateDir, NO_COLOR: '1' },
  });
  started.push(child);
  let output = '';
  child.all?.on('data', (d: Buffer) => (output += d.toString()));
  return Object.assign(child, { output: () => output });
}

async function stopAll(): Promise<void> {
  for (const c of started.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGINT');
    // A run whose cleanup waits (a failed hard-stop test) is killed after a while; gc then cleans.
    const timer = setTimeout(() => c.kill('SIGKILL'), 30_000);
    await c;
    clearTimeout(timer);
  }
}

/** Resolves with the node holders once the run's nodes are up and the cell is in its wait step. */
async function waitUntilWaiting(run: ReturnType<typeof start>): Promise<number[]> {
  // The step's progress line comes after every node booted and its pods started.
  await waitFor(() => run.output().includes('step 1 (1/1): wait') || run.exitCode !== null, 60_000, 'the run to reach its wait step');
  expect(run.output()).toContain('step 1 (1/1): wait');
  const holders = await holdersOf(run.pid!);
  expect(holders.length).toBeGreaterThanOrEqual(2); // the node holders, and the exec agents beside them
  return holders;
}

/** Files of this name anywhere below `dir`. */
async function filesNamed(dir: string, name: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((e) => path.basename(e) === name);
}

/** After a failed kill test: the SIGKILLed run's dir would stay; gc it before removing the state dir. */
async function gcIfLeft(stateDir: string): Promise<void> {
  await faultline(['gc'], { FAULTLINE_STATE_DIR: stateDir });
}

describe('interrupts and kills', () => {
  // What the runs were called and what their sandboxes were: the host must carry none of it after.
  const marks: string[] = [];
  let hostBefore: HostSnapshot;
  beforeAll(async () => {
    hostBefore = await hostSnapshot();
  });
  afterAll(async () => {
    expect(marks.length).toBeGreaterThan(0);
    expect(hostLeftovers(hostBefore, await hostSnapshot(), marks)).toEqual([]);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s cleans up and exits %i', async (sig, code) => {
    const state = await tempDir('fl-sig-state-');
    const out = await tempDir('fl-sig-out-');
    try {
      const child = start(state.dir, out.dir);
      const holders = await waitUntilWaiting(child);
      const [runId] = await readdir(path.join(state.dir, 'runs'));
      marks.push(runId!);
      // While the run lives, its nodes' processes are found (the leftover check can fail).
      expect(processesOfRun(runId!).length).toBeGreaterThanOrEqual(2);
      child.kill(sig);
      const r = await child;
      expect(r.exitCode, r.all).toBe(code);
      expect(r.all).toContain(`${sig} received, cleaning up`);
      expect(holders.filter(alive)).toEqual([]);
      expect(processesOfRun(runId!)).toEqual([]);
      expect(await processesMentioning(state.dir)).toEqual([]);
      expect(await readdir(path.join(state.dir, 'runs')).catch(() => [])).toEqual([]);
      const report = JSON.parse(await readFile(path.join(out.dir, 'report.json'), 'utf8'));
      marks.push(...marksOfReport(report));
      expect(report.cells[0].outcome).toBe('error');
      expect(report.cells[0].reason).toMatch(/interrupted/);
    } finally {
      await stopAll();
      await state.cleanup();
      await out.cleanup();
    }
  });

  // A plugin that never answers keeps the first signal's cleanup waiting for ever (the cell waits
  // for its ADD): only the second signal can end the run, by killing its nodes.
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('a second %s while cleanup waits stops hard: the nodes are killed, exit %i', async (sig, code) => {
    const state = await tempDir('fl-hard-state-');
    const tmp = await tempDir('fl-hard-');
    try {
      const plugins = path.join(tmp.dir, 'plugins');
      await mkdir(plugins);
      const blocking = '#!/bin/sh\n# Never answers: marks that it runs (on the node\'s disk), then sleeps.\n: > /var/lib/cni/plugin-blocked\nexec sleep 3600\n';
      for (const name of ['bridge', 'host-local', 'portmap', 'loopback']) await writeFile(path.join(plugins, name), blocking, { mode: 0o755 });
      const scenario = path.join(tmp.dir, 'blocked.yaml');
      await writeFile(scenario, ['name: blocked-plugin', 'description: a plugin that never answers', 'cluster:', '  nodes: 1', `  stack: { profile: lab/bridge-portmap, cni: "dir:${plugins}" }`, 'workload: [{ name: web }]', ''].join('\n'));
      const child = execa('node', [BIN, 'run', scenario, '--out', path.join(tmp.dir, 'out'), '--reporter', 'json'], {
        reject: false,
        all: true,
        cwd: REPO_ROOT,
        env: { FAULTLINE_STATE_DIR: state.dir, NO_COLOR: '1' },
      });
      started.push(child);
      const output: string[] = [];
      child.all!.on('data', (d: Buffer) => output.push(d.toString()));
      await waitFor(async () => (await filesNamed(state.dir, 'plugin-blocked')).length > 0, 60_000, 'the plugin to block');
      const [runId] = await readdir(path.join(state.dir, 'runs'));
      const holders = await holdersOf(child.pid!);
      expect(processesOfRun(runId!).length).toBeGreaterThanOrEqual(2); // the holder and the blocked plugin, at least

      child.kill(sig);
      await waitFor(() => output.join('').includes(`${sig} received, cleaning up`), 30_000, 'the first signal to be taken');
      expect(child.exitCode).toBeNull(); // still waiting for the plugin
      child.kill(sig);
      const r = await child;
      expect(r.exitCode, r.all).toBe(code);
      expect(r.all).toContain(`${sig} received again: stopping now, killing the run's nodes`);
      expect(holders.filter(alive)).toEqual([]);
      expect(processesOfRun(runId!)).toEqual([]);
      expect(await readdir(path.join(state.dir, 'runs'))).toEqual([]);
    } finally {
      await stopAll();
      await gcIfLeft(state.dir);
      await state.cleanup();
      await tmp.cleanup();
    }
  });

  it('SIGKILL leaves no kernel objects; gc removes the dead run and not a live one', async () => {
    const state = await tempDir('fl-kill-state-');
    const outA = await tempDir('fl-kill-a-');
    const outB = await tempDir('fl-kill-b-');
    try {
      const a = start(state.dir, outA.dir);
      const holdersA = await waitUntilWaiting(a);
      const runsBeforeB = await readdir(path.join(state.dir, 'runs'));
      expect(runsBeforeB).toHaveLength(1);
      const b = start(state.dir, outB.dir);
      await waitFor(async () => (await readdir(path.join(state.dir, 'runs'))).length === 2, 30_000, 'second run');
      const holdersB = await waitUntilWaiting(b);
      marks.push(...(await readdir(path.join(state.dir, 'runs'))));

      a.kill('SIGKILL');
      await a;
      const deadRun = runsBeforeB[0]!;
      // The holders die with their parent (pdeathsig): nothing of run A stays in the kernel.
      await waitFor(() => holdersA.every((p) => !alive(p)), 10_000, 'run A holders to die');
      expect(await readdir(path.join(state.dir, 'runs'))).toContain(deadRun);

      const gc = await faultline(['gc'], { FAULTLINE_STATE_DIR: state.dir });
      expect(gc.exitCode, gc.all).toBe(0);
      expect(gc.all).toContain(deadRun);
      const left = await readdir(path.join(state.dir, 'runs'));
      expect(left).toHaveLength(1);
      expect(left[0]).not.toBe(deadRun);
      // Run B is untouched: its holders are alive and it still finishes cleanly on SIGINT.
      expect(holdersB.filter(alive)).toEqual(holdersB);
      b.kill('SIGINT');
      const rb = await b;
      expect(rb.exitCode, rb.all).toBe(130);
      expect(holdersB.filter(alive)).toEqual([]);
      expect(await readdir(path.join(state.dir, 'runs'))).toEqual([]);
    } finally {
      await stopAll();
      await gcIfLeft(state.dir);
      await state.cleanup();
      await outA.cleanup();
      await outB.cleanup();
    }
  });
});
