// Helpers for the local backend's real-namespace tests.
import { readFileSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, open, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { type ProcessIdentity, readBootId, readStartTime } from '../harness/util/procfs.ts';
import { gcRuns, type LedgerEntry, type LedgerFile, type RunOwner } from '../harness/ledger/ledger.ts';

/** The host paths the safety rules protect, and the host's named netns. */
export const HOST_CNI_DIRS = ['/var/lib/cni', '/etc/cni', '/opt/cni'] as const;

/** One path under the host's CNI dirs; small files with their first bytes, to search for marks. */
export interface HostEntry {
  path: string;
  /** The path below the dir the snapshot walked (what names there say about their maker). */
  rel: string;
  type: 'd' | 'f' | 'l' | '?';
  size: number;
  mtimeMs: number;
  head?: string;
}

/** What a run could leave on the host: the CNI dirs' contents and the named netns. */
export interface HostSnapshot {
  entries: HostEntry[];
  netns: string[];
}

const HEAD_BYTES = 64 * 1024;

/** The host's named network namespaces (`ip netns list`, names only). */
export async function hostNetns(): Promise<string[]> {
  const out = (await execa('ip', ['netns', 'list'])).stdout;
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean)
    .sort();
}

/**
 * The host's CNI dirs (every path, its type, size and mtime, and the start of each regular file) and
 * its named netns. Other processes may change these at any time (a package installing a conflist, a
 * container engine adding a netns): compare them with hostLeftovers, which judges only what carries
 * a run's marks, never with equality.
 */
export async function hostSnapshot(roots: readonly string[] = HOST_CNI_DIRS, netns: () => Promise<string[]> = hostNetns): Promise<HostSnapshot> {
  const entries: HostEntry[] = [];
  const walk = async (p: string, rel: string): Promise<void> => {
    const st = await lstat(p).catch(() => undefined);
    if (!st) return;
    const type = st.isDirectory() ? 'd' : st.isFile() ? 'f' : st.isSymbolicLink() ? 'l' : '?';
    const e: HostEntry = { path: p, rel, type, size: st.size, mtimeMs: st.mtimeMs };
    if (type === 'f') e.head = await readHead(p);
    if (type === 'l') e.head = await readlink(p).catch(() => '');
    entries.push(e);
    if (type === 'd') for (const n of (await readdir(p).catch(() => [] as string[])).sort()) await walk(join(p, n), join(rel, n));
  };
  for (const r of roots) await walk(r, '');
  return { entries, netns: await netns() };
}

async function readHead(path: string): Promise<string> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return '';
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead).toString('latin1');
  } finally {
    await fh.close();
  }
}

/** Always a mark: whatever faultline names after itself (mount tags, work dirs) says so. */
const FAULTLINE_MARK = 'faultline';

/**
 * What a run left on the host: the paths under the host's CNI dirs whose name or content, and the
 * netns whose name, carries one of the run's marks (its run id, container ids, netns names: names
 * only it uses) or says faultline, and that were not there, identical, before the run. Anything else
 * that changed was done by someone else and is not judged.
 */
export function hostLeftovers(before: HostSnapshot, after: HostSnapshot, marks: readonly string[]): string[] {
  const all = [...new Set([FAULTLINE_MARK, ...marks.filter((m) => m.length > 0)])];
  const marked = (text: string) => all.find((m) => text.includes(m));
  const key = (e: HostEntry) => JSON.stringify([e.path, e.type, e.size, e.mtimeMs, e.head]);
  const old = new Set(before.entries.map(key));
  const out: string[] = [];
  for (const e of after.entries) {
    if (old.has(key(e))) continue;
    const m = marked(e.rel) ?? marked(e.head ?? '');
    if (m) out.push(`${e.path} (${e.type === 'd' ? 'directory' : e.type === 'l' ? 'symlink' : 'file'}, carries '${m}')`);
  }
  const oldNetns = new Set(before.netns);
  for (const n of after.netns) {
    const m = oldNetns.has(n) ? undefined : marked(n);
    if (m) out.push(`netns ${n} (carries '${m}')`);
  }
  return out;
}

/** A run report's marks: its run id, every container id (and the netns name derived from it), netns names. */
export function marksOfReport(report: unknown): string[] {
  const marks = new Set<string>();
  const visit = (v: unknown, key?: string): void => {
    if (typeof v === 'string') {
      if (key === 'runId' || key === 'containerId' || key === 'netnsName') marks.add(v);
      if (key === 'netns' && v.startsWith('/run/netns/')) marks.add(v.slice('/run/netns/'.length));
      if (/^[0-9a-f]{64}$/.test(v)) {
        marks.add(v);
        marks.add(`cni-${v.slice(0, 8)}-${v.slice(8, 12)}-${v.slice(12, 16)}`);
      }
      return;
    }
    if (Array.isArray(v)) for (const x of v) visit(x);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) visit(x, k);
  };
  visit(report);
  return [...marks].filter((m) => m.length >= 4);
}

/** A temp state dir set as FAULTLINE_STATE_DIR; returns it and a restore function. */
export async function useTempStateDir(): Promise<{ dir: string; restore: () => Promise<void> }> {
  const previous = process.env.FAULTLINE_STATE_DIR;
  const dir = await mkdtemp(join(tmpdir(), 'faultline-state-'));
  process.env.FAULTLINE_STATE_DIR = dir;
  return {
    dir,
    restore: async () => {
      if (previous === undefined) delete process.env.FAULTLINE_STATE_DIR;
      else process.env.FAULTLINE_STATE_DIR = previous;
      // A run a timed-out test abandoned is still registered here: reap it (its nodes, cgroups,
      // containers) as gc would once this worker is gone, instead of leaving it to a later gc.
      const { allReapers } = await import('../harness/backends/index.ts');
      await gcRuns(allReapers(), { stateDir: dir, includeOwnRuns: true });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A plugin dir with one fake plugin that prints its name. */
export async function fakePluginDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-plugins-'));
  await writeFile(join(dir, 'fake-plugin'), '#!/bin/sh\necho fake-plugin "$CNI_COMMAND"\n');
  await chmod(join(dir, 'fake-plugin'), 0o755);
  return dir;
}

/** Polls until `probe` returns true; false on timeout. */
export async function eventually(probe: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return probe();
}

/** True while a process with that pid exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !/\) [ZX] /.test(readStatSafe(pid));
}

function readStatSafe(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
}

/** A child process (sleep) with its identity; stop() kills and reaps it. */
export async function sleeper(): Promise<{ id: ProcessIdentity; stop: () => Promise<void> }> {
  const child = execa('sleep', ['600'], { reject: false });
  const pid = child.pid!;
  let startTime: number | undefined;
  await eventually(() => (startTime = readStartTime(pid)) !== undefined);
  return {
    id: { pid, startTime: startTime! },
    stop: async () => {
      child.kill('SIGKILL');
      await child;
    },
  };
}

/** The identity of a process that has exited. */
export async function deadProcess(): Promise<ProcessIdentity> {
  const s = await sleeper();
  await s.stop();
  return s.id;
}

/** Writes runs/<id>/ledger.json as another faultline process would have. */
export async function writeFakeRun(
  stateDir: string,
  runId: string,
  owner: Partial<RunOwner> & ProcessIdentity,
  resources: LedgerEntry[] = [],
  dirName = runId,
): Promise<string> {
  const dir = join(stateDir, 'runs', dirName);
  await mkdir(join(dir, 'cells', 'c'), { recursive: true });
  const ledger: LedgerFile = {
    version: 1,
    runId,
    owner: { host: hostname(), bootId: readBootId(), ...owner },
    createdAt: new Date().toISOString(),
    resources,
  };
  await writeFile(join(dir, 'ledger.json'), JSON.stringify(ledger));
  await writeFile(join(dir, 'cells', 'c', 'state'), 'x');
  return dir;
}
