// One node of a kind cluster: a container kind made (<cluster>-control-plane, -worker, -worker2...).
// Commands and files go through the container's init by pid (NamespaceNode, as on the container
// backend), never through the engine's exec. Commands take one nsenter each, in the container's IPC
// namespace too: the image is kind's, perl (the exec agent) is not guaranteed there. A power cut is
// SIGKILL of the container through the engine (kill marks it stopped, so the restart policy does not
// fire: a power cut, not the clean systemd shutdown `docker stop` sends), power on is a start of the
// same container: /var (kind's anonymous volume) and the container's own layer (/etc) stay, /run and
// /tmp come back empty. Refused where the provider cannot restart nodes (podman: kind #2272, #3473)
// and for nodes whose stack keeps state on tmpfs (etcd under /tmp).
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultlineError } from '../../errors.ts';
import type { NodeDaemon, NodeSpec } from '../types.ts';
import { NamespaceNode } from '../local/namespace-node.ts';
import { NodePaths } from '../local/node-paths.ts';
import { isSameProcessAlive, readStartTime } from '../../util/procfs.ts';
import type { EngineCli } from './engine.ts';

export interface KindNodeOptions {
  spec: NodeSpec;
  /** The container's name (= the Kubernetes node name). */
  containerName: string;
  engine: EngineCli;
  /** Why this node cannot be power-cycled, when it cannot. */
  rebootRefusal?: string;
  /** A dir of the cell's work dir for the node's offline view (symlinks to /var and /etc on the host). */
  workDir: string;
}

interface Init {
  pid: number;
  startTime: number;
}

export class KindNode extends NamespaceNode {
  readonly containerName: string;
  private init: Init | undefined;
  private booted: number | undefined;
  private offline: NodePaths | undefined;

  constructor(private readonly opts: KindNodeOptions) {
    super(opts.spec, { execAgent: false, enterIpc: true });
    this.containerName = opts.containerName;
  }

  get running(): boolean {
    return this.livePid() !== undefined;
  }

  get bootedAtMs(): number | undefined {
    return this.running ? this.booted : undefined;
  }

  /** kind's nodes run their own runtime: sandboxes are not below a faultline cgroup. */
  get cgroupParent(): string {
    return '';
  }

  protected livePid(): number | undefined {
    const i = this.init;
    return i && isSameProcessAlive(i) ? i.pid : undefined;
  }

  /** While it runs, the whole disk through the init's root; while off, the offline view (prepareOffline). */
  protected get paths(): NodePaths {
    const pid = this.livePid();
    if (pid !== undefined) return new NodePaths({ nodeName: this.name, diskDir: `/proc/${pid}/root`, holderPid: () => this.livePid() });
    if (!this.offline) throw new FaultlineError('environment', `node ${this.name} is powered off and its disk is not reachable from this host`);
    return this.offline;
  }

  override startDaemon(name: string, _argv: readonly string[]): Promise<NodeDaemon> {
    return Promise.reject(new FaultlineError('invalid-input', `node ${this.name}: a kind node runs its own daemons (systemd, containerd, kubelet); faultline starts none (${name})`));
  }

  /** Takes the running container as this node (after kind created it). */
  async attach(): Promise<void> {
    const st = await this.opts.engine.inspect(this.containerName);
    if (!st?.running || !st.pid) throw new FaultlineError('environment', `node ${this.name}: kind's container ${this.containerName} is not running (${st?.status ?? 'missing'})`);
    const startTime = readStartTime(st.pid);
    if (startTime === undefined) {
      throw new FaultlineError('environment', `node ${this.name}: the engine says ${this.containerName}'s init is pid ${st.pid}, which this host does not have`, {
        hint: 'the kind backend reaches nodes by pid: the engine must run on this host (not a remote DOCKER_HOST or a VM)',
      });
    }
    this.init = { pid: st.pid, startTime };
    this.booted ??= Date.now();
  }

  /** SIGKILL of the container: a power cut. The disk (/var, the container's layer) stays. */
  async powerOff(): Promise<void> {
    if (this.opts.rebootRefusal) throw new FaultlineError('invalid-input', `node ${this.name} (${this.containerName}) cannot be power-cycled: ${this.opts.rebootRefusal}`);
    const st = await this.opts.engine.inspect(this.containerName);
    if (!st) throw new FaultlineError('environment', `node ${this.name}: its container ${this.containerName} is gone`);
    this.prepareOffline(st.varDir, st.upperDir);
    if (st.running) await this.opts.engine.kill(this.containerName);
    const deadline = Date.now() + 30_000;
    for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
      const now = await this.opts.engine.inspect(this.containerName);
      if (!now?.running) break;
      if (Date.now() > deadline) throw new FaultlineError('environment', `node ${this.name}: the engine still reports ${this.containerName} running 30 s after SIGKILL`);
      await sleep(delay);
    }
    this.init = undefined;
    this.booted = undefined;
    await this.forgetProcesses();
  }

  /** The engine starts the same container again (kind's entrypoint, then systemd). */
  async powerOn(): Promise<void> {
    if (this.running) throw new FaultlineError('internal', `node ${this.name} is already running`);
    const t0 = Date.now();
    await this.opts.engine.start(this.containerName);
    await this.attach();
    this.booted = t0;
  }

  /**
   * While off, /var is the volume's dir on the host and /etc the container's upper layer: a view
   * of symlinks NodePaths walks like a node's disk (used to lose writes in a power cut).
   */
  private prepareOffline(varDir: string | undefined, upperDir: string | undefined): void {
    const root = path.join(this.opts.workDir, 'offline-root');
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true, mode: 0o700 });
    if (varDir) symlinkSync(varDir, path.join(root, 'var'));
    if (upperDir) symlinkSync(path.join(upperDir, 'etc'), path.join(root, 'etc'));
    this.offline = new NodePaths({ nodeName: this.name, diskDir: root, holderPid: () => undefined });
  }
}
