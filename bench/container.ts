// The container backend's figures: what starting the private podman costs (per run), a two-node cluster
// up with the image cached, a node's hard reboot (SIGKILL of its init, start), the default suite's wall
// time on the container backend against the local one, and the last cold image build (from the image
// cache's metadata: a build happens once per machine).
import path from 'node:path';
import os from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRun } from '../harness/ledger/ledger.ts';
import { getBackend } from '../harness/backends/index.ts';
import { planEngine, startPrivatePodman } from '../harness/backends/container/engine.ts';
import { cachedImage } from '../harness/backends/container/image.ts';
import { loadScenarios } from '../harness/scenario/load.ts';
import { defaultJobs, runCells } from '../harness/runner/run.ts';
import { planCells } from '../harness/runner/cell.ts';
import { REPO_ROOT } from '../harness/version.ts';
import { registryEnv } from '../testing/run-env.ts';
import { useTempStateDir } from '../testing/host.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface ContainerBench {
  engine: string;
  /** Spawn of the private podman service until it answers; undefined with an external engine. */
  engineStartMs?: number[];
  /** The first cluster up of a process: engine start, testcontainers' client, image check, 2 nodes. */
  firstUpMs: number;
  upMs: number[];
  rebootMs: number[];
  image: { ref: string; buildMs?: number; builtAt?: string };
}

export async function benchContainer(opts: { ups?: number; reboots?: number } = {}): Promise<ContainerBench> {
  const state = await useTempStateDir();
  const plugins = await mkdtemp(path.join(os.tmpdir(), 'faultline-bench-plugins-')); // nodes here run no plugin
  const backend = getBackend('container');
  const run = await createRun();
  try {
    const plan = await planEngine();
    let engineStartMs: number[] | undefined;
    if (plan.kind === 'private-podman') {
      engineStartMs = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const e = await startPrivatePodman(plan, { socketPath: path.join(state.dir, `bench-${i}.sock`) });
        engineStartMs.push(performance.now() - t0);
        await e.stop();
      }
    }
    const nodes = ['node-1', 'node-2'].map((name, i) => ({ name, pluginDir: plugins, podSubnet: `10.98.${i}.0/28` }));
    const up = async (cellId: string) => {
      const t0 = performance.now();
      const cluster = await backend.up({ runId: run.runId, cellId, workDir: run.cellDir(cellId), nodes });
      return { cluster, ms: performance.now() - t0 };
    };
    const first = await up('first');
    const rebootMs: number[] = [];
    const node = first.cluster.nodes[0]!;
    for (let i = 0; i < (opts.reboots ?? 10); i++) {
      const t0 = performance.now();
      await node.powerOff();
      await node.powerOn();
      rebootMs.push(performance.now() - t0);
    }
    const upMs: number[] = [];
    for (let i = 0; i < (opts.ups ?? 5); i++) {
      const c = await up(`up-${i}`);
      upMs.push(c.ms);
      await c.cluster.down();
    }
    await first.cluster.down();
    const img = cachedImage();
    return {
      engine: plan.kind === 'private-podman' ? `private podman (${plan.podman})` : plan.kind === 'external' ? `${plan.socketPath} (${plan.source})` : 'none',
      ...(engineStartMs ? { engineStartMs } : {}),
      firstUpMs: first.ms,
      upMs,
      rebootMs,
      image: { ref: img.ref, ...(img.meta ? { buildMs: img.meta.buildMs, builtAt: img.meta.builtAt } : {}) },
    };
  } finally {
    await run.release([backend.reaper]);
    await rm(plugins, { recursive: true, force: true });
    await state.restore();
  }
}

/** The default suite through the runner on one backend: wall time and whether every cell was as expected. */
export async function benchSuiteWall(backend: string): Promise<{ cells: number; wallMs: number; asExpected: boolean; jobs: number; problems: string[] }> {
  const scenarios = (await loadScenarios([path.join(REPO_ROOT, 'scenarios')])).filter((s) => s.suites.includes('default'));
  const plans = planCells(scenarios, { backend });
  const out = await mkdtemp(path.join(os.tmpdir(), 'faultline-bench-suite-'));
  const state = await useTempStateDir();
  const jobs = defaultJobs(plans.length);
  try {
    const t0 = performance.now();
    const report = await runCells({ cells: plans, out, jobs, reporters: [], signal: new AbortController().signal, seed: 1, ...registryEnv() });
    const wallMs = performance.now() - t0;
    const problems = report.cells.filter((c) => !c.asExpected).map((c) => `${backend}: ${c.id} ${c.outcome}: ${c.reason}`);
    return { cells: plans.length, wallMs, asExpected: report.summary.asExpected, jobs, problems };
  } finally {
    await rm(out, { recursive: true, force: true });
    await state.restore();
  }
}

export { median };
