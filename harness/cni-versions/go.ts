// CNI plugins built from upstream source (`cni: go:v1.5.1`, `go:<commit>`): the
// containernetworking/plugins module at that version, built the way its release does
// (build_linux.sh: every plugin under plugins/{meta,main,ipam} but windows, CGO_ENABLED=0, the
// release's -ldflags with buildversion.BuildVersion) plus -trimpath, and cached per user as
// go-<version> beside the release versions.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { FaultlineError } from '../errors.ts';
import { GO_REF, buildGoModule, canonicalRef, goToolchain, resolveModuleVersion, type GoBuildRecord, type GoOptions } from '../components/go-build.ts';
import { goEntryName, type Manifest } from './cache.ts';

export const PLUGINS_MODULE = 'github.com/containernetworking/plugins';
export const GO_PREFIX = 'go:';

/** The ref after go: (canonical: 1.5.1 becomes v1.5.1); throws for anything else. */
export function parseGoSpec(spec: string): string {
  const raw = spec.slice(GO_PREFIX.length);
  const ref = canonicalRef(raw);
  if (!GO_REF.test(ref)) {
    throw new FaultlineError('invalid-input', `'${spec}': expected go:vX.Y.Z (a tag of ${PLUGINS_MODULE}), a pseudo-version or go:<commit> (7 to 40 hex digits)`);
  }
  return ref;
}

/** The cache entry name for a go: spec, resolving a commit through the proxy first. */
export async function goEntryFor(spec: string, opts: GoOptions): Promise<{ name: string; version: string }> {
  const ref = parseGoSpec(spec);
  if (ref.startsWith('v')) return { name: goEntryName(ref), version: ref };
  const tc = await goToolchain(opts);
  const version = await resolveModuleVersion(tc, PLUGINS_MODULE, ref, opts);
  opts.onProgress?.(`go: ${PLUGINS_MODULE}@${ref} is ${version}`);
  return { name: goEntryName(version), version };
}

/** Builds every plugin of `version` into `temp`. */
export async function installFromGo(version: string, temp: string, opts: GoOptions): Promise<Pick<Manifest, 'kind' | 'source' | 'origin' | 'build'>> {
  const tc = await goToolchain(opts);
  const build: GoBuildRecord = await buildGoModule(
    tc,
    {
      ...opts,
      module: PLUGINS_MODULE,
      version,
      label: 'CNI plugins',
      requirements: ['github.com/containernetworking/cni'],
      steps: async (mod, src) => [
        {
          packages: await pluginPackages(src),
          cgo: false,
          ldflags: `-extldflags -static -X ${PLUGINS_MODULE}/pkg/utils/buildversion.BuildVersion=${mod.version}`,
        },
      ],
    },
    temp,
  );
  return {
    kind: 'go',
    source: `go:${build.module}@${build.version}`,
    origin: { module: build.module, version: build.version, sum: build.sum, go: build.go },
    build,
  };
}

/** What build_linux.sh builds: plugins/{meta,main,ipam}/<each dir> except windows. */
async function pluginPackages(src: string): Promise<string[]> {
  const out: string[] = [];
  for (const group of ['meta', 'main', 'ipam']) {
    let entries;
    try {
      entries = await readdir(path.join(src, 'plugins', group), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.isDirectory() && e.name !== 'windows') out.push(`./plugins/${group}/${e.name}`);
    }
  }
  if (!out.length) throw new FaultlineError('environment', `${src} has no plugins/{meta,main,ipam}: not a ${PLUGINS_MODULE} source tree`);
  return out;
}
