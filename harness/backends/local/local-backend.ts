// The default backend: each node is a process holding new mount, net and uts namespaces (see
// holder.sh and local-node.ts). Nothing is shared with the host's root namespaces or its CNI dirs.
import { mkdir, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FaultlineError, errorMessage } from '../../errors.ts';
import { defaultNodeNames, type Backend, type BackendCheck, type BackendCheckOptions, type ClusterSpec, type NodeFileRoots } from '../types.ts';
import { localBackendChecks } from './checks.ts';
import { activeRun, cellDirName, type Run } from '../../ledger/ledger.ts';
import { LocalCluster } from './local-cluster.ts';
import { LocalNode } from './local-node.ts';
import { startSegments } from './segment.ts';
import { PERSISTENT_ROOTS, VOLATILE_ROOTS } from './node-paths.ts';
import { localReaper, runCgroupRoot } from './reaper.ts';

export { LocalCluster } from './local-cluster.ts';
export { LocalNode } from './local-node.ts';

const NODE_NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export interface LocalBackendOptions {
  /** The run's ledger; default: the run this process created with the spec's run id. */
  run?: Run;
  /** How long a node's holder may take to set up its namespaces. */
  readyTimeoutMs?: number;
}

export class LocalBackend implements Backend {
  readonly name = 'local';
  readonly fileRoots: NodeFileRoots = { persistent: PERSISTENT_ROOTS, volatile: VOLATILE_ROOTS, kernelBacked: ['/run/netns'] };
  readonly reaper = localReaper;

  constructor(private readonly opts: LocalBackendOptions = {}) {}

  nodeNames(count: number): string[] {
    return defaultNodeNames(count);
  }

  check(opts?: BackendCheckOptions): Promise<BackendCheck[]> {
    return localBackendChecks(opts);
  }

  async up(spec: ClusterSpec, signal?: AbortSignal): Promise<LocalCluster> {
    throwIfAborted(signal);
    const run = this.opts.run ?? activeRun(spec.runId);
    if (!run || run.runId !== spec.runId) {
      throw new FaultlineError('internal', `no ledger for run ${spec.runId} in this process: create it with createRun() before backend.up()`);
    }
    validateNodes(spec);
    const workDir = resolve(spec.workDir);
    if (!workDir.startsWith(run.workDir + '/')) {
      throw new FaultlineError('internal', `cell work dir ${workDir} is not inside the run's dir ${run.workDir}`);
    }
    const pluginDirs = new Map<string, string>();
    for (const n of spec.nodes) pluginDirs.set(n.name, await checkPluginDir(n.name, n.pluginDir));
    run.record({ kind: 'work-dir', path: workDir, cellId: spec.cellId });
    // A real runtime's sandboxes get cgroups below this (runc creates them): listed before any exists.
    if (spec.nodes.some((n) => n.runtimeDir) && !run.resources().some((r) => r.kind === 'cgroup')) {
      run.record({ kind: 'cgroup', path: runCgroupRoot(spec.runId) });
    }
    await mkdir(workDir, { recursive: true, mode: 0o755 });
    if (!(await realpath(workDir)).startsWith(run.workDir + '/')) {
      throw new FaultlineError('internal', `cell work dir ${workDir} resolves outside the run's dir ${run.workDir}`);
    }
    const readyTimeoutMs = this.opts.readyTimeoutMs ?? 15_000;
    const segments = spec.segments?.length ? await startSegments(spec.segments, { runId: spec.runId, cellId: spec.cellId, workDir, run, readyTimeoutMs }) : [];
    const linkSegments = async (node: LocalNode) => {
      for (const seg of segments) await seg.link(node);
    };
    const nodes = spec.nodes.map(
      (n) =>
        new LocalNode({
          spec: { ...n, pluginDir: pluginDirs.get(n.name)! },
          runId: spec.runId,
          cellId: spec.cellId,
          nodeDir: join(workDir, 'nodes', n.name),
          tag: `faultline.${spec.runId}.${cellDirName(spec.cellId)}.${n.name}`,
          run,
          readyTimeoutMs,
          cgroupParent: `${runCgroupRoot(spec.runId)}/${cellDirName(spec.cellId)}/${n.name}`,
          ...(segments.length ? { onPowerOn: linkSegments } : {}),
        }),
    );
    const cluster = new LocalCluster(nodes, workDir, segments);
    const started = await Promise.allSettled(nodes.map((n) => n.powerOn()));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed || signal?.aborted) {
      try {
        await cluster.down();
      } catch (e) {
        process.stderr.write(`faultline: cleanup after a failed start also failed: ${errorMessage(e)}\n`);
      }
      if (failed) throw failed.reason;
      throwIfAborted(signal);
    }
    return cluster;
  }
}

/** Node names are hostnames and unique; a cluster has at least one node. */
export function validateNodes(spec: ClusterSpec): void {
  if (spec.nodes.length === 0) throw new FaultlineError('invalid-input', `cell ${spec.cellId}: a cluster needs at least one node`);
  const seen = new Set<string>();
  for (const n of spec.nodes) {
    if (!NODE_NAME_RE.test(n.name)) {
      throw new FaultlineError('invalid-input', `node name ${JSON.stringify(n.name)} is not a valid hostname (lowercase letters, digits, '-'; at most 63)`);
    }
    if (seen.has(n.name)) throw new FaultlineError('invalid-input', `node name ${n.name} appears twice`);
    seen.add(n.name);
  }
}

/** The absolute path of an existing plugin (or runtime) dir. */
export async function checkPluginDir(node: string, dir: string, what = 'plugin dir'): Promise<string> {
  const abs = resolve(dir);
  try {
    if ((await stat(abs)).isDirectory()) return abs;
  } catch {
    // reported below
  }
  throw new FaultlineError('invalid-input', `node ${node}: ${what} ${abs} does not exist or is not a directory`);
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  throw reason instanceof FaultlineError ? reason : new FaultlineError('interrupted', `interrupted: ${errorMessage(reason)}`);
}
