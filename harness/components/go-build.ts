// Go-written components built from upstream source at any version, as their own developers build
// them: the module comes through the Go module proxy (`go mod download`, checked against go.sum's
// checksum database), is copied out of the module cache and built as the main module, so its replace
// directives hold (`go install mod@version` refuses modules that have them). Builds use
// `-mod=readonly` (never -mod=mod: it rewrites go.mod's go directive, which changes DefaultGODEBUG and
// so every binary), -trimpath, no VCS stamping and the project's own release flags, and run with
// faultline's own Go caches (never the user's) under the per-user cache. Identical inputs (module
// sum, Go version, flags) give identical binaries; each build records all of them.
import { randomBytes } from 'node:crypto';
import { chmod, cp, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { FaultlineError, errorMessage } from '../errors.ts';
import type { GoBuildRecord } from '../model/profile.ts';
import { cleanStaleTemps, describeBinaries, makeTempDir, throwIfAborted, withLock } from '../cni-versions/cache.ts';
import { findBinary } from '../util/which.ts';

export type { GoBuildRecord };

/** $FAULTLINE_GO_CACHE_DIR, else $XDG_CACHE_HOME/faultline/go, else ~/.cache/faultline/go. */
export function goCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FAULTLINE_GO_CACHE_DIR) return path.resolve(env.FAULTLINE_GO_CACHE_DIR);
  const xdg = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : path.join(homedir(), '.cache');
  return path.join(xdg, 'faultline', 'go');
}

/** What the user can use instead when Go or the proxy is missing. */
export const GO_ALTERNATIVES =
  'alternatives: CNI plugins from a release tarball or Debian (cni: 1.5.1) or a directory of binaries (cni: dir:/path); containerd from Debian (runtime: containerd-1.6) or your own build (containerd-dir:/path); Multus from your own build (multus: dir:/path)';

/** The go command and the environment every faultline Go invocation runs with. */
export interface GoToolchain {
  go: string;
  /** go env GOVERSION, e.g. go1.26.8. */
  version: string;
  goos: string;
  goarch: string;
  /** The proxy list in use (the user's GOPROXY). */
  proxy: string;
  env: NodeJS.ProcessEnv;
  cacheDir: string;
}

export interface GoOptions {
  signal?: AbortSignal | undefined;
  onProgress?: ((message: string) => void) | undefined;
  /** The environment to take PATH, GOPROXY and friends from (default process.env). */
  env?: NodeJS.ProcessEnv | undefined;
  /** Defaults to goCacheDir(env). */
  cacheDir?: string | undefined;
}

// The user's network settings for Go are kept (a company proxy, private modules); everything that
// decides what gets built is faultline's.
const NETWORK_VARS = ['GOPROXY', 'GOSUMDB', 'GONOSUMDB', 'GONOSUMCHECK', 'GONOPROXY', 'GOPRIVATE', 'GOINSECURE', 'GOAUTH'] as const;
const PASS_THROUGH = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'TMPDIR'] as const;

/** Where go is: $FAULTLINE_GO, else PATH, else Go's default install location. */
function findGo(env: NodeJS.ProcessEnv): string | undefined {
  if (env.FAULTLINE_GO) return env.FAULTLINE_GO;
  return findBinary('go', env, ['/usr/local/go/bin']);
}

const toolchains = new Map<string, Promise<GoToolchain>>();

/**
 * The Go toolchain to build with; FaultlineError('prerequisite') naming what is missing and the
 * alternatives when there is none. Asked once per process and cache dir.
 */
export function goToolchain(opts: GoOptions = {}): Promise<GoToolchain> {
  const env = opts.env ?? process.env;
  const cacheDir = opts.cacheDir ?? goCacheDir(env);
  const key = JSON.stringify([cacheDir, env.FAULTLINE_GO ?? '', env.PATH ?? '', env.FAULTLINE_GOTOOLCHAIN ?? '', ...NETWORK_VARS.map((v) => env[v] ?? '')]);
  let p = toolchains.get(key);
  if (!p) {
    p = detectToolchain(env, cacheDir);
    toolchains.set(key, p);
    p.catch(() => toolchains.delete(key));
  }
  return p;
}

async function detectToolchain(env: NodeJS.ProcessEnv, cacheDir: string): Promise<GoToolchain> {
  const go = findGo(env);
  if (go && env.FAULTLINE_GO && !(await stat(go).then((st) => st.isFile(), () => false))) {
    throw new FaultlineError('prerequisite', `FAULTLINE_GO=${go} does not exist: go: sources build components from upstream source with it; ${GO_ALTERNATIVES}`);
  }
  if (!go) {
    throw new FaultlineError('prerequisite', `Go is not installed (no go command on PATH or in /usr/local/go/bin): go: sources build components from upstream source with it; ${GO_ALTERNATIVES}`, {
      hint: 'install Go (https://go.dev/doc/install) or set FAULTLINE_GO=/path/to/go',
    });
  }
  // The user's own settings (go env -w included) decide only where modules come from.
  const user = await execa(go, ['env', '-json', ...NETWORK_VARS], { env: { ...env, GOTOOLCHAIN: 'local' }, extendEnv: false, reject: false, timeout: 30_000 });
  if (user.exitCode !== 0) throw new FaultlineError('prerequisite', `${go} env failed: ${String(user.stderr || user.stdout).trim()}; ${GO_ALTERNATIVES}`);
  const network = JSON.parse(user.stdout) as Record<string, string>;
  const base: NodeJS.ProcessEnv = { PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: env.HOME ?? homedir() };
  for (const v of PASS_THROUGH) if (env[v]) base[v] = env[v];
  for (const v of NETWORK_VARS) if (network[v]) base[v] = network[v];
  Object.assign(base, {
    GOENV: 'off', // ~/.config/go/env (GOFLAGS=-mod=mod would change the binaries)
    // -modcacherw: faultline's module cache can be removed with rm -rf like the rest of its cache.
    GOFLAGS: '-mod=readonly -buildvcs=false -modcacherw',
    GOTOOLCHAIN: env.FAULTLINE_GOTOOLCHAIN || 'local',
    GOMODCACHE: path.join(cacheDir, 'mod'),
    GOCACHE: path.join(cacheDir, 'build'),
    GOPATH: path.join(cacheDir, 'path'),
    GOWORK: 'off',
    GO111MODULE: 'on',
    GOTELEMETRY: 'off',
  });
  const r = await execa(go, ['env', '-json', 'GOVERSION', 'GOOS', 'GOARCH', 'GOPROXY'], { env: base, extendEnv: false, reject: false, timeout: 120_000 });
  if (r.exitCode !== 0) throw new FaultlineError('prerequisite', `${go} env failed: ${String(r.stderr || r.stdout).trim()}; ${GO_ALTERNATIVES}`);
  const e = JSON.parse(r.stdout) as Record<string, string>;
  if (!e.GOPROXY || e.GOPROXY === 'off') {
    throw new FaultlineError('prerequisite', `Go has no module proxy (GOPROXY=${e.GOPROXY || '(empty)'}): go: sources download modules through it; ${GO_ALTERNATIVES}`, {
      hint: 'set GOPROXY (e.g. https://proxy.golang.org,direct)',
    });
  }
  return { go, version: e.GOVERSION!, goos: e.GOOS!, goarch: e.GOARCH!, proxy: e.GOPROXY, env: base, cacheDir };
}

export interface GoRunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs go with faultline's environment; `onLine` sees stderr lines as they come. Abortable. */
export async function runGo(tc: GoToolchain, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal | undefined; onLine?: (line: string) => void }): Promise<GoRunResult> {
  throwIfAborted(opts.signal);
  const sub = execa(tc.go, args, {
    cwd: opts.cwd,
    env: { ...tc.env, ...opts.env },
    extendEnv: false,
    stdin: 'ignore',
    reject: false,
    ...(opts.signal ? { cancelSignal: opts.signal } : {}),
  });
  if (opts.onLine) {
    let buf = '';
    sub.stderr?.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) opts.onLine!(l);
    });
  }
  const r = await sub;
  if (r.isCanceled) {
    throwIfAborted(opts.signal);
    throw new FaultlineError('interrupted', 'interrupted');
  }
  if (r.failed && r.exitCode === undefined && r.signal === undefined) throw new FaultlineError('prerequisite', `cannot run ${tc.go}: ${r.shortMessage}`);
  return { code: r.exitCode ?? 128, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** A module version as `go mod download -json` describes it. */
export interface DownloadedModule {
  path: string;
  version: string;
  /** go.sum's h1: hash of the module zip. */
  sum: string;
  goModSum: string;
  /** The extracted module in faultline's module cache (read-only). */
  dir: string;
  /** The proxy's .info: the version's time and, where it knows it, the commit. */
  time?: string;
  commit?: string;
}

const NETWORK_FAILURE = /dial tcp|no such host|connection refused|i\/o timeout|network is unreachable|TLS handshake|proxyconnect|context deadline exceeded|connection reset/i;

/** A go error about reaching or being served by the proxy, as a FaultlineError saying which. */
export function proxyError(tc: Pick<GoToolchain, 'proxy'>, ref: string, text: string): FaultlineError {
  const all = text.trim().split('\n').map((l) => l.trim()).filter(Boolean).join(' ').replace(/\.+$/, '');
  const line = all.length > 400 ? `${all.slice(0, 400)}...` : all;
  if (NETWORK_FAILURE.test(text)) {
    return new FaultlineError('environment', `the Go module proxy (GOPROXY=${tc.proxy}) cannot be reached for ${ref}: ${line}; ${GO_ALTERNATIVES}`, {
      hint: 'check the network and GOPROXY, or use one of the alternatives',
    });
  }
  if (/\b403\b|forbidden|not available/i.test(text)) {
    return new FaultlineError('environment', `the Go module proxy (GOPROXY=${tc.proxy}) did not serve ${ref}: ${line}. A proxy may hold only tagged versions, or refuse commits it has not seen; ${GO_ALTERNATIVES}`, {
      hint: 'use a released tag (go:vX.Y.Z), or build that commit yourself and use dir:/path',
    });
  }
  if (/\b404\b|\b410\b|unknown revision|invalid version|not found|no such file or directory|no matching versions|malformed/i.test(text)) {
    return new FaultlineError('invalid-input', `${ref} does not exist: the Go module proxy (GOPROXY=${tc.proxy}) answered: ${line}`);
  }
  return new FaultlineError('environment', `go could not fetch ${ref}: ${line}`);
}

/** Where an empty directory for go commands outside any module lives (never inside the user's module). */
async function scratchDir(tc: GoToolchain): Promise<string> {
  const d = path.join(tc.cacheDir, 'tmp', `${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(d, { recursive: true });
  return d;
}

/** Downloads `module@version` (a tag, a pseudo-version or a commit the proxy resolves). */
export async function downloadModule(tc: GoToolchain, module: string, version: string, opts: GoOptions = {}): Promise<DownloadedModule> {
  const ref = `${module}@${version}`;
  opts.onProgress?.(`go: downloading ${ref} (GOPROXY=${tc.proxy})`);
  const cwd = await scratchDir(tc);
  try {
    const r = await runGo(tc, ['mod', 'download', '-json', ref], { cwd, signal: opts.signal });
    let j: { Path?: string; Version?: string; Error?: string; Info?: string; Dir?: string; Sum?: string; GoModSum?: string } = {};
    try {
      j = JSON.parse(r.stdout);
    } catch {
      // no JSON: the error is on stderr
    }
    if (r.code !== 0 || j.Error || !j.Dir || !j.Sum) throw proxyError(tc, ref, j.Error ?? (r.stderr || r.stdout));
    const out: DownloadedModule = { path: j.Path ?? module, version: j.Version!, sum: j.Sum, goModSum: j.GoModSum ?? '', dir: j.Dir };
    if (j.Info) {
      try {
        const info = JSON.parse(await readFile(j.Info, 'utf8')) as { Time?: string; Origin?: { Hash?: string } };
        if (info.Time) out.time = info.Time;
        if (info.Origin?.Hash) out.commit = info.Origin.Hash;
      } catch {
        // the .info is informative only
      }
    }
    return out;
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

/** Resolves a ref (tag, commit, branch) to the proxy's canonical version without building. */
export async function resolveModuleVersion(tc: GoToolchain, module: string, ref: string, opts: GoOptions = {}): Promise<string> {
  const cwd = await scratchDir(tc);
  try {
    const r = await runGo(tc, ['list', '-m', '-json', `${module}@${ref}`], { cwd, signal: opts.signal });
    let j: { Version?: string; Error?: { Err?: string } } = {};
    try {
      j = JSON.parse(r.stdout);
    } catch {
      // error on stderr
    }
    if (r.code !== 0 || !j.Version) throw proxyError(tc, `${module}@${ref}`, j.Error?.Err ?? (r.stderr || r.stdout));
    return j.Version;
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

/** The versions the proxy lists for a module (go list -m -versions; a proxy's list may be incomplete). */
export async function listModuleVersions(tc: GoToolchain, module: string, opts: GoOptions = {}): Promise<{ versions: string[]; error?: string }> {
  const cwd = await scratchDir(tc);
  try {
    const r = await runGo(tc, ['list', '-m', '-versions', '-json', module], { cwd, signal: opts.signal });
    let j: { Versions?: string[]; Error?: { Err?: string } } = {};
    try {
      j = JSON.parse(r.stdout);
    } catch {
      // error on stderr
    }
    if (r.code !== 0 || j.Error) {
      const text = j.Error?.Err ?? (r.stderr || r.stdout);
      if (NETWORK_FAILURE.test(text)) throw proxyError(tc, module, text);
      return { versions: [], error: text.trim().split('\n').map((l) => l.trim()).filter(Boolean).join(' ') };
    }
    return { versions: j.Versions ?? [] };
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

/** One `go build` invocation of a component's release. */
export interface GoBuildStep {
  /** Package paths relative to the module root, e.g. ./cmd/containerd. */
  packages: string[];
  cgo: boolean;
  ldflags: string;
  tags?: string[];
  buildmode?: string;
}

export interface GoBuildSpec extends GoOptions {
  module: string;
  /** A tag, pseudo-version or commit. */
  version: string;
  /** For progress lines, e.g. "CNI plugins". */
  label: string;
  /** The builds, given the module's resolved identity and its extracted source. */
  steps: (mod: DownloadedModule, srcDir: string) => Promise<GoBuildStep[]>;
  /** Modules whose selected versions to record (e.g. github.com/containernetworking/cni: libcni). */
  requirements?: string[];
  /** Called with the copied source before it is removed (e.g. to read a release manifest). */
  inspect?: (srcDir: string) => Promise<void>;
}

/** Copies the read-only module out of the module cache, writable, without vendor/ (zips carry only modules.txt). */
async function writableCopy(from: string, to: string): Promise<void> {
  await cp(from, to, { recursive: true });
  const walk = async (dir: string): Promise<void> => {
    await chmod(dir, 0o755);
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) await chmod(p, ((await stat(p)).mode & 0o777) | 0o200);
    }
  };
  await walk(to);
  await rm(path.join(to, 'vendor'), { recursive: true, force: true });
}

const PROGRESS_EVERY_MS = 10_000;

/**
 * Builds a module version's binaries into `outDir` and says exactly what was built. Every go command
 * runs in a private copy of the source; `outDir` receives only the binaries.
 */
export async function buildGoModule(tc: GoToolchain, spec: GoBuildSpec, outDir: string): Promise<GoBuildRecord> {
  const t0 = Date.now();
  // Whether this build starts from an empty Go build cache (then its time is a cold build's).
  const buildCacheWasEmpty = !(await stat(path.join(tc.cacheDir, 'build', 'README')).then(() => true, () => false));
  const mod = await downloadModule(tc, spec.module, spec.version, spec);
  const tDownload = Date.now();
  const work = path.join(tc.cacheDir, 'work', `${spec.module.replace(/[^A-Za-z0-9.-]+/g, '_')}@${mod.version}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(path.dirname(work), { recursive: true });
  await cleanStaleWork(path.dirname(work));
  try {
    await writableCopy(mod.dir, work);
    await spec.inspect?.(work);
    const steps = await spec.steps(mod, work);
    const all = steps.flatMap((s) => s.packages);
    spec.onProgress?.(`go: fetching the dependencies of ${spec.label} ${mod.version} (checked against its go.sum)`);
    const deps = await runGo(tc, ['list', '-deps', ...tagArgs(steps[0]?.tags), ...all], { cwd: work, signal: spec.signal, env: { CGO_ENABLED: steps.some((s) => s.cgo) ? '1' : '0' } });
    if (deps.code !== 0) throw buildFailure(tc, spec, mod, 'fetching dependencies', deps.stderr);
    const tDeps = Date.now();
    let compiled = 0;
    let last = Date.now();
    const onLine = (line: string) => {
      if (!/^[\w.~-]+(\/[\w.~+-]+)*$/.test(line.trim())) return;
      compiled++;
      if (Date.now() - last >= PROGRESS_EVERY_MS) {
        last = Date.now();
        spec.onProgress?.(`go: building ${spec.label} ${mod.version}: ${compiled} packages compiled, ${Math.round((Date.now() - tDeps) / 1000)} s`);
      }
    };
    for (const step of steps) {
      spec.onProgress?.(`go: building ${spec.label} ${mod.version} with ${tc.version} (${step.packages.length} binaries, CGO_ENABLED=${step.cgo ? 1 : 0})`);
      const args = ['build', '-v', '-trimpath', ...tagArgs(step.tags), ...(step.buildmode ? [`-buildmode=${step.buildmode}`] : []), '-ldflags', step.ldflags, '-o', outDir + '/', ...step.packages];
      const r = await runGo(tc, args, { cwd: work, signal: spec.signal, onLine, env: { CGO_ENABLED: step.cgo ? '1' : '0' } });
      if (r.code !== 0) throw buildFailure(tc, spec, mod, 'building', r.stderr);
    }
    const requires: Record<string, string> = {};
    for (const m of spec.requirements ?? []) {
      const r = await runGo(tc, ['list', '-m', '-f', '{{if .Replace}}{{.Replace.Path}}@{{.Replace.Version}}{{else}}{{.Version}}{{end}}', m], { cwd: work, signal: spec.signal });
      if (r.code === 0 && r.stdout.trim()) requires[m] = r.stdout.trim();
    }
    const { sha256 } = await describeBinaries(outDir);
    const tEnd = Date.now();
    spec.onProgress?.(`go: built ${spec.label} ${mod.version} in ${((tEnd - t0) / 1000).toFixed(1)} s (${Object.keys(sha256).length} binaries)`);
    return {
      module: mod.path,
      version: mod.version,
      requested: spec.version,
      sum: mod.sum,
      goModSum: mod.goModSum,
      ...(mod.commit ? { commit: mod.commit } : {}),
      ...(mod.time ? { time: mod.time } : {}),
      go: tc.version,
      goos: tc.goos,
      goarch: tc.goarch,
      proxy: tc.proxy,
      steps: steps.map((s) => ({ packages: s.packages, cgo: s.cgo, ldflags: s.ldflags, tags: s.tags ?? [], ...(s.buildmode ? { buildmode: s.buildmode } : {}), flags: `-mod=readonly -buildvcs=false -trimpath` })),
      requires,
      sha256,
      timing: { downloadMs: tDownload - t0, depsMs: tDeps - tDownload, buildMs: tEnd - tDeps, totalMs: tEnd - t0, buildCacheWasEmpty },
      builtAt: new Date().toISOString(),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Removes work and scratch dirs of builds whose process is gone (killed mid-build). */
async function cleanStaleWork(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = Number(/-(\d+)-[0-9a-f]{8}$/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch (e) {
      alive = (e as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (!alive) await rm(path.join(dir, name), { recursive: true, force: true }).catch(() => undefined);
  }
}

function tagArgs(tags: readonly string[] | undefined): string[] {
  return tags?.length ? ['-tags', tags.join(',')] : [];
}

function buildFailure(tc: GoToolchain, spec: GoBuildSpec, mod: DownloadedModule, what: string, stderr: string): FaultlineError {
  if (NETWORK_FAILURE.test(stderr)) return proxyError(tc, `the dependencies of ${mod.path}@${mod.version}`, stderr);
  const tail = stderr.trim().split('\n').slice(-8).join('\n');
  const toolchain = /requires go >= ([0-9.]+)/.exec(stderr);
  return new FaultlineError('environment', `go failed ${what} ${spec.label} ${mod.version} (${mod.path}, ${tc.version}):\n${tail}`, {
    ...(toolchain
      ? { hint: `the module needs Go ${toolchain[1]}: install it, or set FAULTLINE_GOTOOLCHAIN=go${toolchain[1]} to let go fetch that toolchain through the proxy` }
      : /gcc|cgo/.test(stderr)
        ? { hint: 'this build needs a C compiler for cgo: apt-get install gcc' }
        : {}),
  });
}

/**
 * A Go-built component cached per user: one directory per entry, complete once its manifest exists
 * (written last; the build happens in a temp dir renamed into place). Two runs wanting the same entry
 * build it once: the second waits for the lock, then finds the entry.
 */
export async function cachedComponent<T>(opts: {
  cache: string;
  name: string;
  /** The entry's result from its directory, or undefined when it is missing, incomplete or changed. */
  read: (dir: string) => Promise<T | undefined>;
  /** Builds the entry into `temp` (binaries and manifest). */
  build: (temp: string) => Promise<void>;
  signal?: AbortSignal | undefined;
  onProgress?: ((message: string) => void) | undefined;
  force?: boolean | undefined;
}): Promise<T> {
  const dir = path.join(opts.cache, opts.name);
  if (!opts.force) {
    const hit = await opts.read(dir);
    if (hit !== undefined) return hit;
  }
  await mkdir(opts.cache, { recursive: true });
  return withLock(opts.cache, opts.name, opts.signal, async () => {
    if (!opts.force) {
      const again = await opts.read(dir); // built by another run while we waited
      if (again !== undefined) return again;
    }
    await cleanStaleTemps(opts.cache);
    const temp = await makeTempDir(opts.cache, opts.name);
    try {
      await opts.build(temp);
      throwIfAborted(opts.signal);
      const old = path.join(opts.cache, `.old-${opts.name}-${process.pid}-${randomBytes(4).toString('hex')}`);
      const had = await rename(dir, old).then(
        () => true,
        (e: NodeJS.ErrnoException) => {
          if (e.code === 'ENOENT') return false;
          throw e;
        },
      );
      await rename(temp, dir);
      if (had) await rm(old, { recursive: true, force: true });
    } catch (e) {
      await rm(temp, { recursive: true, force: true });
      if (e instanceof FaultlineError) throw e;
      throw new FaultlineError('environment', `building ${opts.name} failed: ${errorMessage(e)}`, { cause: e });
    }
    const done = await opts.read(dir);
    if (done === undefined) throw new FaultlineError('internal', `${dir} was built but cannot be read back`);
    return done;
  });
}

/** A written manifest, JSON, last step of a build (the entry counts as complete once it exists). */
export async function writeManifest(dir: string, manifest: unknown): Promise<void> {
  await writeFile(path.join(dir, 'manifest.json.part'), JSON.stringify(manifest, null, 2) + '\n');
  await rename(path.join(dir, 'manifest.json.part'), path.join(dir, 'manifest.json'));
}

/** Module versions as faultline accepts them after `go:`: a tag, a pseudo-version or a commit. */
export const GO_REF = /^(v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+incompatible)?|[0-9a-f]{7,40})$/;

/** `v1.5.1` for `1.5.1`; refs that are already canonical or commits unchanged. */
export function canonicalRef(ref: string): string {
  return /^\d+\.\d+\.\d+/.test(ref) ? `v${ref}` : ref;
}

/** Whether a ref names a released or pre-release tag (resolvable offline from the cache). */
export function isTagRef(ref: string): boolean {
  return /^v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+incompatible)?$/.test(ref) && !/-\d{14}-[0-9a-f]{12}$/.test(ref);
}
