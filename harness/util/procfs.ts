// Process identity and process hunting through /proc: start times (so a recycled pid is never taken
// for the process we recorded), namespace inodes, mount tables, and SIGKILL with a wait.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A process as recorded in a ledger: the pid alone is not an identity, pid + start time is. */
export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks since boot. */
  startTime: number;
}

/** The start time of a live (non-zombie) process, undefined when it is gone. */
export function readStartTime(pid: number): number | undefined {
  const stat = readStat(pid);
  return stat && stat.state !== 'Z' && stat.state !== 'X' ? stat.startTime : undefined;
}

/** State letter and start time from /proc/<pid>/stat; undefined when the process is gone. */
function readStat(pid: number): { state: string; startTime: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses: the fields after it follow the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  const startTime = Number(rest[19]);
  if (!state || !Number.isSafeInteger(startTime)) return undefined;
  return { state, startTime };
}

/** True when the recorded process still runs (same pid and same start time). */
export function isSameProcessAlive(id: ProcessIdentity): boolean {
  return readStartTime(id.pid) === id.startTime;
}

/** This boot's id; pid + start time only identify a process within one boot. */
export function readBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

export type NsKind = 'mnt' | 'net' | 'uts' | 'pid' | 'pid_for_children';

/** "net:[4026532248]" for a process's namespace, undefined when the process is gone. */
export function readNs(pid: number | 'self', kind: NsKind): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return undefined;
  }
}

/** The mount table a process sees, '' when it is gone. */
export function readMountinfo(pid: number | 'self'): string {
  try {
    return readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
  } catch {
    return '';
  }
}

/** Every pid in /proc except our own. */
export function listPids(): number[] {
  const self = process.pid;
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid !== self && pid !== 1) pids.push(pid);
  }
  return pids;
}

/** What a scan gets to judge a process by. */
export interface ProcessView {
  pid: number;
  ns: (kind: NsKind) => string | undefined;
  /** Read lazily: only for processes in a mount namespace other than ours. */
  foreignMountinfo: () => string;
}

/** Live processes (with their identities) for which `match` holds. */
export function findProcesses(match: (p: ProcessView) => boolean): ProcessIdentity[] {
  const ownMnt = readNs('self', 'mnt');
  const found: ProcessIdentity[] = [];
  for (const pid of listPids()) {
    const startTime = readStartTime(pid);
    if (startTime === undefined) continue;
    const cache = new Map<NsKind, string | undefined>();
    const view: ProcessView = {
      pid,
      ns: (kind) => {
        if (!cache.has(kind)) cache.set(kind, readNs(pid, kind));
        return cache.get(kind);
      },
      foreignMountinfo: () => {
        const mnt = view.ns('mnt');
        return mnt === undefined || mnt === ownMnt ? '' : readMountinfo(pid);
      },
    };
    if (match(view)) found.push({ pid, startTime });
  }
  return found;
}

/** Mountinfo text contains a mount whose source is exactly `tag` or starts with `tagPrefix`. */
export function mountinfoHasSource(mountinfo: string, source: { exact?: string; prefix?: string }): boolean {
  if (!mountinfo) return false;
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const src = line.slice(sep + 3).split(' ')[1];
    if (src === undefined) continue;
    if (source.exact !== undefined && src === source.exact) return true;
    if (source.prefix !== undefined && src.startsWith(source.prefix)) return true;
  }
  return false;
}

/** SIGKILL each process that is still the one recorded; never a recycled pid. */
export function killVerified(ids: readonly ProcessIdentity[]): number[] {
  const killed: number[] = [];
  for (const id of ids) {
    if (!isSameProcessAlive(id)) continue;
    try {
      process.kill(id.pid, 'SIGKILL');
      killed.push(id.pid);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }
  return killed;
}

/** Waits until none of the processes runs any more; false on timeout. */
export async function waitGone(ids: readonly ProcessIdentity[], timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (ids.every((id) => !isSameProcessAlive(id))) return true;
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
}

/**
 * Kills every process `match` selects, scanning again until a scan finds none (a dying shell may
 * have forked), then waits for them to be gone. Returns the pids killed.
 */
export async function killMatching(match: (p: ProcessView) => boolean, timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  const all: ProcessIdentity[] = [];
  for (;;) {
    const found = findProcesses(match);
    if (found.length === 0) break;
    killVerified(found);
    all.push(...found);
    if (!(await waitGone(found, Math.max(0, deadline - Date.now())))) {
      const left = found.filter((id) => isSameProcessAlive(id)).map((id) => id.pid);
      throw new Error(`processes ${left.join(', ')} did not die within ${timeoutMs} ms of SIGKILL`);
    }
  }
  return [...new Set(all.map((id) => id.pid))];
}
