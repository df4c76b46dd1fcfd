// One node of the local backend: a holder process with its own mount, net and uts namespaces
// (holder.sh), persistent dirs on the host, a tmpfs /run and /tmp. Power off = SIGKILL of everything
// inside the node; power on = a fresh holder over the same dirs.
import { ExecAgent } from './exec-agent.ts';
import { mkdir, readFile, lstat } from 'node:fs/promises';
import { closeSync, openSync, chmodSync, constants as fsConstants, existsSync, fstatSync, mkdirSync, readFileSync, readSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync, type Stats } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { FaultlineError, errorMessage } from '../../errors.ts';
import type { ExecOptions, ExecResult, Node, NodeDaemon, NodeFileStat, NodeSpec } from '../types.ts';
import { removeCgroupTree } from '../../util/cgroups.ts';
import type { Run } from '../../ledger/ledger.ts';
import type { HolderResource } from './reaper.ts';
import { NodePaths, PERSISTENT_ROOTS, VOLATILE_ROOTS, normalizeNodePath } from './node-paths.ts';
import { killMatching, mountinfoHasSource, readNs, readStartTime } from '../../util/procfs.ts';
import { matchSegment } from '../../util/glob.ts';

/** Commands go through a per-node exec agent (FAULTLINE_EXEC_AGENT=0: one spawn per command). */
const USE_AGENT = process.env.FAULTLINE_EXEC_AGENT !== '0';

export const HOLDER_SCRIPT = fileURLToPath(new URL('./holder.sh', import.meta.url));
/** PATH inside the node (commands never inherit the harness's environment). */
export const NODE_PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const READY_MARKER = '/run/.faultline-ready';
const NETNS_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
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

export class LocalNode implements Node {
  readonly name: string;
  readonly spec: NodeSpec;
  readonly nodeDir: string;
  readonly tag: string;
  private holder: Holder | undefined;
  /** Namespaces of the last holder, kept until power off has killed everything in them. */
  private ns: NodeNamespaces | undefined;
  private booted: number | undefined;
  private agent: ExecAgent | undefined;
  private readonly daemons = new Set<NodeDaemon>();
  private agentHolderPid: number | undefined;
  private readonly paths: NodePaths;

  constructor(private readonly opts: LocalNodeOptions) {
    this.name = opts.spec.name;
    this.spec = opts.spec;
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
  private livePid(): number | undefined {
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
    if (pid !== undefined) {
      const files = [...['mnt', 'net', 'uts'].map((t) => `/proc/${pid}/ns/${t}`), ...safeReaddir(`/proc/${pid}/root/run/netns`).map((n) => `/proc/${pid}/root/run/netns/${n}`)];
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
    this.agent?.stop();
    this.agent = undefined;
    if (holder) {
      holder.subprocess.kill('SIGKILL');
      await holder.subprocess;
      this.opts.run.update(holder.ledgerId, { state: 'stopped' });
    }
    await Promise.all([...this.daemons].map((d) => d.exited));
    this.daemons.clear();
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

  /** A node path as the host sees it while the node runs (sockets the harness connects to). */
  hostPath(nodePath: string): string {
    const pid = this.requireRunning(`reach ${nodePath}`);
    return `/proc/${pid}/root${normalizeNodePath(nodePath)}`;
  }

  /**
   * A long-running process inside the node (its pid namespace), logging to /var/log/<name>.log on the
   * node's disk. It dies with the node; `signal` reaches the process itself.
   */
  async startDaemon(name: string, argv: readonly string[], opts: { env?: Record<string, string> } = {}): Promise<NodeDaemon> {
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(name)) throw new FaultlineError('internal', `daemon name ${JSON.stringify(name)} is not valid`);
    if (argv.length === 0) throw new FaultlineError('internal', `daemon ${name}: empty argv`);
    const pid = this.requireRunning(`start ${name}`);
    const log = join(this.nodeDir, 'disk', 'var', 'log', `${name}.log`);
    const subprocess = execa(
      'setpriv',
      ['--pdeathsig', 'KILL', '--', 'nsenter', '-t', String(pid), '-m', '-u', '-n', `--pid=/proc/${pid}/ns/pid_for_children`, '--', 'setpriv', '--pdeathsig', 'KILL', '--', ...argv],
      {
        detached: true,
        stdin: 'ignore',
        stdout: { file: log, append: true },
        stderr: { file: log, append: true },
        reject: false,
        extendEnv: false,
        env: { PATH: NODE_PATH_ENV, ...opts.env },
      },
    );
    const outer = subprocess.pid;
    if (outer === undefined) {
      const r = await subprocess;
      throw new FaultlineError('environment', `node ${this.name}: cannot start ${name}: ${r.message ?? r.stderr}`);
    }
    // nsenter forks into the node's pid namespace; its child (setpriv exec'ing argv) is the daemon.
    let inner: number | undefined;
    let exited = false;
    const done = subprocess.then((r) => {
      exited = true;
      return { ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}), ...(r.signal ? { signal: r.signal } : {}) };
    });
    for (let i = 0; inner === undefined && !exited && i < 2000; i++) {
      inner = childPid(outer);
      if (inner === undefined) await sleep(2);
    }
    const identity = inner === undefined ? undefined : { pid: inner, startTime: readStartTime(inner) };
    const daemon: NodeDaemon = {
      name,
      get running() {
        return !exited;
      },
      exited: done,
      signal: (sig) => {
        // Only the process we started: pid and start time, so a recycled pid is never signalled.
        if (identity?.startTime !== undefined && readStartTime(identity.pid) === identity.startTime) process.kill(identity.pid, sig);
        else if (!exited) subprocess.kill(sig);
      },
    };
    this.daemons.add(daemon);
    void done.then(() => this.daemons.delete(daemon));
    if (exited) {
      const r = await done;
      const text = await readFile(log, 'utf8').catch(() => '');
      throw new FaultlineError('environment', `node ${this.name}: ${name} exited at once (${r.signal ?? `code ${r.exitCode}`}): ${text.trim().split('\n').slice(-3).join(' | ')}`);
    }
    return daemon;
  }

  // ---- exec ----

  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0 || argv.some((a) => typeof a !== 'string')) {
      throw new FaultlineError('internal', `exec on node ${this.name}: argv must be a non-empty string array`);
    }
    const pid = this.requireRunning('exec');
    if (USE_AGENT) {
      const t0 = performance.now();
      const r = await this.agentFor(pid).run(argv, {
        env: { PATH: NODE_PATH_ENV, ...opts.env },
        ...(opts.stdin === undefined ? {} : { stdin: opts.stdin }),
        ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
        ...(opts.netns === undefined ? {} : { netns: netnsNodePath(opts.netns) }),
      });
      return { argv: [...argv], ...r, durationMs: performance.now() - t0 };
    }
    const netArg = opts.netns === undefined ? '-n' : `--net=/proc/${pid}/root${netnsNodePath(opts.netns)}`;
    const subprocess = execa(
      'setpriv',
      ['--pdeathsig', 'KILL', '--', 'nsenter', '-t', String(pid), '-m', '-u', netArg, `--pid=/proc/${pid}/ns/pid_for_children`, '--', ...argv],
      {
        detached: true,
        reject: false,
        extendEnv: false,
        env: { PATH: NODE_PATH_ENV, ...opts.env },
        stripFinalNewline: false,
        ...(opts.stdin === undefined ? { stdin: 'ignore' as const } : { input: opts.stdin }),
        ...(opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs }),
        killSignal: 'SIGKILL',
      },
    );
    const r = await subprocess;
    let exitCode = r.exitCode;
    if (exitCode === undefined) {
      const signo = r.signal ? osConstants.signals[r.signal as keyof typeof osConstants.signals] : undefined;
      exitCode = signo === undefined ? 127 : 128 + signo;
    }
    const stderr = typeof r.stderr === 'string' ? r.stderr : '';
    return {
      argv: [...argv],
      exitCode,
      ...(r.signal ? { signal: r.signal } : {}),
      stdout: typeof r.stdout === 'string' ? r.stdout : '',
      stderr: r.exitCode === undefined && !r.signal && !stderr ? (r.shortMessage ?? '') : stderr,
      durationMs: r.durationMs,
      timedOut: r.timedOut,
    };
  }

  /** The node's exec agent, started on first use after each power-on. */
  private agentFor(pid: number): ExecAgent {
    if (!this.agent || !this.agent.alive || this.agentHolderPid !== pid) {
      this.agent?.stop();
      this.agent = new ExecAgent(pid, NODE_PATH_ENV);
      this.agentHolderPid = pid;
    }
    return this.agent;
  }

  private requireRunning(what: string): number {
    const pid = this.livePid();
    if (pid === undefined) {
      throw new FaultlineError('environment', `node ${this.name} is powered off: cannot ${what}`);
    }
    return pid;
  }

  // ---- pod network namespaces ----

  async createNetns(name: string): Promise<string> {
    validateNetnsName(name);
    this.requireRunning(`create netns ${name}`);
    const r = await this.exec(['ip', 'netns', 'add', name]);
    if (r.exitCode !== 0) {
      throw new FaultlineError('environment', `node ${this.name}: ip netns add ${name} failed: ${r.stderr.trim()}`);
    }
    return `/run/netns/${name}`;
  }

  async deleteNetns(name: string): Promise<void> {
    validateNetnsName(name);
    if (this.livePid() === undefined) return; // gone with the power
    if (!(await this.listNetns()).includes(name)) return;
    const r = await this.exec(['ip', 'netns', 'delete', name]);
    if (r.exitCode !== 0 && (await this.listNetns()).includes(name)) {
      throw new FaultlineError('environment', `node ${this.name}: ip netns delete ${name} failed: ${r.stderr.trim()}`);
    }
  }

  async listNetns(): Promise<string[]> {
    const pid = this.livePid();
    return pid === undefined ? [] : safeReaddir(`/proc/${pid}/root/run/netns`).sort();
  }

  // ---- files ----

  async readFile(path: string, opts: { maxBytes?: number } = {}): Promise<Buffer> {
    const r = await this.paths.resolve(path, { followFinal: true });
    return nodeFs(path, r.hostPath, async () => {
      // Opened without blocking and judged by what was opened: a FIFO would block the open (for
      // ever, in the thread pool), a device the read.
      const fd = openSync(r.hostPath, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY);
      try {
        const st = fstatSync(fd);
        if (!st.isFile()) throw notRegularFile(path, this.name, st);
        if (opts.maxBytes === undefined) return readFileSync(fd);
        const buf = Buffer.alloc(Math.min(st.size, opts.maxBytes));
        let length = 0;
        for (let n = -1; n !== 0 && length < buf.length; length += n) n = readSync(fd, buf, length, buf.length - length, length);
        return buf.subarray(0, length);
      } finally {
        closeSync(fd);
      }
    });
  }

  async writeFile(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
    const r = await this.paths.resolve(path, { followFinal: true });
    await nodeFs(path, r.hostPath, async () => {
      refuseSpecialFile(r.hostPath, path, this.name); // opening a FIFO to write waits for a reader
      const opts = mode === undefined ? {} : { mode };
      try {
        writeFileSync(r.hostPath, data, opts);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        mkdirSync(dirname(r.hostPath), { recursive: true, mode: 0o755 });
        writeFileSync(r.hostPath, data, opts);
      }
      if (mode !== undefined) chmodSync(r.hostPath, mode);
    });
  }

  /** Creates a directory (and its parents) with this mode; an existing one keeps its mode. */
  async mkdir(path: string, mode: number): Promise<void> {
    const r = await this.paths.resolve(path, { followFinal: true });
    await nodeFs(path, r.hostPath, async () => {
      mkdirSync(r.hostPath, { recursive: true, mode });
    });
  }

  async truncateFile(path: string, size: number): Promise<void> {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new FaultlineError('invalid-input', `truncate ${path}: size must be a non-negative integer, got ${size}`);
    }
    const r = await this.paths.resolve(path, { followFinal: true });
    await nodeFs(path, r.hostPath, async () => {
      refuseSpecialFile(r.hostPath, path, this.name);
      truncateSync(r.hostPath, size);
    });
  }

  /** Removes a file (or a directory tree); a missing path is fine. Never a root itself. */
  async removeFile(path: string): Promise<void> {
    const r = await this.paths.resolve(path, { followFinal: false });
    if (r.nodePath === r.root) {
      throw new FaultlineError('invalid-input', `cannot remove ${r.root} itself on node ${this.name} (remove what is inside it)`);
    }
    await nodeFs(path, r.hostPath, async () => rmSync(r.hostPath, { recursive: true, force: true }));
  }

  async stat(path: string): Promise<NodeFileStat | undefined> {
    const r = await this.paths.resolve(path, { followFinal: true });
    try {
      const s = statSync(r.hostPath);
      return { size: s.size, mtimeMs: s.mtimeMs, isDirectory: s.isDirectory(), isFile: s.isFile() };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw rewriteFsError(e, r.hostPath, path);
    }
  }

  async list(dir: string): Promise<string[]> {
    const r = await this.paths.resolve(dir, { followFinal: true });
    try {
      return readdirSync(r.hostPath).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw rewriteFsError(e, r.hostPath, dir);
    }
  }

  /** `*` and `?` in any segment (not matching a leading dot); symlinked dirs are not descended. */
  async glob(pattern: string): Promise<string[]> {
    const norm = normalizeNodePath(pattern);
    const segments = norm === '/' ? [] : norm.slice(1).split('/');
    const roots = [...PERSISTENT_ROOTS, ...VOLATILE_ROOTS].filter((root) => {
      const rs = root.slice(1).split('/');
      return segments.length >= rs.length && rs.every((s, i) => matchSegment(segments[i]!, s));
    });
    if (roots.length === 0) {
      throw new FaultlineError(
        'invalid-input',
        `pattern ${pattern} is outside the node's state (allowed: ${[...PERSISTENT_ROOTS, ...VOLATILE_ROOTS].join(', ')})`,
      );
    }
    const reachable = roots.filter((r) => this.livePid() !== undefined || (PERSISTENT_ROOTS as readonly string[]).includes(r));
    if (reachable.length === 0) this.paths.rootHostPath(roots[0]!); // throws: powered off
    const found: string[] = [];
    for (const root of reachable) {
      const depth = root.slice(1).split('/').length;
      await walkGlob(this.paths.rootHostPath(root), root, segments.slice(depth), found);
    }
    return [...new Set(found)].sort();
  }
}

async function walkGlob(host: string, node: string, rest: string[], found: string[]): Promise<void> {
  if (rest.length === 0) {
    found.push(node);
    return;
  }
  const [segment, ...tail] = rest as [string, ...string[]];
  let names: string[];
  if (/[*?]/.test(segment)) {
    names = safeReaddir(host).filter((n) => matchSegment(segment, n));
  } else {
    names = [segment];
  }
  for (const name of names) {
    const childHost = `${host}/${name}`;
    let s;
    try {
      s = await lstat(childHost);
    } catch {
      continue;
    }
    if (tail.length === 0) found.push(`${node}/${name}`);
    else if (s.isDirectory()) await walkGlob(childHost, `${node}/${name}`, tail, found);
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function validateNetnsName(name: string): void {
  if (typeof name !== 'string' || !NETNS_NAME_RE.test(name)) {
    throw new FaultlineError('invalid-input', `netns name ${JSON.stringify(name)} is not valid (letters, digits, '_', '.', '-'; at most 63)`);
  }
}

/** A pod netns as the node sees it: a name, or /run/netns/<name> (also /var/run/netns/<name>). */
function netnsNodePath(netns: string): string {
  const m = /^(?:\/var)?\/run\/netns\/([^/]+)$/.exec(netns);
  const name = m ? m[1]! : netns;
  validateNetnsName(name);
  return `/run/netns/${name}`;
}

/** Runs a file operation, reporting errors with the node path instead of the host path. */
async function nodeFs<T>(nodePath: string, hostPath: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    throw rewriteFsError(e, hostPath, nodePath);
  }
}

/** What a node path is when it is not a regular file ("a FIFO (named pipe)"). */
function specialType(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

function notRegularFile(nodePath: string, node: string, st: Stats): FaultlineError {
  return new FaultlineError('invalid-input', `${nodePath} on ${node} is ${specialType(st)}, not a regular file`);
}

/** Refuses a path that exists and is not a regular file (a missing one is the caller's to create). */
function refuseSpecialFile(hostPath: string, nodePath: string, node: string): void {
  let st: Stats;
  try {
    st = statSync(hostPath);
  } catch {
    return;
  }
  if (!st.isFile()) throw notRegularFile(nodePath, node, st);
}

function rewriteFsError(e: unknown, hostPath: string, nodePath: string): unknown {
  if (e instanceof FaultlineError) return e;
  if (e instanceof Error && 'code' in e) {
    e.message = e.message.split(hostPath).join(nodePath);
    (e as NodeJS.ErrnoException).path = nodePath;
    return e;
  }
  return e instanceof Error ? e : new Error(errorMessage(e));
}

/** The first child of a process (nsenter's forked child), undefined until it exists. */
function childPid(pid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}
