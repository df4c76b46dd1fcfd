// Real container runtimes as provisioned components, like CNI plugin versions: a release named in a
// scenario (`runtime: containerd-1.6`) is data (profiles/runtime/containerd/<name>.yaml: the Debian
// suite and package, the version it must be, the libcni model of the same generation); its binaries
// come through the private apt configuration (cni-versions/debian.ts), unpacked with dpkg-deb into the
// per-user cache, with the sha256 of every binary and the libcni version from the package's
// Built-Using / Static-Built-Using field. `containerd-dir:/path` takes a user's own build (bin/
// containerd, containerd-shim-runc-v2, ctr). CRI's api.proto comes the same way from Debian's
// golang-k8s-cri-api-dev. `containerd-go:v1.7.22` builds containerd from upstream source through the Go
// module proxy (components/go-build.ts) with the flags of its `make release`; the libcni it was built
// with is the version of github.com/containernetworking/cni its go.mod selects.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { execa } from 'execa';
import * as s from '../schema/dsl.ts';
import { FaultlineError, errorMessage } from '../errors.ts';
import { REPO_ROOT } from '../version.ts';
import { PrivateApt, type AptProgress } from '../cni-versions/debian.ts';
import { sha256File, withLock } from '../cni-versions/cache.ts';
import type { ResolvedContainerd } from '../model/profile.ts';
import { GO_REF, buildGoModule, cachedComponent, canonicalRef, goToolchain, resolveModuleVersion, writeManifest, type GoOptions } from './go-build.ts';

export type { ResolvedContainerd };

/** A containerd release faultline knows by name (the data file). */
export interface ContainerdRelease {
  name: string;
  description: string;
  references: string[];
  debian: { suite: string; package: string };
  /** The containerd version this release must resolve to (a regex), e.g. ^1\.6\. */
  versionPattern: string;
  /** The libcni model runtime profile of the same libcni generation (model conformance). */
  model: string;
  file: string;
}

const BINARIES = ['containerd', 'containerd-shim-runc-v2', 'ctr'] as const;
export const RELEASES_DIR = path.join(REPO_ROOT, 'profiles', 'runtime', 'containerd');

export const containerdReleaseSchema = s.object({
  name: s.req(s.string({ pattern: /^containerd-[0-9][0-9a-z.-]*$/, description: 'Must equal the file name without .yaml.' })),
  description: s.req(s.string({ minLength: 1 })),
  references: s.req(s.array(s.string({ minLength: 1 }), { minItems: 1 })),
  debian: s.req(s.object({ suite: s.req(s.string({ pattern: /^[a-z][a-z0-9-]*$/ })), package: s.req(s.string({ pattern: /^[a-z0-9][a-z0-9+.-]*$/ })) })),
  versionPattern: s.req(s.string({ minLength: 1, description: 'A regex the resolved containerd version must match.' })),
  model: s.req(s.string({ pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/, description: 'The libcni model runtime profile of the same libcni generation.' })),
});

/** Names of the containerd releases the data defines (profiles/runtime/containerd/*.yaml); sync for the loader. */
export function containerdReleaseNames(dir = RELEASES_DIR): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
  } catch {
    return [];
  }
}

export async function loadContainerdRelease(name: string, dir = RELEASES_DIR): Promise<ContainerdRelease> {
  const known = containerdReleaseNames(dir);
  if (!known.includes(name)) throw new FaultlineError('invalid-input', `unknown runtime '${name}'; containerd releases: ${known.join(', ') || '(none)'}, or containerd-dir:/path`);
  const file = path.join(dir, `${name}.yaml`);
  const doc = yaml.load(await readFile(file, 'utf8'));
  const problems: s.Problem[] = [];
  const v = containerdReleaseSchema.validate(doc, [], problems);
  if (!v) throw new FaultlineError('invalid-input', `${file}: ${problems.map((p) => `${p.path.join('.') || '(top)'}: ${p.message}`).join('; ')}`);
  if (v.name !== name) throw new FaultlineError('invalid-input', `${file}: name '${v.name}' does not match the file name`);
  return { ...v, file };
}

/** $FAULTLINE_COMPONENTS_DIR, else $XDG_CACHE_HOME/faultline/components, else ~/.cache/faultline/components. */
export function componentsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FAULTLINE_COMPONENTS_DIR) return path.resolve(env.FAULTLINE_COMPONENTS_DIR);
  const xdg = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : path.join(homedir(), '.cache');
  return path.join(xdg, 'faultline', 'components');
}

interface ContainerdManifest {
  schema: 1;
  name: string;
  version: string;
  libcni: string;
  source: string;
  packageVersion: string;
  fields: Record<string, string>;
  sha256: Record<string, string>;
  installedAt: string;
}

/** libcni's version from Built-Using / Static-Built-Using (golang-github-appc-cni (= 1.1.2-1)). */
export function libcniFromFields(fields: Record<string, string>): string | undefined {
  const text = `${fields['Built-Using'] ?? ''}, ${fields['Static-Built-Using'] ?? ''}`;
  const m = /golang-github-appc-cni \(= ([^)\s]+)\)/.exec(text);
  return m ? m[1]!.replace(/-[^-]+$/, '') : undefined;
}

async function describe(binDir: string): Promise<{ version: string; sha256: Record<string, string> }> {
  const sha256: Record<string, string> = {};
  for (const b of BINARIES) {
    const p = path.join(binDir, b);
    try {
      if (!(await stat(p)).isFile()) throw new Error('not a file');
    } catch {
      throw new FaultlineError('invalid-input', `${binDir} has no ${b} (a containerd build needs ${BINARIES.join(', ')})`);
    }
    sha256[b] = await sha256File(p);
  }
  const r = await execa(path.join(binDir, 'containerd'), ['--version'], { reject: false, timeout: 10_000 });
  // "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3"
  const version = String(r.stdout).trim().split(/\s+/)[2];
  if (r.exitCode !== 0 || !version) throw new FaultlineError('invalid-input', `${binDir}/containerd --version did not say its version: ${String(r.stderr || r.stdout).trim()}`);
  return { version, sha256 };
}

/** CRI's api.proto, from Debian sid's golang-k8s-cri-api-dev (cached once per machine). */
export async function resolveCriProto(p: AptProgress = {}): Promise<{ file: string; source: string }> {
  const cache = componentsCacheDir();
  const dir = path.join(cache, 'cri-api');
  const file = path.join(dir, 'api.proto');
  const sourceFile = path.join(dir, 'source');
  if (existsSync(file) && existsSync(sourceFile)) return { file, source: (await readFile(sourceFile, 'utf8')).trim() };
  await mkdir(cache, { recursive: true });
  return withLock(cache, 'cri-api', p.signal, async () => {
    if (existsSync(file) && existsSync(sourceFile)) return { file, source: (await readFile(sourceFile, 'utf8')).trim() };
    const apt = new PrivateApt(cache, 'sid');
    const work = path.join(cache, `.tmp-cri-api-${process.pid}`);
    await rm(work, { recursive: true, force: true });
    try {
      p.onProgress?.('fetching CRI api.proto (Debian golang-k8s-cri-api-dev)');
      const got = await apt.fetchPackage('golang-k8s-cri-api-dev', undefined, work, p);
      const proto = path.join(work, 'usr/share/gocode/src/k8s.io/cri-api/pkg/apis/runtime/v1/api.proto');
      if (!existsSync(proto)) throw new FaultlineError('environment', `golang-k8s-cri-api-dev ${got.fields.Version} has no runtime/v1/api.proto`);
      await mkdir(dir, { recursive: true });
      await rename(proto, file);
      const source = `debian:sid golang-k8s-cri-api-dev=${got.fields.Version} (sha256 ${await sha256File(file)})`;
      await writeFile(sourceFile, source + '\n');
      return { file, source };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
}

/** A containerd by name (containerd-1.6, containerd-2.1), built from source (containerd-go:v1.7.22) or a user's build (containerd-dir:/path). */
export async function resolveContainerd(name: string, p: AptProgress = {}): Promise<ResolvedContainerd> {
  if (name.startsWith(CONTAINERD_GO)) {
    containerdGoRef(name); // a malformed name fails before anything is fetched
    const proto = await resolveCriProto(p);
    const built = await resolveContainerdGo(name, p);
    return { ...built, protoFile: proto.file, protoSource: proto.source };
  }
  const proto = await resolveCriProto(p);
  if (name.startsWith('containerd-dir:')) {
    const dir = path.resolve(name.slice('containerd-dir:'.length));
    const d = await describe(path.join(dir, 'bin'));
    return { name, version: d.version, libcni: 'unknown', source: `dir:${dir}`, dir, sha256: d.sha256, protoFile: proto.file, protoSource: proto.source };
  }
  const release = await loadContainerdRelease(name);
  const cache = componentsCacheDir();
  const entry = path.join(cache, 'containerd', name);
  const manifestFile = path.join(entry, 'manifest.json');
  const fromManifest = async (): Promise<ResolvedContainerd | undefined> => {
    try {
      const m = JSON.parse(await readFile(manifestFile, 'utf8')) as ContainerdManifest;
      if (m.schema !== 1 || m.name !== name) return undefined;
      return { name, version: m.version, libcni: m.libcni, source: m.source, dir: path.join(entry, 'usr'), sha256: m.sha256, protoFile: proto.file, protoSource: proto.source, model: release.model };
    } catch {
      return undefined;
    }
  };
  const cached = await fromManifest();
  if (cached) return cached;
  await mkdir(path.join(cache, 'containerd'), { recursive: true });
  return withLock(cache, `containerd-${name}`, p.signal, async () => {
    const again = await fromManifest();
    if (again) return again;
    const tmp = path.join(cache, 'containerd', `.tmp-${name}-${process.pid}`);
    await rm(tmp, { recursive: true, force: true });
    try {
      p.onProgress?.(`provisioning ${name} (Debian ${release.debian.suite} ${release.debian.package})`);
      const got = await new PrivateApt(cache, release.debian.suite).fetchPackage(release.debian.package, undefined, tmp, p);
      const d = await describe(path.join(tmp, 'usr', 'bin'));
      if (!new RegExp(release.versionPattern).test(d.version)) {
        throw new FaultlineError('environment', `Debian ${release.debian.suite} now carries containerd ${d.version}, not ${name} (${release.versionPattern})`, {
          hint: 'use containerd-dir:/path with a build of that version',
        });
      }
      const libcni = libcniFromFields(got.fields) ?? 'unknown';
      const source = `debian:${release.debian.suite} ${release.debian.package}=${got.fields.Version}`;
      const manifest: ContainerdManifest = { schema: 1, name, version: d.version, libcni, source, packageVersion: got.fields.Version ?? '', fields: got.fields, sha256: d.sha256, installedAt: new Date().toISOString() };
      await writeFile(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
      await rm(entry, { recursive: true, force: true });
      await rename(tmp, entry);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      if (e instanceof FaultlineError) throw e;
      throw new FaultlineError('environment', `provisioning ${name} failed: ${errorMessage(e)}`, { cause: e });
    }
    const done = await fromManifest();
    if (!done) throw new FaultlineError('internal', `${name} installed but its manifest cannot be read`);
    return done;
  });
}

export const CONTAINERD_GO = 'containerd-go:';

/** containerd's module: 1.x is github.com/containerd/containerd, 2.x github.com/containerd/containerd/v2. */
export function containerdModule(version: string): string {
  const major = Number(/^v(\d+)\./.exec(version)?.[1] ?? '1');
  return major >= 2 ? `github.com/containerd/containerd/v${major}` : 'github.com/containerd/containerd';
}

/** The libcni model profile of the same generation as a libcni version (cni PR #1072 is in v1.2.0). */
export function modelForLibcni(libcni: string): string | undefined {
  const m = /^v?(\d+)\.(\d+)\./.exec(libcni);
  if (!m) return undefined;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major !== 1) return undefined;
  return minor <= 1 ? 'libcni-1.1' : minor === 2 ? 'libcni-1.2' : 'libcni-1.3';
}

interface ContainerdGoManifest {
  schema: 1;
  version: string;
  libcni: string;
  source: string;
  sha256: Record<string, string>;
  sizes: Record<string, number>;
  build: NonNullable<ResolvedContainerd['build']>;
  installedAt: string;
}

/** containerd-go:<tag or commit>: built with `make release`'s flags, cached per user as containerd/go-<version>. */
/** The ref of a containerd-go: name (v1.7.22 for containerd-go:1.7.22); throws for a malformed one. */
function containerdGoRef(name: string): string {
  const ref = canonicalRef(name.slice(CONTAINERD_GO.length));
  if (!GO_REF.test(ref)) throw new FaultlineError('invalid-input', `runtime '${name}': expected containerd-go:vX.Y.Z (a containerd tag), a pseudo-version or containerd-go:<commit>`);
  return ref;
}

async function resolveContainerdGo(name: string, p: AptProgress & Pick<GoOptions, 'env'>): Promise<Omit<ResolvedContainerd, 'protoFile' | 'protoSource'>> {
  const ref = containerdGoRef(name);
  const goOpts: GoOptions = { signal: p.signal, onProgress: p.onProgress, env: p.env };
  let version = ref;
  if (!ref.startsWith('v')) {
    version = await resolveModuleVersion(await goToolchain(goOpts), 'github.com/containerd/containerd', ref, goOpts);
    p.onProgress?.(`go: github.com/containerd/containerd@${ref} is ${version}`);
  }
  const module = containerdModule(version);
  const cache = path.join(componentsCacheDir(p.env), 'containerd');
  const read = async (dir: string) => {
    let m: ContainerdGoManifest;
    try {
      m = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as ContainerdGoManifest;
    } catch {
      return undefined;
    }
    for (const [b, size] of Object.entries(m.sizes ?? {})) {
      const st = await stat(path.join(dir, 'bin', b)).catch(() => undefined);
      if (!st?.isFile() || st.size !== size) return undefined;
    }
    return { name, version: m.version, libcni: m.libcni, source: m.source, dir, sha256: m.sha256, build: m.build, ...(modelForLibcni(m.libcni) ? { model: modelForLibcni(m.libcni)! } : {}) };
  };
  return cachedComponent({
    cache,
    name: `go-${version}`,
    signal: p.signal,
    onProgress: p.onProgress,
    read,
    build: async (temp) => {
      const tc = await goToolchain(goOpts);
      const bin = path.join(temp, 'bin');
      await mkdir(bin);
      // Makefile (make release, Linux): containerd and ctr with cgo, PIE, urfave_cli_no_docs; the shim
      // static without cgo (SHIM_CGO_ENABLED=0); -s -w and the version package's -X flags.
      const build = await buildGoModule(
        tc,
        {
          ...goOpts,
          module,
          version,
          label: 'containerd',
          requirements: ['github.com/containernetworking/cni', 'github.com/containerd/go-cni'],
          steps: async (mod) => {
            const pkg = `${module}/version`;
            const x = `-X ${pkg}.Version=${mod.version} -X ${pkg}.Revision=${mod.commit ?? mod.sum} -X ${pkg}.Package=${module}`;
            const tags = ['urfave_cli_no_docs'];
            return [
              { packages: ['./cmd/containerd', './cmd/ctr'], cgo: true, buildmode: 'pie', tags, ldflags: `${x} -s -w` },
              { packages: ['./cmd/containerd-shim-runc-v2'], cgo: false, tags, ldflags: `${x} -extldflags "-static" -s -w` },
            ];
          },
        },
        bin,
      );
      const d = await describe(bin);
      const sizes: Record<string, number> = {};
      for (const b of BINARIES) sizes[b] = (await stat(path.join(bin, b))).size;
      const libcni = (build.requires['github.com/containernetworking/cni'] ?? 'unknown').replace(/^v/, '');
      const manifest: ContainerdGoManifest = { schema: 1, version: d.version, libcni, source: `go:${build.module}@${build.version}`, sha256: d.sha256, sizes, build, installedAt: new Date().toISOString() };
      await writeManifest(temp, manifest);
    },
  });
}

/** Whether a runtime name means a real containerd (the rest are libcni model profiles). */
export function isContainerdRuntime(name: string): boolean {
  return name.startsWith('containerd-');
}
