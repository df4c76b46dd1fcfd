// `faultline run --backend container` end to end: a real containerd cell gives its expected outcome,
// and a run leaves nothing on the machine (no container, volume, network, cgroup or process of it,
// nothing in the host's CNI dirs or iptables), whether it ends normally, on SIGINT, or is SIGKILLed
// and followed by `faultline gc`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { BIN, faultline, tempDir, waitFor } from '../../../testing/cli.ts';
import { type HostSnapshot, hostLeftovers, hostSnapshot, marksOfReport } from '../../../testing/host.ts';
import { containerSkipReason, engineInventory, hostIptables, iptablesLeftovers, processesOfContainerRun, runCgroups } from '../../../testing/container.ts';
import { titled } from '../../../testing/network.ts';
import { eventually } from '../../../testing/host.ts';
import { REPO_ROOT } from '../../version.ts';
import type { RunReport } from '../../model/report.ts';

const LONG_WAIT = 'harness/cli/testdata/long-wait.yaml';

const skip = await containerSkipReason('the container backend CLI tests');

/** Nothing of the run anywhere: engine, cgroups, processes, run dir. */
async function expectNothingOf(runId: string, stateDir: string): Promise<void> {
  expect(await engineInventory(runId)).toEqual({ containers: [], volumes: [], networks: [] });
  expect(runCgroups(runId)).toEqual([]);
  expect(await eventually(() => processesOfContainerRun(runId).length === 0, 10_000), processesOfContainerRun(runId).join('\n')).toBe(true);
  expect(await readdir(path.join(stateDir, 'runs')).catch(() => [])).toEqual([]);
}

describe.skipIf(skip)(titled('faultline run --backend container', skip), () => {
  const marks: string[] = [];
  let hostBefore: HostSnapshot;
  let iptablesBefore: string[];
  const started: ReturnType<typeof execa>[] = [];

  beforeAll(async () => {
    hostBefore = await hostSnapshot();
    iptablesBefore = await hostIptables();
  });
  afterAll(async () => {
    for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGINT');
    await Promise.allSettled(started);
    expect(marks.length).toBeGreaterThan(0);
    expect(hostLeftovers(hostBefore, await hostSnapshot(), marks)).toEqual([]);
    expect(iptablesLeftovers(iptablesBefore, await hostIptables(), marks)).toEqual([]);
  });

  function start(stateDir: string, outDir: string) {
    const child = execa('node', [BIN, 'run', LONG_WAIT, '--backend', 'container', '--out', outDir, '--reporter', 'json', '--reporter', 'console'], {
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

  async function waitUntilWaiting(run: ReturnType<typeof start>, stateDir: string): Promise<string> {
    await waitFor(() => run.output().includes('step 1 (1/1): wait') || run.exitCode !== null, 120_000, 'the run to reach its wait step');
    expect(run.output()).toContain('step 1 (1/1): wait');
    const [runId] = await readdir(path.join(stateDir, 'runs'));
    marks.push(runId!);
    // While the run lives, its containers and processes are found (the leftover checks can fail).
    expect((await engineInventory(runId!)).containers).toHaveLength(2);
    expect(processesOfContainerRun(runId!).length).toBeGreaterThanOrEqual(2);
    return runId!;
  }

  it('runs a real containerd cell (libcni 1.1.2 fails DEL on the empty cache) with the outcome the local backend gives, leaving nothing', async () => {
    const state = await tempDir('fl-ct-state-');
    const out = await tempDir('fl-ct-out-');
    try {
      const r = await faultline(['run', 'scenarios/libcni-empty-cache-del.yaml', '--only', 'runtime=containerd-1.6', '--only', 'cni=1.1.1', '--backend', 'container', '--out', out.dir, '--reporter', 'json'], { FAULTLINE_STATE_DIR: state.dir });
      expect(r.exitCode, r.all).toBe(0);
      const report = JSON.parse(await readFile(path.join(out.dir, 'report.json'), 'utf8')) as RunReport;
      marks.push(...marksOfReport(report));
      const cell = report.cells[0]!;
      expect(cell.outcome).toBe('xfail');
      expect(cell.stack.containerd?.libcni).toBe('1.1.2');
      const del = cell.assertions.find((a) => a.name === 'del-succeeds')!;
      expect(del.status).toBe('fail');
      expect(del.evidence[0]!.error).toMatch(/failed to destroy network for sandbox "[0-9a-f]{64}": failed to get network "[^"]+" cached result: decoding version from network config: unexpected end of JSON input/);
      await expectNothingOf(report.runId, state.dir);
    } finally {
      await state.cleanup();
      await out.cleanup();
    }
  });

  it('SIGINT tears the container nodes down and exits 130', async () => {
    const state = await tempDir('fl-ct-sig-state-');
    const out = await tempDir('fl-ct-sig-out-');
    try {
      const child = start(state.dir, out.dir);
      const runId = await waitUntilWaiting(child, state.dir);
      child.kill('SIGINT');
      const r = await child;
      expect(r.exitCode, r.all).toBe(130);
      const report = JSON.parse(await readFile(path.join(out.dir, 'report.json'), 'utf8')) as RunReport;
      marks.push(...marksOfReport(report));
      expect(report.cells[0]!.reason).toMatch(/interrupted/);
      await expectNothingOf(runId, state.dir);
    } finally {
      await state.cleanup();
      await out.cleanup();
    }
  });

  it('SIGKILL leaves the containers to `faultline gc`, which removes every one of them', async () => {
    const state = await tempDir('fl-ct-kill-state-');
    const out = await tempDir('fl-ct-kill-out-');
    try {
      const child = start(state.dir, out.dir);
      const runId = await waitUntilWaiting(child, state.dir);
      child.kill('SIGKILL');
      await child;
      expect((await engineInventory(runId)).containers).toHaveLength(2);
      const gc = await faultline(['gc'], { FAULTLINE_STATE_DIR: state.dir });
      expect(gc.exitCode, gc.all).toBe(0);
      expect(gc.all).toContain(`removed ${runId}`);
      await expectNothingOf(runId, state.dir);
    } finally {
      await faultline(['gc'], { FAULTLINE_STATE_DIR: state.dir });
      await state.cleanup();
      await out.cleanup();
    }
  });
});
