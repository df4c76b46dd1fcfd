// The per-user cache of CNI plugin versions: one directory per version holding the binaries and a
// manifest.json written last. An entry is complete exactly when its directory (named by the version)
// exists with a valid manifest: installs build in a `.tmp-*` directory and rename it into place.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FaultlineError, errorMessage } from '../errors.ts';

export type SourceKind = 'debian' | 'tarball' | 'dir' | 'system';

export interface Manifest {
  schema: 1;
  /** Upstream plugin version (the entry's name), e.g. 1.1.1. */
  version: string;
  /** debian:<pkg version>, tarball:<url>, dir:<path>, system:<path> (as in ResolvedPlugins). */
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

/** The entry name a manifest lives under: its version, or `system`. */
export function nameOf(m: Pick<Manifest, 'kind' | 'version'>): string {
  return m.kind === 'system' ? 'system' : m.version;
}

/**
 * A lock between processes sharing the cache (two runs at once): a file created exclusively, holding
 * the owner's pid; a dead owner's lock is taken over.
 */
export async function withLock<T>(cache: string, name: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  const dir = join(cache, '.locks');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.lock`);
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    throwIfAborted(signal);
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (!Number.isInteger(owner) || owner <= 0 || !pidAlive(owner)) {
        // Empty (owner died between create and write) or dead owner: take it over.
        const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => Infinity);
        if (owner > 0 || age > 5_000) await rm(path, { force: true });
      }
      if (Date.now() > deadline) {
        throw new FaultlineError('environment', `timed out waiting for ${path} (held by pid ${owner})`);
      }
      await sleep(150, signal);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
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
