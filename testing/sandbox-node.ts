// A throwaway "node" for runtime tests: one process holding new mount, net and uts namespaces, with
// a tmpfs on /run (pod netns live in its /run/netns) and tmpfs over /var/lib and /opt, so a plugin
// default path can never reach the host's /var/lib/cni or /opt/cni. Plugins run inside through
// nsenter; the result cache and host-local's dataDir are temp dirs on the host side. Killing the
// holder takes every kernel object (bridge, veths, pod netns, iptables rules) with it.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { localCacheFs } from '../harness/runtime/libcni/cache.ts';
import type { CacheFs, Invoker } from '../harness/runtime/libcni/types.ts';

// Fixed text, no data from outside goes into it.
const HOLDER_SCRIPT = [
  'set -e',
  'mount -t tmpfs -o mode=0755 faultline-test-run /run',
  'mkdir -p /run/netns',
  'mount -t tmpfs -o mode=0755 faultline-test-varlib /var/lib',
  'mount -t tmpfs -o mode=0755 faultline-test-opt /opt',
  'ip link set lo up',
  'echo ready',
  'exec sleep infinity',
].join('\n');

export interface SandboxExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface SandboxNode {
  /** Pid of the namespace holder. */
  readonly pid: number;
  /** Host-side temp dir of this node (removed by destroy). */
  readonly root: string;
  /** Host-side cache dir for CniRuntime (cacheDir). */
  readonly cacheDir: string;
  /** Host-side dir for host-local's dataDir. */
  readonly ipamDir: string;
  /** Host-side plugin dir (CNI_PATH and plugin paths). */
  readonly pluginDir: string;
  readonly invoker: Invoker;
  readonly cacheFs: CacheFs;
  /** Runs argv inside the node's mount, net and uts namespaces. */
  exec(argv: readonly string[]): Promise<SandboxExecResult>;
  /** Creates a pod netns inside the node (/run/netns/<name> in its mount namespace); returns that path. */
  addPodNetns(name: string): Promise<string>;
  /** Link names of the node's own net namespace, optionally of one type and/or enslaved to one bridge. */
  links(filter?: { type?: string; master?: string }): Promise<string[]>;
  destroy(): Promise<void>;
}

export interface SandboxNodeOptions {
  /** Default /usr/lib/cni (Debian's containernetworking-plugins). */
  pluginDir?: string;
}

export async function createSandboxNode(opts: SandboxNodeOptions = {}): Promise<SandboxNode> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'faultline-rt-'));
  const pluginDir = opts.pluginDir ?? '/usr/lib/cni';
  const holder: Holder = execa('setpriv', ['--pdeathsig', 'KILL', '--', 'unshare', '--mount', '--net', '--uts', '--propagation', 'private', '--', 'sh', '-c', HOLDER_SCRIPT], {
    stdin: 'ignore',
    reject: false,
  });
  try {
    await waitReady(holder);
  } catch (e) {
    holder.kill('SIGKILL');
    await holder;
    await rm(root, { recursive: true, force: true });
    throw e;
  }
  const pid = holder.pid!;
  let alive = true;
  holder.on('exit', () => {
    alive = false;
  });

  const nsenter = (flags: string[], argv: readonly string[]) => {
    if (!alive) throw new Error(`sandbox node ${pid} is gone`);
    return ['-t', String(pid), ...flags, '--', ...argv];
  };

  const exec = async (argv: readonly string[]): Promise<SandboxExecResult> => {
    const r = await execa('nsenter', nsenter(['-m', '-n', '-u'], argv), { reject: false, stripFinalNewline: false });
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  };

  const invoker: Invoker = async (req) => {
    const started = performance.now();
    const r = await execa('nsenter', nsenter(['-m', '-n', '-u'], [req.pluginPath]), {
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...req.env },
      extendEnv: false,
      input: req.stdin,
      reject: false,
      stripFinalNewline: false,
    });
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), durationMs: performance.now() - started };
  };

  return {
    pid,
    root,
    cacheDir: path.join(root, 'cache'),
    ipamDir: path.join(root, 'ipam'),
    pluginDir,
    invoker,
    cacheFs: localCacheFs(),
    exec,
    async addPodNetns(name) {
      if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(name)) throw new Error(`bad netns name ${JSON.stringify(name)}`);
      const r = await execa('nsenter', nsenter(['-m'], ['ip', 'netns', 'add', name]), { reject: false });
      if (r.exitCode !== 0) throw new Error(`ip netns add ${name} in sandbox ${pid}: ${r.stderr}`);
      return `/run/netns/${name}`;
    },
    async links(filter = {}) {
      const r = await exec(['ip', '-j', 'link', 'show', ...(filter.master ? ['master', filter.master] : []), ...(filter.type ? ['type', filter.type] : [])]);
      if (r.exitCode !== 0) throw new Error(`ip link in sandbox ${pid}: ${r.stderr}`);
      return (JSON.parse(r.stdout) as { ifname: string }[]).map((l) => l.ifname);
    },
    async destroy() {
      if (alive) holder.kill('SIGKILL');
      await holder;
      await rm(root, { recursive: true, force: true });
    },
  };
}

type Holder = ResultPromise<{ stdin: 'ignore'; reject: false }>;

function waitReady(holder: Holder): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`sandbox node did not start within 10 s: ${err.trim()}`)), 10_000);
    holder.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    holder.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    // Settles when the holder ends; after 'ready' that rejection is ignored.
    void holder.then((r) => {
      clearTimeout(timer);
      reject(new Error(`sandbox node holder exited (${r.exitCode ?? r.signal ?? r.shortMessage}) before it was ready: ${err.trim()}`));
    });
  });
}
