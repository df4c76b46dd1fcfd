// CNI plugin versions as real binaries, provisioned on demand into the per-user cache.
//
//   resolvePlugins('1.1.1')        Debian bookworm's package        (source debian:1.1.1+ds1-3+b5)
//   resolvePlugins('0.9.0')        Debian bullseye's package
//   resolvePlugins('sid')          whatever Debian unstable carries now, cached under its version
//   resolvePlugins('1.6.2')        the upstream release tarball, checked against its .sha256
//   resolvePlugins('system')       the host's /usr/lib/cni in place (hashes recorded, nothing copied)
//   resolvePlugins('dir:/path')    a directory of binaries in place
//   resolvePlugins('1.2.3', { source: 'dir', fromDir: '/path' })   a copy of /path cached as 1.2.3
//   resolvePlugins('go:v1.5.1')    built from upstream source through the Go module proxy (cni-versions/go.ts)
//   resolvePlugins('go:<commit>')  the same at a commit the proxy resolves
//
// A cached version resolves from its manifest plus a size check, without network or hashing.
import { chmod, copyFile, mkdir, readFile, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { FaultlineError } from '../errors.ts';
import { kernelFilesystem } from '../util/kernel-fs.ts';
import type { ResolvedPlugins } from '../model/profile.ts';
import {
  type Manifest,
  type SourceKind,
  cleanStaleTemps,
  cniCacheDir,
  commitEntry,
  describeBinaries,
  isEntryName,
  nameOf,
  listEntries,
  makeTempDir,
  manifestStillMatches,
  pluginFiles,
  readManifest,
  throwIfAborted,
  withLock,
} from './cache.ts';
import { DEBIAN_PACKAGE, DEBIAN_RELEASES, MOVING_NAMES, PrivateApt, upstreamVersion } from './debian.ts';
import { runTool } from './run.ts';
import { fetchTarballPlugins, tarballUrl } from './tarball.ts';
import { GO_PREFIX, goEntryFor, installFromGo } from './go.ts';

export { cniCacheDir, listEntries, type Manifest } from './cache.ts';
export { DEBIAN_RELEASES, MOVING_NAMES, debianMirror, upstreamVersion } from './debian.ts';
export { DEFAULT_URL_TEMPLATE, tarballUrl } from './tarball.ts';

export type SourceChoice = 'auto' | SourceKind;
export const SOURCE_CHOICES: readonly SourceChoice[] = ['auto', 'debian', 'tarball', 'dir', 'system', 'go'];

export interface ResolveOptions {
  signal?: AbortSignal | undefined;
  onProgress?: ((message: string) => void) | undefined;
  /** Where the version comes from; auto = Debian for versions Debian has, else the tarball. */
  source?: SourceChoice | undefined;
  /** With source 'dir': the directory whose binaries are cached under the version. */
  fromDir?: string | undefined;
  /** Defaults to cniCacheDir(). */
  cacheDir?: string | undefined;
  /** Install again even when the version is cached. */
  force?: boolean | undefined;
  /** Defaults to $FAULTLINE_CNI_URL_TEMPLATE or the upstream release URL. */
  urlTemplate?: string | undefined;
  /** How long `sid` stays resolved to the version found last (default 24 h; `cni install` uses 0). */
  movingMaxAgeMs?: number | undefined;
  /** For go: builds, the environment Go's settings come from (default process.env). */
  goEnv?: NodeJS.ProcessEnv | undefined;
}

export const SYSTEM_CNI_DIR = '/usr/lib/cni';
const DAY = 24 * 3600_000;
const STABLE_LISTS_MAX_AGE = 7 * DAY;

/** What a version string may be, for help texts and error messages. */
export function knownVersions(): string[] {
  return [
    ...Object.entries(DEBIAN_RELEASES).map(([v, r]) => `${v} (Debian ${r.suite}: ${r.note})`),
    `${Object.keys(MOVING_NAMES).join(' / ')} (what Debian unstable carries now, cached under its exact version)`,
    'system (the installed /usr/lib/cni)',
    'dir:/path (a directory of plugin binaries, used in place)',
    'X.Y.Z (any upstream release, from its release tarball)',
    'go:vX.Y.Z or go:<commit> (built from upstream source through the Go module proxy)',
  ];
}

function unknownVersion(spec: string, why: string): FaultlineError {
  return new FaultlineError('invalid-input', `unknown CNI plugin version '${spec}': ${why}\nknown versions:\n  ${knownVersions().join('\n  ')}`);
}

const RELEASE_RE = /^v?(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?)$/;

function toResolved(m: Manifest): ResolvedPlugins {
  return { version: m.version, source: m.source, dir: m.dir, sha256: { ...m.sha256 }, ...(m.build ? { build: m.build } : {}) };
}

/** Resolves a version string to a directory of plugin binaries, installing it first when needed. */
export async function resolvePlugins(spec: string, opts: ResolveOptions = {}): Promise<ResolvedPlugins> {
  const cache = opts.cacheDir ?? cniCacheDir();
  const s = spec.trim();
  throwIfAborted(opts.signal);
  if (s.startsWith('dir:')) return resolveDirInPlace(s, opts);
  if (s.startsWith(GO_PREFIX) || opts.source === 'go') {
    if (opts.source && opts.source !== 'auto' && opts.source !== 'go') throw new FaultlineError('usage', `'${s}' is built from source; it cannot come from --source ${opts.source}`);
    return resolveGo(cache, s.startsWith(GO_PREFIX) ? s : `${GO_PREFIX}${s}`, opts);
  }
  if (s === 'system' || opts.source === 'system') {
    if (s !== 'system') throw new FaultlineError('usage', `--source system takes the version 'system', not '${s}'`);
    return resolveSystem(cache, opts);
  }
  const moving = MOVING_NAMES[s];
  if (moving) {
    if (opts.source && opts.source !== 'auto' && opts.source !== 'debian') {
      throw new FaultlineError('usage', `'${s}' names a Debian suite; it cannot come from --source ${opts.source}`);
    }
    return resolveMoving(cache, s, moving, opts);
  }
  const m = RELEASE_RE.exec(s);
  if (!m) throw unknownVersion(s, 'not a version number, nor a name faultline knows');
  const version = m[1]!;
  if (!isEntryName(version)) throw unknownVersion(s, 'not a usable version name');
  return resolveVersion(cache, version, opts);
}

async function cachedEntry(cache: string, name: string, opts: ResolveOptions, wantKind?: SourceKind): Promise<Manifest | undefined> {
  if (opts.force) return undefined;
  const m = await readManifest(cache, name);
  if (!m) return undefined;
  if (wantKind && m.kind !== wantKind) return undefined;
  if (await manifestStillMatches(m)) return m;
  opts.onProgress?.(`cached CNI plugins ${name} in ${m.dir} changed on disk; installing again`);
  return undefined;
}

function explicitKind(opts: ResolveOptions): SourceKind | undefined {
  return opts.source && opts.source !== 'auto' ? opts.source : undefined;
}

async function resolveVersion(cache: string, version: string, opts: ResolveOptions): Promise<ResolvedPlugins> {
  const wanted = explicitKind(opts);
  const hit = await cachedEntry(cache, version, opts, wanted);
  if (hit) return toResolved(hit);
  return withLock(cache, version, opts.signal, async () => {
    const again = await cachedEntry(cache, version, opts, wanted); // installed by another process meanwhile
    if (again) return toResolved(again);
    await cleanStaleTemps(cache);
    if (wanted === 'dir') {
      if (!opts.fromDir) throw new FaultlineError('usage', '--source dir needs the directory (--from-dir /path)');
      return install(cache, version, opts, (temp) => installFromDir(version, opts.fromDir!, temp, opts));
    }
    if (wanted === 'tarball') return install(cache, version, opts, (temp) => installFromTarball(version, temp, opts));
    const debian = await debianHome(cache, version, opts, wanted === 'debian');
    if (debian) return install(cache, version, opts, (temp) => installFromDebian(cache, version, debian, temp, opts));
    if (wanted === 'debian') {
      throw unknownVersion(version, `Debian does not carry ${DEBIAN_PACKAGE} ${version} (use --source tarball or dir)`);
    }
    return install(cache, version, opts, (temp) => installFromTarball(version, temp, opts));
  });
}

/** go:<ref>: the cached build, or a build now (one per version at a time, across runs). */
async function resolveGo(cache: string, spec: string, opts: ResolveOptions): Promise<ResolvedPlugins> {
  const goOpts = { signal: opts.signal, onProgress: opts.onProgress, env: opts.goEnv };
  const { name, version } = await goEntryFor(spec, goOpts);
  const hit = await cachedEntry(cache, name, opts, 'go');
  if (hit) return toResolved(hit);
  return withLock(cache, name, opts.signal, async () => {
    const again = await cachedEntry(cache, name, opts, 'go'); // built by another run while we waited
    if (again) return toResolved(again);
    await cleanStaleTemps(cache);
    return install(cache, version, opts, (temp) => installFromGo(version, temp, goOpts));
  });
}

/** Suites probed for versions outside DEBIAN_RELEASES: unstable first, then testing (which lags it). */
const MOVING_SUITES = ['sid', 'testing'] as const;

/** Which Debian suite and package version provide `version`, if any. */
async function debianHome(
  cache: string,
  version: string,
  opts: ResolveOptions,
  required: boolean,
): Promise<{ suite: string; pkgVersion: string } | undefined> {
  const fixed = DEBIAN_RELEASES[version];
  const suites = fixed ? [fixed.suite] : MOVING_SUITES;
  const seen: string[] = [];
  for (const suite of suites) {
    let versions: string[];
    try {
      versions = await new PrivateApt(cache, suite).lookup(fixed ? STABLE_LISTS_MAX_AGE : DAY, opts);
    } catch (e) {
      // Only a known Debian version must come from Debian; for others Debian is a guess, the tarball is next.
      if (fixed || required || !(e instanceof FaultlineError) || e.code === 'interrupted') throw e;
      opts.onProgress?.(`could not check Debian ${suite} for ${version} (${e.message}); trying the release tarball`);
      return undefined;
    }
    const pkgVersion = versions.find((v) => upstreamVersion(v) === version);
    if (pkgVersion) return { suite, pkgVersion };
    seen.push(`${suite}: ${versions.join(', ') || 'nothing'}`);
  }
  if (fixed) {
    throw new FaultlineError('environment', `Debian ${fixed.suite} no longer lists ${DEBIAN_PACKAGE} ${version} (${seen.join('; ')})`);
  }
  if (required) opts.onProgress?.(`Debian has no ${DEBIAN_PACKAGE} ${version} (${seen.join('; ')})`);
  return undefined;
}

type Installer = (temp: string) => Promise<Pick<Manifest, 'kind' | 'source' | 'origin' | 'build'>>;

/** Builds an entry in a temp dir, then commits it (manifest last, rename into place). */
async function install(cache: string, version: string, opts: ResolveOptions, fill: Installer): Promise<ResolvedPlugins> {
  const temp = await makeTempDir(cache, version);
  try {
    const { kind, source, origin, build } = await fill(temp);
    throwIfAborted(opts.signal);
    const files = await pluginFiles(temp);
    if (!files.includes('host-local')) {
      throw new FaultlineError('environment', `${source} has no host-local plugin: not a CNI plugins set (found: ${files.join(', ') || 'nothing'})`);
    }
    const desc = await describeBinaries(temp);
    const manifest: Manifest = {
      schema: 1,
      version,
      source,
      kind,
      origin,
      dir: join(cache, nameOf({ kind, version })),
      ...desc,
      installedAt: new Date().toISOString(),
      ...(build ? { build } : {}),
    };
    throwIfAborted(opts.signal);
    await commitEntry(cache, temp, manifest);
    opts.onProgress?.(`installed CNI plugins ${version} (${source}) in ${manifest.dir}`);
    return toResolved(manifest);
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    throw e;
  }
}

async function installFromDebian(
  cache: string,
  version: string,
  home: { suite: string; pkgVersion: string },
  temp: string,
  opts: ResolveOptions,
): Promise<Pick<Manifest, 'kind' | 'source' | 'origin'>> {
  opts.onProgress?.(`installing CNI plugins ${version} from Debian ${home.suite} (${DEBIAN_PACKAGE} ${home.pkgVersion})`);
  const apt = new PrivateApt(cache, home.suite);
  const got = await apt.fetchPlugins(home.pkgVersion, temp, opts);
  return {
    kind: 'debian',
    source: `debian:${home.pkgVersion}`,
    origin: {
      package: DEBIAN_PACKAGE,
      packageVersion: home.pkgVersion,
      suite: home.suite,
      mirror: apt.mirror,
      url: got.url,
      debSha256: got.debSha256,
      debSize: got.size,
    },
  };
}

async function installFromTarball(version: string, temp: string, opts: ResolveOptions): Promise<Pick<Manifest, 'kind' | 'source' | 'origin'>> {
  const url = tarballUrl(version, opts.urlTemplate);
  opts.onProgress?.(`installing CNI plugins ${version} from ${url}`);
  try {
    const got = await fetchTarballPlugins(url, temp, opts);
    return { kind: 'tarball', source: `tarball:${url}`, origin: { url, tarballSha256: got.sha256, tarballSize: got.size } };
  } catch (e) {
    if (e instanceof FaultlineError && / HTTP 404 /.test(e.message + ' ') && e.message.includes('.sha256')) {
      throw unknownVersion(version, `no release at ${url} (${e.message})`);
    }
    throw e;
  }
}

async function installFromDir(version: string, from: string, temp: string, opts: ResolveOptions): Promise<Pick<Manifest, 'kind' | 'source' | 'origin'>> {
  const dir = resolvePath(from);
  const files = await pluginFiles(dir).catch(() => {
    throw new FaultlineError('invalid-input', `${dir} is not a readable directory`);
  });
  opts.onProgress?.(`installing CNI plugins ${version} from ${dir} (${files.length} binaries)`);
  for (const f of files) {
    throwIfAborted(opts.signal);
    await copyFile(join(dir, f), join(temp, f));
    await chmod(join(temp, f), 0o755);
  }
  return { kind: 'dir', source: `dir:${dir}`, origin: { path: dir } };
}

async function resolveDirInPlace(spec: string, opts: ResolveOptions): Promise<ResolvedPlugins> {
  const raw = spec.slice('dir:'.length);
  if (!raw) throw new FaultlineError('invalid-input', `'${spec}': dir: needs a path, e.g. dir:/opt/cni/bin`);
  const dir = isAbsolute(raw) ? raw : resolvePath(raw);
  let st;
  try {
    st = await stat(dir);
  } catch {
    throw new FaultlineError('invalid-input', `'${spec}': ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new FaultlineError('invalid-input', `'${spec}': ${dir} is not a directory`);
  const kernel = kernelFilesystem((await statfs(dir)).type);
  if (kernel) throw new FaultlineError('invalid-input', `'${spec}': ${dir} is on ${kernel}, a filesystem the kernel makes up, not a directory of plugin binaries`);
  opts.onProgress?.(`hashing CNI plugins in ${dir}`);
  let sha256: Record<string, string>;
  try {
    ({ sha256 } = await describeBinaries(dir));
  } catch (e) {
    // The directory the scenario named holds no plugins: the input is wrong, not the machine.
    if (e instanceof FaultlineError && e.code === 'environment') throw new FaultlineError('invalid-input', `'${spec}': ${e.message}`, { cause: e });
    throw e;
  }
  if (!sha256['host-local']) throw new FaultlineError('invalid-input', `'${spec}': ${dir} has no host-local plugin`);
  return { version: spec, source: `dir:${dir}`, dir, sha256 };
}

async function resolveSystem(cache: string, opts: ResolveOptions): Promise<ResolvedPlugins> {
  const hit = await cachedEntry(cache, 'system', opts, 'system');
  if (hit) return toResolved(hit);
  return withLock(cache, 'system', opts.signal, async () => {
    try {
      if (!(await stat(SYSTEM_CNI_DIR)).isDirectory()) throw new Error('not a directory');
    } catch {
      throw new FaultlineError('prerequisite', `${SYSTEM_CNI_DIR} is missing: the system has no CNI plugins`, {
        hint: `apt-get install ${DEBIAN_PACKAGE}`,
      });
    }
    const q = await runTool('dpkg-query', ['-W', '-f=${Version}', DEBIAN_PACKAGE], { signal: opts.signal }).catch(() => undefined);
    const pkgVersion = q && q.code === 0 ? q.stdout.trim() : '';
    const version = pkgVersion ? upstreamVersion(pkgVersion) : 'unknown';
    opts.onProgress?.(`hashing the system CNI plugins in ${SYSTEM_CNI_DIR}`);
    const desc = await describeBinaries(SYSTEM_CNI_DIR, true);
    const temp = await makeTempDir(cache, 'system');
    try {
      const manifest: Manifest = {
        schema: 1,
        version,
        source: `system:${SYSTEM_CNI_DIR}`,
        kind: 'system',
        origin: pkgVersion ? { package: DEBIAN_PACKAGE, packageVersion: pkgVersion } : { path: SYSTEM_CNI_DIR },
        dir: SYSTEM_CNI_DIR,
        ...desc,
        installedAt: new Date().toISOString(),
      };
      await commitEntry(cache, temp, manifest);
      return toResolved(manifest);
    } catch (e) {
      await rm(temp, { recursive: true, force: true });
      throw e;
    }
  });
}

interface MovingAlias {
  name: string;
  suite: string;
  version: string;
  packageVersion: string;
  resolvedAt: string;
}

/** What a moving name meant last; kept per suite, so `sid` and `latest` share it. */
async function readAlias(cache: string, suite: string): Promise<MovingAlias | undefined> {
  try {
    const a = JSON.parse(await readFile(join(cache, '.aliases', `${suite}.json`), 'utf8')) as MovingAlias;
    return typeof a.version === 'string' && typeof a.resolvedAt === 'string' ? a : undefined;
  } catch {
    return undefined;
  }
}

async function resolveMoving(cache: string, name: string, suite: string, opts: ResolveOptions): Promise<ResolvedPlugins> {
  const maxAge = opts.movingMaxAgeMs ?? DAY;
  const alias = await readAlias(cache, suite);
  const fresh = alias && Date.now() - Date.parse(alias.resolvedAt) <= maxAge;
  if (alias && fresh && isEntryName(alias.version)) {
    const hit = await cachedEntry(cache, alias.version, opts, 'debian');
    if (hit) return toResolved(hit);
  }
  const apt = new PrivateApt(cache, suite);
  let versions: string[];
  try {
    versions = await apt.lookup(maxAge, opts);
  } catch (e) {
    // Offline: keep using what `sid` meant last time, and say so.
    if (alias && e instanceof FaultlineError && e.code === 'environment' && !opts.force) {
      const hit = await cachedEntry(cache, alias.version, opts, 'debian');
      if (hit) {
        opts.onProgress?.(`could not refresh Debian ${suite} (${e.message}); using ${name} = ${alias.version} as resolved at ${alias.resolvedAt}`);
        return toResolved(hit);
      }
    }
    throw e;
  }
  const pkgVersion = versions[0];
  if (!pkgVersion) throw new FaultlineError('environment', `Debian ${suite} lists no ${DEBIAN_PACKAGE}`);
  const version = upstreamVersion(pkgVersion);
  if (!isEntryName(version)) throw new FaultlineError('environment', `Debian ${suite} has ${DEBIAN_PACKAGE} ${pkgVersion}: not a usable version`);
  opts.onProgress?.(`${name} is ${DEBIAN_PACKAGE} ${pkgVersion} (plugins ${version})`);
  const resolved = await withLock(cache, version, opts.signal, async () => {
    const hit = await readManifest(cache, version);
    if (!opts.force && hit && hit.source === `debian:${pkgVersion}` && (await manifestStillMatches(hit))) return toResolved(hit);
    await cleanStaleTemps(cache);
    return install(cache, version, opts, (temp) => installFromDebian(cache, version, { suite, pkgVersion }, temp, opts));
  });
  await mkdir(join(cache, '.aliases'), { recursive: true });
  const record: MovingAlias = { name, suite, version, packageVersion: pkgVersion, resolvedAt: new Date().toISOString() };
  const path = join(cache, '.aliases', `${suite}.json`);
  await writeFile(path + `.${process.pid}`, JSON.stringify(record, null, 2) + '\n');
  await rename(path + `.${process.pid}`, path);
  return resolved;
}

/** Installed versions (complete entries only). */
export async function listInstalled(cacheDir: string = cniCacheDir()): Promise<Manifest[]> {
  return listEntries(cacheDir);
}

/** Removes a cached version; true when there was one. */
export async function removeInstalled(name: string, cacheDir: string = cniCacheDir()): Promise<boolean> {
  if (!isEntryName(name)) throw new FaultlineError('invalid-input', `'${name}' is not a cached version name`);
  const m = await readManifest(cacheDir, name);
  await rm(join(cacheDir, name), { recursive: true, force: true });
  return !!m;
}
