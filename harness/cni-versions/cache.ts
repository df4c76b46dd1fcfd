// The per-user cache of CNI plugin versions: one directory per version holding the binaries and a
// manifest.json written last. An entry is complete exactly when its directory (named by the version)
// exists with a valid manifest: installs build in a `.tmp-*` directory and rename it into place.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FaultlineError, errorMessage } from '../errors.ts';
import { type ProcessIdentity, isSameProcessAlive, readBootId, readStartTime } from '../util/procfs.ts';
import type { GoBuildRecord } from '../model/profile.ts';

export type SourceKind = 'debian' | 'tarball' | 'dir' | 'system' | 'go';

export interface Manifest {
  schema: 1;
  /** Upstream plugin version (the entry's name; go- + the module version for a go build), e.g. 1.1.1. */
  version: string;
  /** debian:<pkg version>, tarball:<url>, dir:<path>, system:<path>, go:<module>@<version> (as in ResolvedPlugins). */
  source: string;
  kind: SourceKind;
  /** Exact origin: Debian package version and suite and URL, tarball URL, or directory. */
  origin: Record<string, string | number>;
  /** Where the binaries are: the entry itself, or /usr/lib/cni for `system`. */
  dir: string;
  sha256: Record<string, string>;
  /** Sizes (and mtimes for entries that point outside the cache) for a cheap check on reuse. */
  sizes: Record<string, number>;
  mtimes?: Record<string, number>;
  installedAt: string;
  /** A go build: module, h1 sum, Go version, flags. */
  build?: GoBuildRecord;
}

export const MANIFEST = 'manifest.json';

/** $FAULTLINE_CACHE_DIR, else $XDG_CACHE_HOME/faultline/cni, else ~/.cache/faultline/cni. */
export function cniCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FAULTLINE_CACHE_DIR) return env.FAULTLINE_CACHE_DIR;
  const xdg = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(xdg, 'faultline', 'cni');
}

/** Names an entry may have: a version, or `system`. Never a path. */
export function isEntryName(name: string): boolean {
  return /^[0-9A-Za-z][0-9A-Za-z.+~_-]*$/.test(name) && name.length <= 100;
}

export function entryDir(cache: string, name: string): string {
  if (!isEntryName(name)) throw new FaultlineError('invalid-input', `'${name}' is not a valid CNI plugin version name`);
  return join(cache, name);
}

function isManifest(m: unknown): m is Manifest {
  if (!m || typeof m !== 'object') return false;
  const o = m as Record<string, unknown>;
  return (
    o.schema === 1 &&
    typeof o.version === 'string' &&
    typeof o.source === 'string' &&
    typeof o.dir === 'string' &&
    typeof o.installedAt === 'string' &&
    !!o.sha256 &&
    typeof o.sha256 === 'object' &&
    Object.keys(o.sha256).length > 0 &&
    !!o.sizes &&
    typeof o.sizes === 'object'
  );
}

/** The entry's manifest, or undefined when there is no complete entry of that name. */
export async function readManifest(cache: string, name: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await readFile(join(entryDir(cache, name), MANIFEST), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const m: unknown = JSON.parse(text);
    if (!isManifest(m)) return undefined;
    // Entries hold their binaries themselves, wherever the cache has moved to.
    return m.kind === 'system' ? m : { ...m, dir: join(cache, name) };
  } catch {
    return undefined;
  }
}

/** Every complete entry, sorted by name. */
export async function listEntries(cache: string): Promise<Manifest[]> {
  let names: string[];
  try {
    names = await readdir(cache);
  } catch {
    return [];
  }
  const out: Manifest[] = [];
  for (const n of names.sort()) {
    if (!isEntryName(n)) continue;
    const m = await readManifest(cache, n);
    if (m) out.push(m);
  }
  return out;
}

/**
 * Cheap integrity check for reuse: every binary exists with its recorded size (and mtime, where
 * recorded). Hashing ~50 MB each time would cost far more than the reuse budget.
 */
export async function manifestStillMatches(m: Manifest): Promise<boolean> {
  for (const [name, size] of Object.entries(m.sizes)) {
    try {
      const st = await stat(join(m.dir, name));
      if (!st.isFile() || st.size !== size) return false;
      if (m.mtimes && m.mtimes[name] !== Math.trunc(st.mtimeMs)) return false;
    } catch {
      return false;
    }
  }
  return true;
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('error', reject)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** Regular files with an executable bit, directly in `dir`: the plugins. */
export async function pluginFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (!e.isFile() || e.name === MANIFEST) continue;
    const st = await stat(join(dir, e.name));
    if (st.mode & 0o111) out.push(e.name);
  }
  return out.sort();
}

export async function describeBinaries(
  dir: string,
  withMtimes = false,
): Promise<Pick<Manifest, 'sha256' | 'sizes' | 'mtimes'>> {
  const files = await pluginFiles(dir);
  if (files.length === 0) throw new FaultlineError('environment', `no plugin binaries (executable files) in ${dir}`);
  const sha256: Record<string, string> = {};
  const sizes: Record<string, number> = {};
  const mtimes: Record<string, number> = {};
  for (const f of files) {
    const p = join(dir, f);
    sha256[f] = await sha256File(p);
    const st = await stat(p);
    sizes[f] = st.size;
    mtimes[f] = Math.trunc(st.mtimeMs);
  }
  return withMtimes ? { sha256, sizes, mtimes } : { sha256, sizes };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const TEMP_PREFIX = '.tmp-';
const STALE_AGE_MS = 24 * 3600_000;

/** A fresh temp dir inside the cache, named so a later cleanup knows its owner. */
export async function makeTempDir(cache: string, label: string): Promise<string> {
  await mkdir(cache, { recursive: true });
  const dir = join(cache, `${TEMP_PREFIX}${label.replace(/[^0-9A-Za-z.+~_-]/g, '_')}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(dir, { mode: 0o755 });
  return dir;
}

/** Removes temp dirs left by installs whose process is gone (killed mid-way), or very old ones. */
export async function cleanStaleTemps(cache: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(cache);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    if (!n.startsWith(TEMP_PREFIX) && !n.startsWith('.old-')) continue;
    const pid = Number(/-(\d+)-[0-9a-f]{8}$/.exec(n)?.[1]);
    const p = join(cache, n);
    let old = false;
    try {
      old = Date.now() - (await stat(p)).mtimeMs > STALE_AGE_MS;
    } catch {
      continue;
    }
    if (pid === process.pid && !old) continue; // one of ours, still in progress
    if (Number.isInteger(pid) && pidAlive(pid) && !old) continue;
    await rm(p, { recursive: true, force: true });
    removed.push(n);
  }
  return removed;
}

/** Writes the manifest into a finished temp dir and renames it to the entry: the commit point. */
export async function commitEntry(cache: string, temp: string, manifest: Manifest): Promise<void> {
  const target = entryDir(cache, nameOf(manifest));
  await writeFile(join(temp, MANIFEST + '.part'), JSON.stringify(manifest, null, 2) + '\n');
  await rename(join(temp, MANIFEST + '.part'), join(temp, MANIFEST));
  let old: string | undefined;
  try {
    await stat(target);
    old = join(cache, `.old-${nameOf(manifest)}-${process.pid}-${randomBytes(4).toString('hex')}`);
    await rename(target, old);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await rename(temp, target);
  if (old) await rm(old, { recursive: true, force: true });
}

/** The entry name a manifest lives under: its version, `go-<version>` for a go build, or `system`. */
export function nameOf(m: Pick<Manifest, 'kind' | 'version'>): string {
  return m.kind === 'system' ? 'system' : m.kind === 'go' ? goEntryName(m.version) : m.version;
}

/** Go builds live beside the release versions of the same number, never in their place. */
export function goEntryName(moduleVersion: string): string {
  return `go-${moduleVersion}`;
}

/**
 * A lock between processes sharing the cache (two runs at once). The lock is a directory of numbered
 * slot files, each made whole by link(2), which fails when the name exists: of everyone who tries to
 * create slot n+1, exactly one succeeds. Whoever created the highest slot holds the lock while it lives
 * and has not released it; releasing creates the next slot marked free. A dead holder (pid and start
 * time gone, or another boot) is taken over by creating the next slot, so two waiters that both see the
 * same dead holder cannot both proceed, however their steps interleave. Owners are processes: two
 * callers in one process also wait for each other, since the holding process is alive.
 */
export async function withLock<T>(cache: string, name: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  if (!isEntryName(name)) throw new FaultlineError('internal', `'${name}' is not a valid lock name`);
  const dir = join(cache, '.locks', name);
  await mkdir(dir, { recursive: true });
  const deadline = Date.now() + 15 * 60_000;
  let slot: number;
  for (;;) {
    throwIfAborted(signal);
    const got = await tryTakeSlot(dir);
    if (typeof got === 'number') {
      slot = got;
      break;
    }
    if (Date.now() > deadline) {
      throw new FaultlineError('environment', `timed out waiting for the lock ${dir} (held by pid ${got.holder?.pid ?? 'unknown'})`);
    }
    await sleep(150, signal);
  }
  try {
    return await fn();
  } finally {
    await writeFile(join(dir, slotName(slot + 1)), FREE, { flag: 'wx' }).catch(() => undefined);
  }
}

interface LockOwner extends ProcessIdentity {
  bootId: string;
}

const SLOT_PREFIX = 'slot-';
const FREE = 'free\n';
const slotName = (n: number) => `${SLOT_PREFIX}${n}`;

async function slotsIn(dir: string): Promise<number[]> {
  const out: number[] = [];
  for (const n of await readdir(dir)) {
    if (!n.startsWith(SLOT_PREFIX)) continue;
    const k = Number(n.slice(SLOT_PREFIX.length));
    if (Number.isSafeInteger(k) && k > 0) out.push(k);
  }
  return out;
}

/** The live holder a slot names, undefined when the slot is free (released, or its owner is gone). */
function liveHolder(text: string): LockOwner | undefined {
  let o: Partial<LockOwner>;
  try {
    o = JSON.parse(text) as Partial<LockOwner>;
  } catch {
    return undefined; // `free`, or a file a power cut left empty
  }
  if (typeof o.pid !== 'number' || typeof o.startTime !== 'number' || typeof o.bootId !== 'string') return undefined;
  const owner = { pid: o.pid, startTime: o.startTime, bootId: o.bootId };
  return owner.bootId === readBootId() && isSameProcessAlive(owner) ? owner : undefined;
}

/** One attempt: the slot now held, or the live holder that keeps us waiting. */
async function tryTakeSlot(dir: string): Promise<number | { holder?: LockOwner }> {
  const slots = await slotsIn(dir);
  const top = slots.length ? Math.max(...slots) : 0;
  if (top > 0) {
    let text: string;
    try {
      text = await readFile(join(dir, slotName(top)), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {}; // cleaned up under us: look again
      throw e;
    }
    const holder = liveHolder(text);
    if (holder) return { holder };
  }
  // Free or abandoned: create the next slot, whole, in one step.
  const startTime = readStartTime(process.pid);
  if (startTime === undefined) throw new FaultlineError('internal', 'cannot read this process start time from /proc');
  const me: LockOwner = { pid: process.pid, startTime, bootId: readBootId() };
  const temp = join(dir, `${TEMP_PREFIX}${process.pid}-${startTime}-${randomBytes(4).toString('hex')}`);
  await writeFile(temp, JSON.stringify(me) + '\n');
  const mine = top + 1;
  try {
    await link(temp, join(dir, slotName(mine)));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return {}; // someone else took it first
    throw e;
  } finally {
    await rm(temp, { force: true });
  }
  // A slot below the highest is never the holder's: if a slot we read as the highest was cleaned up
  // after someone went past it, our link may have re-created a low number. Step back then.
  const after = await slotsIn(dir);
  if (after.some((k) => k > mine)) {
    await rm(join(dir, slotName(mine)), { force: true });
    return {};
  }
  await cleanLockDir(dir, mine);
  return mine;
}

/** Removes slots below the one held and the temp files of processes that are gone. */
async function cleanLockDir(dir: string, held: number): Promise<void> {
  for (const n of await readdir(dir)) {
    const k = n.startsWith(SLOT_PREFIX) ? Number(n.slice(SLOT_PREFIX.length)) : NaN;
    if (k < held) {
      await rm(join(dir, n), { force: true });
      continue;
    }
    const t = /^\.tmp-(\d+)-(\d+)-[0-9a-f]{8}$/.exec(n);
    if (t && !isSameProcessAlive({ pid: Number(t[1]), startTime: Number(t[2]) })) await rm(join(dir, n), { force: true });
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const r: unknown = signal.reason;
  if (r instanceof FaultlineError) throw r;
  throw new FaultlineError('interrupted', `interrupted${r instanceof Error ? `: ${r.message}` : ''}`);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export function describeError(e: unknown): string {
  const cause = (e as { cause?: unknown })?.cause;
  const base = errorMessage(e);
  return cause ? `${base} (${errorMessage(cause)})` : base;
}
