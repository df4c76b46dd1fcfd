// Helpers for the container backend's real tests: whether they can run here, and what a run left in
// the engine, in the host's cgroups, among its processes and in the host's iptables.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { ContainerBackend } from '../harness/backends/container/container-backend.ts';
import { type ContainerEngine, connectExternal, planEngine, startPrivatePodman } from '../harness/backends/container/engine.ts';
import { cachedImage } from '../harness/backends/container/image.ts';
import { LABEL_RUN } from '../harness/backends/container/labels.ts';
import { CONTAINER_CGROUP_ROOT } from '../harness/backends/container/reaper.ts';
import { cgroupRoots } from '../harness/util/cgroups.ts';
import { debianUnreachable } from './network.ts';

/**
 * Why the container backend's real tests cannot run here, or undefined when they can: a prerequisite
 * missing (the backend's own checks), or the node image neither built nor buildable (mirror offline).
 * Says so on stderr, so a skipped test never goes unnoticed.
 */
export async function containerSkipReason(what: string): Promise<string | undefined> {
  let reason: string | undefined;
  const failing = (await new ContainerBackend().check()).filter((c) => !c.ok);
  if (failing.length) reason = failing.map((c) => `${c.name}: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ''}`).join('; ');
  else if (!cachedImage().built) {
    const why = await debianUnreachable();
    if (why) reason = `the node image is not built and ${why}`;
  }
  if (reason) process.stderr.write(`skipping ${what}: ${reason}\n`);
  return reason;
}

/** Runs `fn` against an engine of its own (never the socket of this process's backend). */
export async function withEngine<T>(fn: (engine: ContainerEngine) => Promise<T>): Promise<T> {
  const plan = await planEngine();
  if (plan.kind === 'none') throw new Error(plan.reason);
  const engine =
    plan.kind === 'external'
      ? await connectExternal(plan.socketPath, plan.source)
      : await startPrivatePodman(plan, { socketPath: join(plan.dir, 'run', `test-${process.pid}-${Math.random().toString(16).slice(2, 8)}.sock`) });
  try {
    return await fn(engine);
  } finally {
    await engine.stop();
  }
}

export interface EngineInventory {
  containers: string[];
  volumes: string[];
  networks: string[];
}

/** What the engine holds with the run's label: names of containers, volumes, networks. */
export function engineInventory(runId: string): Promise<EngineInventory> {
  return withEngine(async ({ docker }) => {
    const label = [`${LABEL_RUN}=${runId}`];
    return {
      containers: (await docker.listContainers({ all: true, filters: { label } })).map((c) => c.Names?.[0] ?? c.Id).sort(),
      volumes: ((await docker.listVolumes({ filters: { label } })).Volumes ?? []).map((v) => v.Name).sort(),
      networks: (await docker.listNetworks({ filters: { label } })).map((n) => n.Name).sort(),
    };
  });
}

/** The run's cgroup dirs still on the host, in any hierarchy. */
export function runCgroups(runId: string): string[] {
  return cgroupRoots()
    .map((r) => join(r, CONTAINER_CGROUP_ROOT, runId))
    .filter((d) => existsSync(d));
}

/** Live processes (not zombies) whose command line names the run or whose cgroup is the run's. */
export function processesOfContainerRun(runId: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      if (/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const cg = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      if ((cmd.includes(runId) && !cmd.includes('vitest')) || cg.includes(`${CONTAINER_CGROUP_ROOT}/${runId}`)) out.push(`${pid} ${cmd.slice(0, 160)}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

/** The host's iptables and ip6tables rules (iptables-save output lines). */
export async function hostIptables(): Promise<string[]> {
  const lines: string[] = [];
  for (const cmd of ['iptables-save', 'ip6tables-save']) {
    const r = await execa(cmd, [], { reject: false });
    lines.push(...String(r.stdout).split('\n').filter((l) => l && !l.startsWith('#')));
  }
  return lines;
}

/**
 * Rules that were not there before and carry a mark of the run (CNI chains, its id, its sandboxes'
 * ids): what a run would have left in the host's iptables. Rules others add meanwhile are not judged.
 */
export function iptablesLeftovers(before: readonly string[], after: readonly string[], marks: readonly string[]): string[] {
  const old = new Set(before);
  const all = ['CNI-', 'faultline', ...marks.filter((m) => m.length >= 4)];
  return after.filter((l) => !old.has(l) && all.some((m) => l.includes(m)));
}
