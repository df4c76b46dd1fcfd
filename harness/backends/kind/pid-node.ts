// What the kind backend needs of a node made of a container's namespaces, and only that: commands
// entered by the init's pid (nsenter, an argv array, the node's PATH), files through NodePaths
// (/proc/<pid>/root while it runs, the /var volume while it is off, symlinks resolved in user space as
// the node would and kept inside the node's roots).
//
// This is the container backend's NamespaceNode (harness/backends/container/ and
// backends/local/namespace-node.ts, being written beside this on another branch) in small: once that
// is merged, KindNode extends NamespaceNode and this file goes. What KindNode needs from it, exactly:
//   - an abstract `livePid()` (the init's pid, checked against its start time) and `paths` (NodePaths)
//     that the subclass provides per power state;
//   - exec, readFile (maxBytes, FIFOs refused without blocking), writeFile, truncateFile, mkdir,
//     removeFile, stat, list, glob, hostPath, createNetns/deleteNetns/listNetns, as on the local backend;
//   - `forgetProcesses()` after a power cut.
import { closeSync, constants as fsConstants, fstatSync, mkdirSync, openSync, readSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync, chmodSync, lstatSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { constants as osConstants } from 'node:os';
import { execa } from 'execa';
import { FaultlineError, errorMessage } from '../../errors.ts';
import type { ExecOptions, ExecResult, Node, NodeDaemon, NodeFileStat, NodeSpec } from '../types.ts';
import { type NodePaths, PERSISTENT_ROOTS, VOLATILE_ROOTS, normalizeNodePath } from '../local/node-paths.ts';
import { matchSegment } from '../../util/glob.ts';

export const NODE_PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const NETNS_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export abstract class PidNode implements Node {
  readonly name: string;
  readonly spec: NodeSpec;

  constructor(spec: NodeSpec) {
    this.name = spec.name;
    this.spec = spec;
  }

  abstract readonly running: boolean;
  abstract readonly bootedAtMs: number | undefined;
  abstract readonly cgroupParent: string;
  abstract powerOn(): Promise<void>;
  abstract powerOff(): Promise<void>;
  protected abstract paths(): NodePaths;
  protected abstract livePid(): number | undefined;

  protected requireRunning(what: string): number {
    const pid = this.livePid();
    if (pid === undefined) throw new FaultlineError('environment', `node ${this.name} is powered off: cannot ${what}`);
    return pid;
  }

  hostPath(nodePath: string): string {
    return `/proc/${this.requireRunning(`reach ${nodePath}`)}/root${normalizeNodePath(nodePath)}`;
  }

  startDaemon(name: string): Promise<NodeDaemon> {
    return Promise.reject(new FaultlineError('invalid-input', `node ${this.name}: a kind node runs its own daemons (systemd, containerd, kubelet); faultline starts none (${name})`));
  }

  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0 || argv.some((a) => typeof a !== 'string')) throw new FaultlineError('internal', `exec on node ${this.name}: argv must be a non-empty string array`);
    const pid = this.requireRunning('exec');
    const netArg = opts.netns === undefined ? '-n' : `--net=/proc/${pid}/root${netnsNodePath(opts.netns)}`;
    const r = await execa('setpriv', ['--pdeathsig', 'KILL', '--', 'nsenter', '-t', String(pid), '-m', '-u', '-i', netArg, `--pid=/proc/${pid}/ns/pid_for_children`, '--', ...argv], {
      reject: false,
      extendEnv: false,
      env: { PATH: NODE_PATH_ENV, ...opts.env },
      stripFinalNewline: false,
      ...(opts.stdin === undefined ? { stdin: 'ignore' as const } : { input: opts.stdin }),
      ...(opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs }),
      killSignal: 'SIGKILL',
    });
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

  async createNetns(name: string): Promise<string> {
    validateNetnsName(name);
    const r = await this.exec(['ip', 'netns', 'add', name]);
    if (r.exitCode !== 0) throw new FaultlineError('environment', `node ${this.name}: ip netns add ${name} failed: ${r.stderr.trim()}`);
    return `/run/netns/${name}`;
  }

  async deleteNetns(name: string): Promise<void> {
    validateNetnsName(name);
    if (this.livePid() === undefined || !(await this.listNetns()).includes(name)) return;
    const r = await this.exec(['ip', 'netns', 'delete', name]);
    if (r.exitCode !== 0 && (await this.listNetns()).includes(name)) throw new FaultlineError('environment', `node ${this.name}: ip netns delete ${name} failed: ${r.stderr.trim()}`);
  }

  async listNetns(): Promise<string[]> {
    const pid = this.livePid();
    return pid === undefined ? [] : safeReaddir(`/proc/${pid}/root/run/netns`).sort();
  }

  async readFile(path: string, opts: { maxBytes?: number } = {}): Promise<Buffer> {
    const r = await this.paths().resolve(path, { followFinal: true });
    return nodeFs(path, r.hostPath, () => {
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
    const r = await this.paths().resolve(path, { followFinal: true });
    nodeFs(path, r.hostPath, () => {
      refuseSpecialFile(r.hostPath, path, this.name);
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

  async mkdir(path: string, mode: number): Promise<void> {
    const r = await this.paths().resolve(path, { followFinal: true });
    nodeFs(path, r.hostPath, () => mkdirSync(r.hostPath, { recursive: true, mode }));
  }

  async truncateFile(path: string, size: number): Promise<void> {
    if (!Number.isSafeInteger(size) || size < 0) throw new FaultlineError('invalid-input', `truncate ${path}: size must be a non-negative integer, got ${size}`);
    const r = await this.paths().resolve(path, { followFinal: true });
    nodeFs(path, r.hostPath, () => {
      refuseSpecialFile(r.hostPath, path, this.name);
      truncateSync(r.hostPath, size);
    });
  }

  async removeFile(path: string): Promise<void> {
    const r = await this.paths().resolve(path, { followFinal: false });
    if (r.nodePath === r.root) throw new FaultlineError('invalid-input', `cannot remove ${r.root} itself on node ${this.name} (remove what is inside it)`);
    nodeFs(path, r.hostPath, () => rmSync(r.hostPath, { recursive: true, force: true }));
  }

  async stat(path: string): Promise<NodeFileStat | undefined> {
    const r = await this.paths().resolve(path, { followFinal: true });
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
    const r = await this.paths().resolve(dir, { followFinal: true });
    try {
      return readdirSync(r.hostPath).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw rewriteFsError(e, r.hostPath, dir);
    }
  }

  async glob(pattern: string): Promise<string[]> {
    const norm = normalizeNodePath(pattern);
    const segments = norm === '/' ? [] : norm.slice(1).split('/');
    const all = [...PERSISTENT_ROOTS, ...VOLATILE_ROOTS] as string[];
    const roots = all.filter((root) => {
      const rs = root.slice(1).split('/');
      return segments.length >= rs.length && rs.every((s, i) => matchSegment(segments[i]!, s));
    });
    if (!roots.length) throw new FaultlineError('invalid-input', `pattern ${pattern} is outside the node's state (allowed: ${all.join(', ')})`);
    const paths = this.paths();
    const reachable = roots.filter((r) => this.livePid() !== undefined || (PERSISTENT_ROOTS as readonly string[]).includes(r));
    if (!reachable.length) paths.rootHostPath(roots[0]!); // throws: powered off
    const found: string[] = [];
    for (const root of reachable) walkGlob(paths.rootHostPath(root), root, segments.slice(root.slice(1).split('/').length), found);
    return [...new Set(found)].sort();
  }
}

function walkGlob(host: string, node: string, rest: string[], found: string[]): void {
  if (!rest.length) {
    found.push(node);
    return;
  }
  const [segment, ...tail] = rest as [string, ...string[]];
  const names = /[*?]/.test(segment) ? safeReaddir(host).filter((n) => matchSegment(segment, n)) : [segment];
  for (const name of names) {
    let st: Stats;
    try {
      st = lstatSync(`${host}/${name}`);
    } catch {
      continue;
    }
    if (!tail.length) found.push(`${node}/${name}`);
    else if (st.isDirectory()) walkGlob(`${host}/${name}`, `${node}/${name}`, tail, found);
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
  if (typeof name !== 'string' || !NETNS_NAME_RE.test(name)) throw new FaultlineError('invalid-input', `netns name ${JSON.stringify(name)} is not valid (letters, digits, '_', '.', '-'; at most 63)`);
}

function netnsNodePath(netns: string): string {
  const m = /^(?:\/var)?\/run\/netns\/([^/]+)$/.exec(netns);
  const name = m ? m[1]! : netns;
  validateNetnsName(name);
  return `/run/netns/${name}`;
}

function nodeFs<T>(nodePath: string, hostPath: string, op: () => T): T {
  try {
    return op();
  } catch (e) {
    throw rewriteFsError(e, hostPath, nodePath);
  }
}

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
