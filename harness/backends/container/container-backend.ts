// The container backend: each node a kind-shaped container (container-node.ts) on a Docker-API engine
// (engine.ts: the user's, or a private podman faultline starts), from a node image built here and
// cached (image.ts). Nodes have no engine network: segments are links faultline makes between the
// containers' namespaces, as on the local backend, with no route out. Everything carries the run's
// labels and is listed in the run's ledger before it exists; the reaper removes what a dead run left.
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FaultlineError, errorMessage } from '../../errors.ts';
import { activeRun, cellDirName, type LedgerFile, type Run, type RunReaper } from '../../ledger/ledger.ts';
import { defaultNodeNames, type Backend, type BackendCheck, type BackendCheckOptions, type Cluster, type ClusterSpec, type NodeFileRoots } from '../types.ts';
import { PERSISTENT_ROOTS, VOLATILE_ROOTS } from '../local/node-paths.ts';
import { checkPluginDir, throwIfAborted, validateNodes } from '../local/local-backend.ts';
import { Segment, addBridge, checkSegmentNames } from '../local/segment.ts';
import { type ContainerEngine, type EnginePlan, connectExternal, planEngine, planPrivatePodman, startPrivatePodman } from './engine.ts';
import { ensureNodeImage } from './image.ts';
import { ContainerNode } from './container-node.ts';
import { containerBackendChecks } from './checks.ts';
import { tearDownAll } from '../teardown.ts';
import { type EngineResource, isEngineEntry, removeLabelled, removeRunCgroups, runContainerCgroupRoot } from './reaper.ts';

export interface ContainerBackendOptions {
  /** The run's ledger; default: the run this process created with the spec's run id. */
  run?: Run;
  /** How long the engine may take to start a container. */
  startupTimeoutMs?: number;
}

/** The nodes of one cell (and its segments' containers); down() removes them all. */
export class ContainerCluster implements Cluster {
  private downed: Promise<void> | undefined;

  constructor(
    readonly nodes: readonly ContainerNode[],
    readonly segments: readonly Segment[],
    private readonly segmentNodes: readonly ContainerNode[],
    private readonly onDown: () => void,
  ) {}

  node(name: string): ContainerNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new FaultlineError('invalid-input', `no node named ${name} (nodes: ${this.nodes.map((n) => n.name).join(', ')})`);
    return node;
  }

  /** Removes every container and volume of the cell; idempotent; collects every error. */
  down(): Promise<void> {
    this.downed ??= this.removeAll().finally(this.onDown);
    return this.downed;
  }

  private removeAll(): Promise<void> {
    return tearDownAll([...this.nodes, ...this.segmentNodes].map((n) => ({ name: n.name, down: () => n.destroy() })));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }
}

export class ContainerBackend implements Backend {
  readonly name = 'container';
  readonly fileRoots: NodeFileRoots = { persistent: PERSISTENT_ROOTS, volatile: VOLATILE_ROOTS, kernelBacked: ['/run/netns'] };
  readonly reaper: RunReaper;
  private engine: Promise<ContainerEngine> | undefined;
  /** Clusters up in this process: the private engine stops when the last is down and its run released. */
  private live = 0;

  constructor(private readonly opts: ContainerBackendOptions = {}) {
    this.reaper = { name: 'container', reap: (ledger) => this.reap(ledger) };
  }

  nodeNames(count: number): string[] {
    return defaultNodeNames(count);
  }

  check(opts?: BackendCheckOptions): Promise<BackendCheck[]> {
    return containerBackendChecks(opts);
  }

  /** This process's engine: found or started once, restarted if it died. */
  private async useEngine(signal?: AbortSignal): Promise<ContainerEngine> {
    if (this.engine) {
      const e = await this.engine.catch(() => undefined);
      if (e?.alive) return e;
      this.engine = undefined;
    }
    this.engine = (async () => {
      const plan = await planEngine();
      return startEngine(plan, signal);
    })();
    this.engine.catch(() => (this.engine = undefined));
    return this.engine;
  }

  async up(spec: ClusterSpec, signal?: AbortSignal): Promise<ContainerCluster> {
    throwIfAborted(signal);
    const run = this.opts.run ?? activeRun(spec.runId);
    if (!run || run.runId !== spec.runId) {
      throw new FaultlineError('internal', `no ledger for run ${spec.runId} in this process: create it with createRun() before backend.up()`);
    }
    validateNodes(spec);
    checkSegmentNames(spec.segments ?? []);
    const workDir = resolve(spec.workDir);
    if (!workDir.startsWith(run.workDir + '/')) {
      throw new FaultlineError('internal', `cell work dir ${workDir} is not inside the run's dir ${run.workDir}`);
    }
    const nodeSpecs = await Promise.all(
      spec.nodes.map(async (n) => ({
        ...n,
        pluginDir: await checkPluginDir(n.name, n.pluginDir),
        ...(n.runtimeDir ? { runtimeDir: await checkPluginDir(n.name, n.runtimeDir, 'runtime dir') } : {}),
        ...(n.multusDir ? { multusDir: await checkPluginDir(n.name, n.multusDir, 'multus dir') } : {}),
      })),
    );
    this.live++;
    let counted = true;
    const release = () => {
      if (counted) this.live--;
      counted = false;
    };
    const made: ContainerNode[] = [];
    const segNodes: ContainerNode[] = [];
    try {
      const engine = await this.useEngine(signal);
      // testcontainers finds its engine once per process (a second or so): let it run meanwhile.
      void import('./node-container.ts').then((m) => m.useEngine(engine)).catch(() => undefined);
      if (!run.resources().some(isEngineEntry)) {
        run.record({ kind: 'container-engine', private: engine.private, socketPath: engine.socketPath, ...(engine.dir ? { dir: engine.dir } : {}) } satisfies EngineResource);
      }
      const image = await ensureNodeImage(engine, { ...(signal ? { signal } : {}), ...(spec.onProgress ? { onProgress: spec.onProgress } : {}) });
      throwIfAborted(signal);
      run.record({ kind: 'work-dir', path: workDir, cellId: spec.cellId });
      await mkdir(workDir, { recursive: true, mode: 0o755 });
      const cellKey = cellDirName(spec.cellId);
      const base = `faultline-${spec.runId}-${createHash('sha256').update(spec.cellId).digest('hex').slice(0, 8)}`;
      const cgroupOf = (name: string) => `${runContainerCgroupRoot(spec.runId)}/${cellKey}/${name}`;
      const nodeOf = (s: (typeof nodeSpecs)[number], onPowerOn?: (n: ContainerNode) => Promise<void>) => {
        const node = new ContainerNode({
          spec: s,
          cellId: spec.cellId,
          engine,
          image,
          run,
          containerName: `${base}-${s.name}`,
          ...(engine.cgroupfs ? { containerCgroupParent: cgroupOf(s.name) } : {}),
          cgroupParent: `${cgroupOf(s.name)}/sandboxes`,
          startupTimeoutMs: this.opts.startupTimeoutMs ?? 60_000,
          ...(onPowerOn ? { onPowerOn } : {}),
        });
        return node;
      };
      // Segments first: every node links itself to them at each power-on.
      const segments: Segment[] = [];
      for (const name of spec.segments ?? []) {
        const noPlugins = join(workDir, 'segments', name, 'no-plugins');
        await mkdir(noPlugins, { recursive: true, mode: 0o755 });
        const holder = nodeOf({ name: `seg-${name}`, pluginDir: noPlugins, podSubnet: '0.0.0.0/32' });
        segNodes.push(holder);
        await holder.powerOn();
        await addBridge(name, holder);
        segments.push(new Segment(name, holder));
      }
      const link = segments.length
        ? async (node: ContainerNode) => {
            for (const seg of segments) await seg.link(node);
          }
        : undefined;
      made.push(...nodeSpecs.map((s) => nodeOf(s, link)));
      const started = await Promise.allSettled(made.map((n) => n.powerOn()));
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      throwIfAborted(signal);
      return new ContainerCluster(made, segments, segNodes, release);
    } catch (e) {
      const cleanup = await Promise.allSettled([...made, ...segNodes].map((n) => n.destroy()));
      for (const r of cleanup) if (r.status === 'rejected') process.stderr.write(`faultline: cleanup after a failed start also failed: ${errorMessage(r.reason)}\n`);
      release();
      throw e;
    }
  }

  /**
   * The reaper: what a run left in the engine, by label (its containers and volumes carry the run id),
   * then its cgroups. At a normal end there is nothing but the cgroup root left; this process's engine
   * then stops unless a cluster is still up.
   */
  private async reap(ledger: LedgerFile): Promise<void> {
    const recorded = ledger.resources.find(isEngineEntry);
    if (!recorded) return;
    const mine = this.engine ? await this.engine.catch(() => undefined) : undefined;
    const same = mine?.alive && (recorded.private ? mine.private && mine.dir === recorded.dir : mine.socketPath === recorded.socketPath);
    let engine: ContainerEngine | undefined = same ? mine : undefined;
    let temporary = false;
    try {
      if (!engine) {
        engine = recorded.private ? await startPrivatePodman(planPrivate(recorded), { purpose: 'reaper' }) : await connectExternal(recorded.socketPath, "the run's ledger");
        temporary = true;
      }
      await removeLabelled(engine, ledger.runId);
      await removeRunCgroups(ledger);
    } finally {
      if (temporary) await engine?.stop();
      else if (engine && this.live === 0) {
        this.engine = undefined;
        await engine.stop();
      }
    }
  }
}

/** The private podman a ledger names: the same storage dir, podman from this host. */
function planPrivate(recorded: EngineResource): Extract<EnginePlan, { kind: 'private-podman' }> {
  const plan = planPrivatePodman();
  if (plan.kind !== 'private-podman') {
    throw new FaultlineError('prerequisite', `cannot start podman to remove what the run left in ${recorded.dir ?? 'its storage'}: ${plan.kind === 'none' ? plan.reason : ''}`, {
      hint: plan.kind === 'none' ? `fix: ${plan.fix}` : '',
    });
  }
  return { ...plan, dir: recorded.dir ?? plan.dir };
}

async function startEngine(plan: EnginePlan, signal?: AbortSignal): Promise<ContainerEngine> {
  switch (plan.kind) {
    case 'external':
      return connectExternal(plan.socketPath, plan.source);
    case 'private-podman':
      return startPrivatePodman(plan, signal ? { signal } : {});
    case 'none':
      throw new FaultlineError('prerequisite', `the container backend has no engine: ${plan.reason}`, { hint: `fix: ${plan.fix}` });
  }
}
