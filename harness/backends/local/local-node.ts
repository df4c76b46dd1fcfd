// One node of the local backend: a holder process with its own mount, net and uts namespaces
// (holder.sh), persistent dirs on the host, a tmpfs /run and /tmp. Power off = SIGKILL of everything
// inside the node; power on = a fresh holder over the same dirs. Commands, files, pod netns and daemons
// work as on every namespace node (namespace-node.ts).
import { mkdir, readFile } from 'node:fs/promises';
import { closeSync, openSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { FaultlineError } from '../../errors.ts';
import type { NodeSpec } from '../types.ts';
import { removeCgroupTree } from '../../util/cgroups.ts';
import type { Run } from '../../ledger/ledger.ts';
import type { HolderResource } from './reaper.ts';
import { NodePaths } from './node-paths.ts';
import { killMatching, mountinfoHasSource, readNs, readStartTime } from '../../util/procfs.ts';
import { NODE_PATH_ENV, NamespaceNode, safeReaddir } from './namespace-node.ts';

export { NODE_PATH_ENV } from './namespace-node.ts';

export const HOLDER_SCRIPT = fileURLToPath(new URL('./holder.sh', import.meta.url));
const READY_MARKER = '/run/.faultline-ready';
const DISK_DIRS = ['disk/etc/cni/net.d', 'disk/etc/containerd', 'disk/var/lib/cni', 'disk/var/lib/containerd', 'disk/var/log', '.ovl/etc-up', '.ovl/etc-wk', '.ovl/varlib-up', '.ovl/varlib-wk'];
/** Where a real runtime's binaries appear inside a node (read-only). */
export const NODE_RUNTIME_DIR = '/opt/faultline/runtime';

export interface LocalNodeOptions {
  spec: NodeSpec;
  runId: string;
  cellId: string;
  /** The node's dir on the host (disk/, .ovl/, holder.log). */
  nodeDir: string;
  /** Source name of the node's mounts: faultline.<run-id>.<cell>.<node>. */
  tag: string;
  /** The run's ledger: every holder is listed before it is spawned. */
  run: Run;
  readyTimeoutMs: number;
  /** Called at the end of every power-on (the cluster links the node to its external segments). */
  onPowerOn?: (node: LocalNode) => Promise<void>;
  /** The node's cgroup parent (below every hierarchy's root); removed at power-off. */
  cgroupParent: string;
}

interface Holder {
  subprocess: ResultPromise;
  pid: number;
  startTime: number | undefined;
  ledgerId: string;
  exited: boolean;
}

interface NodeNamespaces {
  mnt: string;
  net: string;
  uts: string;
}

export class LocalNode extends NamespaceNode {
  readonly nodeDir: string;
  readonly tag: string;
  private holder: Holder | undefined;
  /** Namespaces of the last holder, kept until power off has killed everything in them. */
  private ns: NodeNamespaces | undefined;
  private booted: number | undefined;
  protected readonly paths: NodePaths;

  constructor(private readonly opts: LocalNodeOptions) {
    super(opts.spec);
    this.nodeDir = opts.nodeDir;
    this.tag = opts.tag;
    this.paths = new NodePaths({
      nodeName: this.name,
      diskDir: join(opts.nodeDir, 'disk'),
      holderPid: () => this.livePid(),
    });
  }

  get running(): boolean {
    return this.holder !== undefined && !this.holder.exited;
  }

  get bootedAtMs(): number | undefined {
    return this.running ? this.booted : undefined;
  }

  /** Pid of the running holder (for tests and diagnostics). */
  get holderPid(): number | undefined {
    return this.running ? this.holder!.pid : undefined;
  }

  /**
   * The holder's pid, checked to still be the holder (its mount namespace is the node's), so a
   * pid the kernel has reused can never send a file operation or a command to the host.
   */
  protected livePid(): number | undefined {
    if (!this.running || !this.ns) return undefined;
    const pid = this.holder!.pid;
    return readNs(pid, 'mnt') === this.ns.mnt ? pid : undefined;
  }

  // ---- power ----

  async powerOn(): Promise<void> {
    if (this.running) throw new FaultlineError('internal', `node ${this.name} is already running`);
    if (this.holder || this.ns) await this.powerOff(); // a holder that died on its own: clear its leftovers
    await Promise.all(DISK_DIRS.map((d) => mkdir(join(this.nodeDir, d), { recursive: true, mode: 0o755 })));
    const log = join(this.nodeDir, 'holder.log');
    const ledgerId = this.opts.run.record({
      kind: 'holder',
      cellId: this.opts.cellId,
      node: this.name,
      nodeDir: this.nodeDir,
      tag: this.tag,
      state: 'starting',
    } satisfies HolderResource);
    const bootedAt = Date.now();
    // The node's own pid namespace, with catatonit as its init: --kill-child takes the init (and so
    // every process of the node) down with the unshare process, which dies with the harness.
    const subprocess = execa(
      'setpriv',
      ['--pdeathsig', 'KILL', '--', 'unshare', '--pid', '--fork', '--kill-child', '--mount-proc', '--mount', '--net', '--uts', '--propagation', 'private', '--',
        'catatonit', '--', 'sh', HOLDER_SCRIPT, this.nodeDir, this.spec.pluginDir, this.name, this.tag, this.spec.runtimeDir ?? '-', this.spec.multusDir ?? '-'],
      {
        detached: true, // terminal signals reach the harness, which tears down in order
        stdin: 'ignore',
        stdout: { file: log, append: true },
        stderr: { file: log, append: true },
        reject: false,
        extendEnv: false,
        env: {
          PATH: NODE_PATH_ENV,
          FAULTLINE_RUN_ID: this.opts.runId,
          FAULTLINE_CELL_ID: this.opts.cellId,
          FAULTLINE_NODE: this.name,
          FAULTLINE_CGROUPS: this.spec.runtimeDir ? '1' : '0',
        },
      },
    );
    const pid = subprocess.pid;
    if (pid === undefined) {
      const r = await subprocess;
      this.opts.run.update(ledgerId, { state: 'stopped' });
      throw new FaultlineError('environment', `node ${this.name}: cannot start the namespace holder: ${r.message ?? r.stderr}`, {
        hint: "run 'faultline doctor'",
      });
    }
    const holder: Holder = { subprocess, pid, startTime: readStartTime(pid), ledgerId, exited: false };
    this.holder = holder;
    this.opts.run.update(ledgerId, { pid, ...(holder.startTime === undefined ? {} : { startTime: holder.startTime }) });
    void subprocess.then(() => {
      holder.exited = true;
    });
    try {
      await this.waitReady(holder, log);
    } catch (e) {
      await this.powerOff().catch(() => {}); // only the original error matters here
      throw e;
    }
    const ns = { mnt: readNs(pid, 'mnt'), net: readNs(pid, 'net'), uts: readNs(pid, 'uts') };
    if (!ns.mnt || !ns.net || !ns.uts) {
      await this.powerOff().catch(() => {});
      throw new FaultlineError('environment', `node ${this.name}: the holder died right after starting (see ${log})`);
    }
    this.ns = ns as NodeNamespaces;
    this.booted = bootedAt;
    this.opts.run.update(ledgerId, { state: 'running' });
    if (this.opts.onPowerOn) {
      try {
        await this.opts.onPowerOn(this);
      } catch (e) {
        await this.powerOff().catch(() => {});
        throw e;
      }
    }
  }

  private async waitReady(holder: Holder, log: string): Promise<void> {
    const deadline = Date.now() + this.opts.readyTimeoutMs;
    const ownMnt = readNs('self', 'mnt');
    for (;;) {
      if (holder.exited) {
        const r = await holder.subprocess;
        const text = await readFile(log, 'utf8').catch(() => '');
        const tail = text.trim().split('\n').slice(-5).join('\n');
        throw new FaultlineError(
          'environment',
          `node ${this.name}: the namespace holder exited (${r.signal ?? `code ${r.exitCode}`}) while setting up:\n${tail}`,
          { hint: `full log: ${log}; run 'faultline doctor'` },
        );
      }
      const mnt = readNs(holder.pid, 'mnt');
      if (mnt !== undefined && mnt !== ownMnt && existsSync(`/proc/${holder.pid}/root${READY_MARKER}`)) return;
      if (Date.now() > deadline) {
        throw new FaultlineError('environment', `node ${this.name}: the namespace holder was not ready within ${this.opts.readyTimeoutMs} ms`, {
          hint: `see ${log}`,
        });
      }
      await sleep(5);
    }
  }

  /** SIGKILL of every process inside the node and of the holder; the disk stays. "Already off" is fine. */
  async powerOff(): Promise<void> {
    const holder = this.holder;
    const ns = this.ns;
    if (!holder && !ns) return;
    const podNets = new Set<string>();
    const pid = this.livePid();
    if (pid !== undefined) {
      for (const name of safeReaddir(`/proc/${pid}/root/run/netns`)) {
        try {
          podNets.add(`net:[${statSync(`/proc/${pid}/root/run/netns/${name}`).ino}]`);
        } catch {
          // gone meanwhile
        }
      }
    }
    const tag = this.tag;
    // Processes are matched by the node's namespaces (never by a pid that may be reused). A namespace's
    // inode number is reused as soon as the namespace dies, so the namespaces are held open while the
    // kill loop runs; if the holder is already gone they cannot be pinned, and only the node's mount
    // tag (seen by every process in its mount namespace) is a safe match.
    const pins: number[] = [];
    // The node's pid namespace is the holder's pid_for_children (catatonit is its init).
    const pidNs = pid !== undefined ? readNs(pid, 'pid_for_children') : undefined;
    if (pid !== undefined) {
      const files = [...['mnt', 'net', 'uts', 'pid_for_children'].map((t) => `/proc/${pid}/ns/${t}`), ...safeReaddir(`/proc/${pid}/root/run/netns`).map((n) => `/proc/${pid}/root/run/netns/${n}`)];
      for (const f of files) {
        try {
          pins.push(openSync(f, 'r'));
        } catch {
          // gone meanwhile
        }
      }
    }
    const pinned = pins.length > 0;
    try {
      // First what runs inside the node's pid namespace, while the nsenter wrappers outside it (the
      // exec agent's, the daemons') still live to reap their children: killed together, the orphans
      // go to the host's init, and catatonit's exit waits until that reaps them (seconds on some hosts).
      if (pinned && pidNs !== undefined) await killMatching((p) => p.ns('pid') === pidNs);
      await killMatching((p) => {
        if (pinned) {
          const net = p.ns('net');
          if (ns && (p.ns('mnt') === ns.mnt || net === ns.net || p.ns('uts') === ns.uts)) return true;
          if (net !== undefined && podNets.has(net)) return true;
        }
        return mountinfoHasSource(p.foreignMountinfo(), { exact: tag }); // e.g. under `ip netns exec`
      });
    } finally {
      for (const fd of pins) closeSync(fd);
    }
    if (holder) {
      holder.subprocess.kill('SIGKILL');
      await holder.subprocess;
      this.opts.run.update(holder.ledgerId, { state: 'stopped' });
    }
    await this.forgetProcesses();
    // Sandboxes' cgroups outlive their processes (a real reboot starts with none).
    const left = await removeCgroupTree(this.cgroupParent);
    if (left.length) throw new FaultlineError('environment', `node ${this.name}: cgroups left after power-off: ${left.join(', ')}`);
    this.holder = undefined;
    this.ns = undefined;
    this.booted = undefined;
  }

  /** The cgroup parent a real runtime gives this node's sandboxes. */
  get cgroupParent(): string {
    return this.opts.cgroupParent;
  }
}
