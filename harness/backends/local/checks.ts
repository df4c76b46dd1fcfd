// What the local backend needs on this host, each checked the way the backend uses it (root, its
// binaries, namespaces, overlay mounts). `faultline doctor` and every run ask these same checks.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { BackendCheck, BackendCheckOptions } from '../types.ts';
import { findBinary } from '../../util/which.ts';
import { NODE_PATH_ENV } from './local-node.ts';

/** Binaries the local backend runs, with the Debian package that has each. */
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
  { bin: 'catatonit', pkg: 'catatonit' }, // each node's init (PID 1 of its pid namespace)
];

function firstLine(s: string): string {
  return s.trim().split('\n')[0]?.trim() ?? '';
}

function checkRoot(uid: number): BackendCheck {
  return uid === 0
    ? { name: 'root', ok: true, detail: 'running as root' }
    : { name: 'root', ok: false, detail: `running as uid ${uid}; nodes need new namespaces, mounts and iptables`, fix: 'run faultline as root (sudo -E faultline ...)' };
}

function checkBinaries(env: NodeJS.ProcessEnv, extra: readonly string[]): BackendCheck[] {
  return LOCAL_BACKEND_BINARIES.map(({ bin, pkg }) => {
    const path = findBinary(bin, env, extra);
    return path ? { name: bin, ok: true, detail: path } : { name: bin, ok: false, detail: `${bin} not found on PATH`, fix: `apt-get install ${pkg}` };
  });
}

async function checkNamespaces(env: NodeJS.ProcessEnv, uid: number, extra: readonly string[]): Promise<BackendCheck> {
  const name = 'namespaces';
  const unshare = findBinary('unshare', env, extra);
  if (!unshare) return { name, ok: false, detail: 'unshare not found', fix: 'apt-get install util-linux' };
  const r = await execa(unshare, ['--mount', '--net', '--uts', '--', 'true'], { reject: false, env, extendEnv: false, timeout: 10_000 });
  if (r.exitCode === 0) return { name, ok: true, detail: 'unshare --mount --net --uts works' };
  return {
    name,
    ok: false,
    detail: `unshare --mount --net --uts true failed: ${firstLine(String(r.stderr)) || r.shortMessage}`,
    fix: uid !== 0 ? 'run as root' : 'run on a host or VM, or in a privileged container (--privileged), that allows unshare(2)',
  };
}

async function checkOverlay(env: NodeJS.ProcessEnv, uid: number, extra: readonly string[]): Promise<BackendCheck> {
  const name = 'overlayfs';
  let known = true;
  try {
    known = /\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'));
  } catch {
    /* no /proc: try anyway */
  }
  const unshare = findBinary('unshare', env, extra);
  const mount = findBinary('mount', env, extra);
  if (!unshare || !mount) return { name, ok: false, detail: 'unshare or mount not found', fix: 'apt-get install util-linux mount' };
  const dir = await mkdtemp(join(tmpdir(), 'faultline-check-'));
  try {
    for (const d of ['lower', 'upper', 'work', 'merged']) await mkdir(join(dir, d));
    // In a private mount namespace: the mount is gone when unshare exits.
    const r = await execa(unshare, ['--mount', '--', mount, '-t', 'overlay', 'overlay', '-o', `lowerdir=${dir}/lower,upperdir=${dir}/upper,workdir=${dir}/work`, `${dir}/merged`], {
      reject: false,
      env,
      extendEnv: false,
      timeout: 10_000,
    });
    if (r.exitCode === 0) return { name, ok: true, detail: 'overlay mounts work (in a private mount namespace)' };
    return {
      name,
      ok: false,
      detail: `overlay mount failed${known ? '' : ' (overlay not in /proc/filesystems)'}: ${firstLine(String(r.stderr)) || r.shortMessage}`,
      fix: uid !== 0 ? 'run as root' : known ? `check that ${tmpdir()} is not itself on overlayfs or set TMPDIR` : 'modprobe overlay',
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every check of the local backend, in display order. */
export async function localBackendChecks(opts: BackendCheckOptions = {}): Promise<BackendCheck[]> {
  const env = opts.env ?? process.env;
  const uid = opts.uid ?? process.getuid?.() ?? -1;
  // Commands in a node run with the node's PATH: look there after the caller's.
  const extra = opts.extraDirs ?? NODE_PATH_ENV.split(':');
  const [ns, overlay] = await Promise.all([checkNamespaces(env, uid, extra), checkOverlay(env, uid, extra)]);
  return [checkRoot(uid), ...checkBinaries(env, extra), ns, overlay];
}
