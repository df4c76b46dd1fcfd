// The host's cgroup hierarchies (v1 controllers, the v2 unified tree, or both) and the removal of a
// subtree from every one of them. A real runtime's sandboxes get their cgroups under a node's cgroup
// parent; those directories outlive a SIGKILL of the node, so the harness removes them itself:
// depth-first rmdir, after killing any task still listed (they belong to the dead node).
import { readFileSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Mount points of every cgroup hierarchy the host has (from /proc/self/mountinfo). */
export function cgroupRoots(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const roots = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fstype = line.slice(sep + 3).split(' ')[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const mountPoint = line.split(' ')[4];
    if (mountPoint) roots.add(mountPoint.replace(/\\040/g, ' '));
  }
  return [...roots].sort();
}

/** A cgroup path below a root: absolute, no '..', no empty segments. */
export function checkCgroupPath(path: string): string {
  const segments = path.split('/').filter((s) => s !== '');
  if (!path.startsWith('/') || segments.length === 0 || segments.some((s) => s === '..' || s === '.')) {
    throw new Error(`not a cgroup path below a hierarchy's root: ${JSON.stringify(path)}`);
  }
  return '/' + segments.join('/');
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => posix.join(dir, e.name));
  } catch {
    return [];
  }
}

function tasksOf(dir: string): number[] {
  try {
    return readFileSync(posix.join(dir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function removeTree(dir: string): string[] {
  const left: string[] = [];
  for (const sub of subdirs(dir)) left.push(...removeTree(sub));
  try {
    rmdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') left.push(dir);
  }
  return left;
}

const exists = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/**
 * Removes `path` (e.g. /faultline/<run>/<cell>/<node>) from every hierarchy. Tasks still inside are
 * SIGKILLed (the subtree belongs to a dead node); removal is retried while they exit. Returns the
 * directories that could not be removed (empty when all are gone).
 */
export async function removeCgroupTree(path: string, opts: { roots?: string[]; attempts?: number } = {}): Promise<string[]> {
  const rel = checkCgroupPath(path);
  const dirs = (opts.roots ?? cgroupRoots()).map((r) => posix.join(r, rel)).filter(exists);
  let left: string[] = [];
  for (let attempt = 0; attempt < (opts.attempts ?? 50); attempt++) {
    left = [];
    for (const d of dirs) {
      if (!exists(d)) continue;
      const stuck = removeTree(d);
      for (const s of stuck) {
        for (const pid of tasksOf(s)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
      left.push(...stuck);
    }
    if (!left.length) return [];
    await sleep(20);
  }
  return left;
}

/** Removes `path` from every hierarchy where it is an empty directory (a shared parent); never recurses. */
export function removeIfEmpty(path: string, roots = cgroupRoots()): void {
  const rel = checkCgroupPath(path);
  for (const r of roots) {
    try {
      rmdirSync(posix.join(r, rel));
    } catch {
      /* busy with another run's nodes, or gone */
    }
  }
}
