// What every node made of Linux namespaces does the same way, whoever made the namespaces (a holder
// process on the local backend, a container's init on the container and kind backends): commands
// entered into the node's namespaces by pid, files through NodePaths (persistent roots on the node's
// disk, volatile ones through /proc/<pid>/root, symlinks resolved as the node would and kept inside the
// roots), pod network namespaces under the node's /run/netns, daemons in the node's pid namespace. A
// subclass brings the power: which pid is the node's now, and what powering on and off means; a node
// whose image is not faultline's (kind) opts out of the exec agent (NamespaceNodeOptions).
import { ExecAgent } from './exec-agent.ts';
import { lstat, readFile } from 'node:fs/promises';
import { chmodSync, closeSync, constants as fsConstants, fstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync, type Stats } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { FaultlineError, errorMessage } from '../../errors.ts';
import type { ExecOptions, ExecResult, Node, NodeDaemon, NodeFileStat, NodeSpec } from '../types.ts';
import { type NodePaths, PERSISTENT_ROOTS, VOLATILE_ROOTS, normalizeNodePath } from './node-paths.ts';
import { readStartTime } from '../../util/procfs.ts';
import { matchSegment } from '../../util/glob.ts';

/** Commands go through a per-node exec agent (FAULTLINE_EXEC_AGENT=0: one spawn per command). */
const USE_AGENT = process.env.FAULTLINE_EXEC_AGENT !== '0';

/** PATH inside the node (commands never inherit the harness's environment). */
export const NODE_PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const NETNS_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export interface NamespaceNodeOptions {
  /**
   * Commands through the per-node exec agent (default true). false: one nsenter spawn per command, as
   * with FAULTLINE_EXEC_AGENT=0, for a node image that is not faultline's (the agent needs perl).
   */
  execAgent?: boolean;
  /** Commands also enter the init's IPC namespace (a container's own; a local holder shares the host's). */
  enterIpc?: boolean;
}

export abstract class NamespaceNode implements Node {
  readonly name: string;
  readonly spec: NodeSpec;
  private readonly useAgent: boolean;
  private readonly enterIpc: boolean;
  private agent: ExecAgent | undefined;
  private agentPid: number | undefined;
  private readonly daemons = new Set<NodeDaemon>();

  constructor(spec: NodeSpec, opts: NamespaceNodeOptions = {}) {
    this.name = spec.name;
    this.spec = spec;
    this.useAgent = USE_AGENT && opts.execAgent !== false;
    this.enterIpc = opts.enterIpc === true;
  }

  abstract readonly running: boolean;
  abstract readonly bootedAtMs: number | undefined;
  abstract readonly cgroupParent: string;
  abstract powerOn(): Promise<void>;
  abstract powerOff(): Promise<void>;
  /** Where the node's files are on the host. */
  protected abstract readonly paths: NodePaths;
  /**
   * The pid whose namespaces are the node's, checked to still be that process (a pid the kernel has
   * reused must never receive a command or a file operation); undefined while the node is off.
   */
  protected abstract livePid(): number | undefined;

  /** After a power cut: the exec agent is gone with the node; waits until every daemon has exited. */
  protected async forgetProcesses(): Promise<void> {
    this.agent?.stop();
    this.agent = undefined;
    await Promise.all([...this.daemons].map((d) => d.exited));
    this.daemons.clear();
  }

  protected requireRunning(what: string): number {
    const pid = this.livePid();
    if (pid === undefined) {
      throw new FaultlineError('environment', `node ${this.name} is powered off: cannot ${what}`);
    }
    return pid;
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
    // Resolved as the node would (a symlink the node planted cannot point the harness at a host file).
    const log = (await this.paths.resolve(`/var/log/${name}.log`, { followFinal: true })).hostPath;
    const subprocess = execa(
      'setpriv',
      ['--pdeathsig', 'KILL', '--', 'nsenter', '-t', String(pid), '-m', '-u', ...(this.enterIpc ? ['-i'] : []), '-n', `--pid=/proc/${pid}/ns/pid_for_children`, '--', 'setpriv', '--pdeathsig', 'KILL', '--', ...argv],
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
    if (this.useAgent) {
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
      ['--pdeathsig', 'KILL', '--', 'nsenter', '-t', String(pid), '-m', '-u', ...(this.enterIpc ? ['-i'] : []), netArg, `--pid=/proc/${pid}/ns/pid_for_children`, '--', ...argv],
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
    if (!this.agent || !this.agent.alive || this.agentPid !== pid) {
      this.agent?.stop();
      this.agent = new ExecAgent(pid, NODE_PATH_ENV, { ipc: this.enterIpc });
      this.agentPid = pid;
    }
    return this.agent;
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

export function safeReaddir(dir: string): string[] {
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
