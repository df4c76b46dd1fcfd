// The default backend: each node is a process holding new mount, net and uts namespaces (see
// holder.sh and local-node.ts). Nothing is shared with the host's root namespaces or its CNI dirs.
import { access, mkdir, readFile, realpath, stat } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { join, resolve, delimiter } from 'node:path';
import { execa } from 'execa';
import { FaultlineError, errorMessage } from '../../errors.ts';
import { defaultNodeNames, type Backend, type BackendProblem, type ClusterSpec, type NodeFileRoots } from '../types.ts';
import { activeRun, cellDirName, type Run } from '../../ledger/ledger.ts';
import { LocalCluster } from './local-cluster.ts';
import { LocalNode, NODE_PATH_ENV } from './local-node.ts';
import { startSegments } from './segment.ts';
import { PERSISTENT_ROOTS, VOLATILE_ROOTS } from './node-paths.ts';
import { localReaper } from './reaper.ts';

export { LocalCluster } from './local-cluster.ts';
export { LocalNode } from './local-node.ts';

const NODE_NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export interface LocalBackendOptions {
  /** The run's ledger; default: the run this process created with the spec's run id. */
  run?: Run;
  /** How long a node's holder may take to set up its namespaces. */
  readyTimeoutMs?: number;
}

/** Binaries the local backend runs, with the Debian package that has each (doctor checks the same list). */
export const LOCAL_BACKEND_BINARIES: readonly { bin: string; pkg: string }[] = [
  { bin: 'unshare', pkg: 'util-linux' },
  { bin: 'nsenter', pkg: 'util-linux' },
  { bin: 'setpriv', pkg: 'util-linux' },
  { bin: 'mount', pkg: 'mount' },
  { bin: 'umount', pkg: 'mount' },
  { bin: 'hostname', pkg: 'hostname' },
  { bin: 'ip', pkg: 'iproute2' },
  { bin: 'iptables', pkg: 'iptables' },
  { bin: 'sh', pkg: 'dash' },
  { bin: 'sleep', pkg: 'coreutils' },
  { bin: 'perl', pkg: 'perl-base' }, // the per-node exec agent
];

export class LocalBackend implements Backend {
  readonly name = 'local';
  readonly fileRoots: NodeFileRoots = { persistent: PERSISTENT_ROOTS, volatile: VOLATILE_ROOTS, kernelBacked: ['/run/netns'] };
  readonly reaper = localReaper;

  constructor(private readonly opts: LocalBackendOptions = {}) {}

  nodeNames(count: number): string[] {
    return defaultNodeNames(count);
  }

  async check(): Promise<BackendProblem[]> {
    const problems: BackendProblem[] = [];
    const isRoot = process.getuid?.() === 0;
    if (!isRoot) {
      problems.push({
        problem: 'not running as root: the local backend creates namespaces and mounts',
        fix: 'run faultline as root (e.g. sudo faultline ...)',
      });
    }
    const missing: string[] = [];
    for (const { bin, pkg } of LOCAL_BACKEND_BINARIES) {
      if (!(await findInPath(bin))) {
        missing.push(bin);
        problems.push({ problem: `${bin} not found in ${NODE_PATH_ENV}`, fix: `apt-get install ${pkg}` });
      }
    }
    const filesystems = await readFile('/proc/filesystems', 'utf8').catch(() => '');
    if (!/\toverlay$/m.test(filesystems)) {
      problems.push({ problem: 'the kernel has no overlayfs (not in /proc/filesystems)', fix: 'modprobe overlay (kernel option CONFIG_OVERLAY_FS)' });
    }
    if (isRoot && !missing.includes('unshare')) {
      const r = await execa('unshare', ['--mount', '--net', '--uts', '--', 'true'], { reject: false, env: { PATH: NODE_PATH_ENV }, extendEnv: false });
      if (r.exitCode !== 0) {
        problems.push({
          problem: `cannot create mount/net/uts namespaces: ${String(r.stderr).trim() || r.shortMessage}`,
          fix: 'run on a host or VM, or in a privileged container (--privileged), that allows unshare(2)',
        });
      }
    }
    return problems;
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

function validateNodes(spec: ClusterSpec): void {
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

async function checkPluginDir(node: string, dir: string): Promise<string> {
  const abs = resolve(dir);
  try {
    if ((await stat(abs)).isDirectory()) return abs;
  } catch {
    // reported below
  }
  throw new FaultlineError('invalid-input', `node ${node}: plugin dir ${abs} does not exist or is not a directory`);
}

async function findInPath(bin: string): Promise<boolean> {
  for (const dir of NODE_PATH_ENV.split(delimiter)) {
    try {
      await access(join(dir, bin), fsConstants.X_OK);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  throw reason instanceof FaultlineError ? reason : new FaultlineError('interrupted', `interrupted: ${errorMessage(reason)}`);
}
