// One node of the container backend: a kind-shaped container (node-container.ts). Power off = SIGKILL
// of the container's init from the host (every process of the node dies with its pid namespace; the
// engine notices through conmon), power on = the engine starts the same container again: /var (the
// volume, with /etc/cni and /etc/containerd bound from it) is kept, /run and /tmp come back empty, and
// so does every kernel object (links, pod netns, iptables). Commands and files go through the init's
// namespaces and /proc/<pid>/root as on the local backend (namespace-node.ts), never through the
// engine's exec or archive API (slow, and exec sessions leave conmon processes behind).
import { chmodSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultlineError, errorMessage } from '../../errors.ts';
import type { NodeSpec } from '../types.ts';
import type { Run } from '../../ledger/ledger.ts';
import { removeCgroupTree } from '../../util/cgroups.ts';
import { type ProcessIdentity, isSameProcessAlive, readNs, readStartTime } from '../../util/procfs.ts';
import { NamespaceNode } from '../local/namespace-node.ts';
import { NodePaths } from '../local/node-paths.ts';
import { NODE_RUNTIME_DIR } from '../local/local-node.ts';
import { NODE_MULTUS_DIR } from '../types.ts';
import type { ContainerEngine } from './engine.ts';
import type { NodeBind } from './node-container.ts';
import { LABEL_CELL, LABEL_NODE, LABEL_RUN } from './labels.ts';

/**
 * Where the persistent roots live in the /var volume. /etc/cni and /etc/containerd are not under /var:
 * they are bound from the volume, so they survive a power cut like the rest of the node's disk.
 */
export const VOLUME_DIRS: Readonly<Record<string, string>> = {
  '/var/lib/cni': 'lib/cni',
  '/var/lib/containerd': 'lib/containerd',
  '/var/log': 'log',
  '/etc/cni': 'lib/faultline/etc/cni',
  '/etc/containerd': 'lib/faultline/etc/containerd',
};

/** The ledger entry of a node container (and of a segment's), listed before it is created. */
export interface ContainerResource {
  kind: 'container';
  cellId: string;
  node: string;
  container: string;
  volume: string;
  state: 'creating' | 'created' | 'removed';
}

export interface ContainerNodeOptions {
  spec: NodeSpec;
  cellId: string;
  engine: ContainerEngine;
  image: string;
  run: Run;
  /** Container name (unique per run: it carries the run id); its volume is <name>-var. */
  containerName: string;
  /** cgroupfs parent of the container (engines with the cgroupfs driver). */
  containerCgroupParent?: string;
  /** Where a real runtime puts its sandboxes' cgroups (below the container's); removed at power-off. */
  cgroupParent: string;
  /** Called at the end of every power-on (the cluster links the node to its segments). */
  onPowerOn?: (node: ContainerNode) => Promise<void>;
  startupTimeoutMs: number;
}

interface Init extends ProcessIdentity {
  mnt: string;
}

export class ContainerNode extends NamespaceNode {
  readonly containerName: string;
  readonly volumeName: string;
  protected readonly paths: NodePaths;
  private containerId: string | undefined;
  private volumeDir: string | undefined;
  private ledgerId: string | undefined;
  private init: Init | undefined;
  private booted: number | undefined;
  private removed = false;

  constructor(private readonly opts: ContainerNodeOptions) {
    super(opts.spec);
    this.containerName = opts.containerName;
    this.volumeName = `${opts.containerName}-var`;
    this.paths = new NodePaths({
      nodeName: this.name,
      diskDir: '/nonexistent', // every persistent root is in the volume (persistentHostPath)
      persistentHostPath: (root) => join(this.requireVolume(), VOLUME_DIRS[root] ?? root),
      holderPid: () => this.livePid(),
    });
  }

  get running(): boolean {
    return this.init !== undefined && isSameProcessAlive(this.init);
  }

  get bootedAtMs(): number | undefined {
    return this.running ? this.booted : undefined;
  }

  /** The container's init, by its host pid (links, tests, diagnostics). */
  get holderPid(): number | undefined {
    return this.livePid();
  }

  /** The engine's id of the container, once created. */
  get id(): string | undefined {
    return this.containerId;
  }

  get cgroupParent(): string {
    return this.opts.cgroupParent;
  }

  /** The /var volume's dir on the host (persistent files are reached there, on or off). */
  get volumeHostDir(): string | undefined {
    return this.volumeDir;
  }

  protected livePid(): number | undefined {
    const init = this.init;
    if (!init || !isSameProcessAlive(init) || readNs(init.pid, 'mnt') !== init.mnt) return undefined;
    return init.pid;
  }

  private requireVolume(): string {
    if (!this.volumeDir) throw new FaultlineError('internal', `node ${this.name}: its volume does not exist yet`);
    return this.volumeDir;
  }

  private labels(): Record<string, string> {
    return { [LABEL_RUN]: this.opts.run.runId, [LABEL_CELL]: this.opts.cellId, [LABEL_NODE]: this.name };
  }

  // ---- power ----

  async powerOn(): Promise<void> {
    if (this.removed) throw new FaultlineError('internal', `node ${this.name} was torn down`);
    if (this.running) throw new FaultlineError('internal', `node ${this.name} is already running`);
    if (this.init) await this.powerOff(); // an init that died on its own: clear its leftovers
    const bootedAt = Date.now();
    const docker = this.opts.engine.docker;
    try {
      if (this.containerId === undefined) await this.create();
      else await docker.getContainer(this.containerId).start();
    } catch (e) {
      if (e instanceof FaultlineError) throw e;
      throw new FaultlineError('environment', `node ${this.name}: the engine cannot start its container: ${errorMessage(e)}`, { cause: e });
    }
    const state = (await docker.getContainer(this.containerId!).inspect()).State;
    const pid = state.Pid;
    const startTime = pid ? readStartTime(pid) : undefined;
    const mnt = pid ? readNs(pid, 'mnt') : undefined;
    if (!state.Running || !pid || startTime === undefined || mnt === undefined || mnt === readNs('self', 'mnt')) {
      throw new FaultlineError('environment', `node ${this.name}: its container is not running after start (${state.Status}${state.Error ? `: ${state.Error}` : ''})`, {
        hint: 'the engine runs its containers elsewhere? The container backend needs an engine on this host',
      });
    }
    this.init = { pid, startTime, mnt };
    this.booted = bootedAt;
    try {
      const lo = await this.exec(['ip', 'link', 'set', 'lo', 'up']);
      if (lo.exitCode !== 0) throw new FaultlineError('environment', `node ${this.name}: cannot bring lo up: ${lo.stderr.trim()}`);
      await this.opts.onPowerOn?.(this);
    } catch (e) {
      await this.powerOff().catch(() => {}); // only the original error matters here
      throw e;
    }
  }

  /** First power-on: the volume (seeded: no copy of the image's /var), then the container. */
  private async create(): Promise<void> {
    const { engine, run, spec } = this.opts;
    this.ledgerId = run.record({ kind: 'container', cellId: this.opts.cellId, node: this.name, container: this.containerName, volume: this.volumeName, state: 'creating' } satisfies ContainerResource);
    const { NodeContainer, useEngine } = await import('./node-container.ts');
    const [, dir] = await Promise.all([
      useEngine(engine),
      engine.docker.createVolume({ Name: this.volumeName, Labels: this.labels() }).then(async () => (await engine.docker.getVolume(this.volumeName).inspect()).Mountpoint),
    ]);
    if (!dir || !existsSync(dir)) {
      throw new FaultlineError('environment', `node ${this.name}: the engine's volume ${this.volumeName} is not on this host (${dir || 'no mount point'})`, {
        hint: 'the container backend needs a local engine: unset DOCKER_HOST to let faultline start podman',
      });
    }
    seedVolume(dir);
    this.volumeDir = dir;
    const binds: NodeBind[] = [
      { source: this.volumeName, target: '/var', options: 'rw,nocopy' },
      { source: join(dir, VOLUME_DIRS['/etc/cni']!), target: '/etc/cni', options: 'rw' },
      { source: join(dir, VOLUME_DIRS['/etc/containerd']!), target: '/etc/containerd', options: 'rw' },
      { source: spec.pluginDir, target: '/opt/cni/bin', options: 'ro' },
    ];
    if (spec.runtimeDir) {
      binds.push({ source: spec.runtimeDir, target: NODE_RUNTIME_DIR, options: 'ro' });
      // runc in the node puts sandboxes below the node's cgroup parent: it needs the host's tree, as
      // the node's own view of the hierarchies is rooted at its container's cgroup.
      binds.push({ source: '/sys/fs/cgroup', target: '/sys/fs/cgroup', options: 'rw,rbind' });
    }
    // Multus's thin plugin binaries, where the local node shows them (holder.sh).
    if (spec.multusDir) binds.push({ source: spec.multusDir, target: NODE_MULTUS_DIR, options: 'ro' });
    const container = new NodeContainer(this.opts.image, {
      name: this.containerName,
      hostname: this.name,
      labels: this.labels(),
      binds,
      // podman copies the image's /run into a tmpfs unless told not to; Docker never does.
      tmpfsRunOptions: engine.flavor === 'podman' ? 'rw,notmpcopyup,mode=755' : 'rw,mode=755',
      ...(this.opts.containerCgroupParent ? { cgroupParent: this.opts.containerCgroupParent } : {}),
      startupTimeoutMs: this.opts.startupTimeoutMs,
    });
    // A container whose start fails stays behind as Created: destroy() removes it by name.
    this.containerId = (await container.start()).getId();
    run.update(this.ledgerId, { state: 'created' });
  }

  /** SIGKILL of the init from the host: a power cut. The disk stays. "Already off" is fine. */
  async powerOff(): Promise<void> {
    const init = this.init;
    if (!init) return;
    if (isSameProcessAlive(init)) process.kill(init.pid, 'SIGKILL');
    await this.waitStopped();
    await this.forgetProcesses();
    // Sandboxes' cgroups outlive their processes (a real reboot starts with none).
    const left = await removeCgroupTree(this.opts.cgroupParent);
    if (left.length) throw new FaultlineError('environment', `node ${this.name}: cgroups left after power-off: ${left.join(', ')}`);
    this.init = undefined;
    this.booted = undefined;
  }

  /** Until the engine has seen the exit (a start before that fails). */
  private async waitStopped(): Promise<void> {
    if (!this.containerId) return;
    const c = this.opts.engine.docker.getContainer(this.containerId);
    const deadline = Date.now() + 30_000;
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      // While the init exits, podman's inspect may fail reading its /proc (HTTP 500 "no such
      // process"): the container is on its way down, ask again.
      const s = await c.inspect().then((i) => i.State, (e: unknown) => {
        if (/no such process/.test(errorMessage(e))) return { Running: true };
        throw e;
      });
      if (!s.Running) return;
      if (Date.now() > deadline) throw new FaultlineError('environment', `node ${this.name}: the engine still reports its container running 30 s after the power cut`);
      await sleep(delay);
    }
  }

  /** Power off, then the container and its volume go (a removed node cannot come back). */
  async destroy(): Promise<void> {
    const problems: string[] = [];
    await this.powerOff().catch((e: unknown) => problems.push(errorMessage(e)));
    this.removed = true;
    const docker = this.opts.engine.docker;
    await docker
      .getContainer(this.containerId ?? this.containerName)
      .remove({ force: true, v: true })
      .catch((e: { statusCode?: number }) => (e.statusCode === 404 ? undefined : problems.push(`container ${this.containerName}: ${errorMessage(e)}`)));
    await docker
      .getVolume(this.volumeName)
      .remove({ force: true })
      .catch((e: { statusCode?: number }) => (e.statusCode === 404 ? undefined : problems.push(`volume ${this.volumeName}: ${errorMessage(e)}`)));
    if (this.opts.containerCgroupParent) {
      const left = await removeCgroupTree(this.opts.containerCgroupParent);
      if (left.length) problems.push(`cgroups left: ${left.join(', ')}`);
    }
    if (this.ledgerId && !problems.length) this.opts.run.update(this.ledgerId, { state: 'removed' });
    if (problems.length) throw new FaultlineError('environment', `node ${this.name}: ${problems.join('; ')}`);
  }
}

/**
 * The volume's first content, instead of a copy of the image's /var (which costs half a second a
 * node): the persistent roots, and /var/run and /var/lock pointing into the tmpfs /run as in Debian.
 */
function seedVolume(dir: string): void {
  for (const d of [...Object.values(VOLUME_DIRS), 'lib/faultline/etc/cni/net.d', 'cache', 'spool', 'tmp']) mkdirSync(join(dir, d), { recursive: true, mode: 0o755 });
  chmodSync(join(dir, 'tmp'), 0o1777);
  for (const [name, target] of [['run', '/run'], ['lock', '/run/lock']] as const) {
    try {
      symlinkSync(target, join(dir, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}
