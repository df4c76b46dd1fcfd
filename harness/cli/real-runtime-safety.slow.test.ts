// A harness for leaks must not leak its own runtime: with the real containerd in the nodes, the host's
// /run/containerd, /var/lib/containerd, /etc/containerd and /opt/containerd are never created, SIGINT
// and SIGTERM clean up as with the model, a SIGKILL of faultline takes containerd, every shim and every
// pause process with it (each node's pid namespace dies with its init), and the sandboxes' cgroups,
// which outlive their processes, are removed by `faultline gc`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { BIN, faultline, processesOfRun, tempDir, waitFor } from '../../testing/cli.ts';
import { type HostSnapshot, hostLeftovers, hostSnapshot, marksOfReport, pidAlive } from '../../testing/host.ts';
import { cgroupRoots } from '../util/cgroups.ts';
import { listPids } from '../util/procfs.ts';
import { REPO_ROOT } from '../version.ts';

const SCENARIO = 'harness/cli/testdata/long-wait-containerd.yaml';
const HOST_CONTAINERD = ['/run/containerd', '/var/lib/containerd', '/etc/containerd', '/opt/containerd'];

function start(stateDir: string, outDir: string) {
  const child = execa('node', [BIN, 'run', SCENARIO, '--out', outDir, '--reporter', 'json', '--reporter', 'console'], {
    reject: false,
    all: true,
    cwd: REPO_ROOT,
    env: { FAULTLINE_STATE_DIR: stateDir, NO_COLOR: '1' },
  });
  let output = '';
  child.all?.on('data', (d: Buffer) => (output += d.toString()));
  return Object.assign(child, { output: () => output });
}

/** The run's processes and every descendant (a runtime's shims and pause processes nest deeper). */
function processTree(roots: number[]): number[] {
  const children = new Map<number, number[]>();
  for (const pid of listPids()) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      /* gone */
    }
  }
  const out = new Set<number>();
  const walk = (p: number) => {
    if (out.has(p)) return;
    out.add(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  roots.forEach(walk);
  return [...out];
}

const comm = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
};

/** The run's cgroup directories, in every hierarchy. */
const runCgroups = (runId: string) => cgroupRoots().map((r) => path.join(r, 'faultline', runId)).filter((d) => existsSync(d));

describe('the real runtime leaves nothing behind', () => {
  const marks: string[] = [];
  let hostBefore: HostSnapshot;
  let containerdBefore: boolean[];
  beforeAll(async () => {
    hostBefore = await hostSnapshot();
    containerdBefore = HOST_CONTAINERD.map((p) => existsSync(p));
  });
  afterAll(async () => {
    expect(marks.length).toBeGreaterThan(0);
    expect(hostLeftovers(hostBefore, await hostSnapshot(), marks)).toEqual([]);
    // Never created on the host (they did not exist before on a machine without containerd).
    expect(HOST_CONTAINERD.map((p) => existsSync(p))).toEqual(containerdBefore);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s stops containerd and its sandboxes, removes their cgroups, exits %i', async (sig, code) => {
    const state = await tempDir('fl-rt-sig-state-');
    const out = await tempDir('fl-rt-sig-out-');
    const child = start(state.dir, out.dir);
    try {
      await waitFor(() => child.output().includes('step 1 (1/1): wait') || child.exitCode !== null, 120_000, 'the run to reach its wait step');
      const [runId] = await readdir(path.join(state.dir, 'runs'));
      marks.push(runId!);
      const tree = processTree(processesOfRun(runId!));
      // Both nodes' containerd, a shim and a pause per pod, and the sandboxes' cgroups, while it lives.
      expect(tree.map(comm).filter((c) => c === 'containerd')).toHaveLength(2);
      expect(tree.map(comm).filter((c) => c === 'pause')).toHaveLength(4);
      expect(runCgroups(runId!).length).toBeGreaterThan(0);
      child.kill(sig);
      const r = await child;
      expect(r.exitCode, r.all).toBe(code);
      expect(tree.filter(pidAlive)).toEqual([]);
      expect(runCgroups(runId!)).toEqual([]);
      expect(await readdir(path.join(state.dir, 'runs')).catch(() => [])).toEqual([]);
      marks.push(...marksOfReport(JSON.parse(await readFile(path.join(out.dir, 'report.json'), 'utf8'))));
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await child;
      await faultline(['gc'], { FAULTLINE_STATE_DIR: state.dir });
      await state.cleanup();
      await out.cleanup();
    }
  });

  it('SIGKILL of faultline takes containerd, every shim and pause with it; gc removes the cgroups', async () => {
    const state = await tempDir('fl-rt-kill-state-');
    const out = await tempDir('fl-rt-kill-out-');
    const child = start(state.dir, out.dir);
    try {
      await waitFor(() => child.output().includes('step 1 (1/1): wait') || child.exitCode !== null, 120_000, 'the run to reach its wait step');
      const [runId] = await readdir(path.join(state.dir, 'runs'));
      marks.push(runId!);
      const tree = processTree(processesOfRun(runId!));
      const runtimeProcs = tree.filter((p) => ['containerd', 'containerd-shim', 'pause'].includes(comm(p)) || comm(p).startsWith('containerd-shim'));
      expect(runtimeProcs.length).toBeGreaterThanOrEqual(2 + 4 + 4);
      child.kill('SIGKILL');
      await child;
      await waitFor(() => tree.every((p) => !pidAlive(p)), 20_000, 'every process of the run to die');
      // The cgroups outlive the processes until gc.
      expect(runCgroups(runId!).length).toBeGreaterThan(0);
      const gc = await faultline(['gc'], { FAULTLINE_STATE_DIR: state.dir });
      expect(gc.exitCode, gc.all).toBe(0);
      expect(gc.all).toContain(runId);
      expect(runCgroups(runId!)).toEqual([]);
      expect(readdirSync(path.join(state.dir, 'runs'))).toEqual([]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await child;
      await faultline(['gc'], { FAULTLINE_STATE_DIR: state.dir });
      await state.cleanup();
      await out.cleanup();
    }
  });
});
