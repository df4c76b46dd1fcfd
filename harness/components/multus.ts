// Multus's thin plugin as a provisioned component (`cluster.stack.multus`): v4.x has no Debian
// package and no reachable release image here, so it is built from upstream source through the Go
// module proxy (components/go-build.ts), with the flags of its hack/build-go.sh: CGO_ENABLED=0 and
// -ldflags -X .../pkg/multus.{version,commit,gitTreeState,releaseStatus,date}, the date being the
// version's commit time (reproducible, where the script takes the wall clock). The module is
// gopkg.in/k8snetworkplumbingwg/multus-cni.v4 (its go.mod says so; the github.com paths do not exist
// on the proxy). `dir:/path` takes a user's own build instead.
//
// Recorded beside the binaries: the flags this release's thin_entrypoint accepts (its -help: v4.1.0
// added --multus-cni-conf-dir, whose default it would mkdir on the host), and the thin entrypoint's
// args in the release's own deployments/multus-daemonset.yml, which is how the DaemonSet runs it.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import { execa } from 'execa';
import { FaultlineError } from '../errors.ts';
import type { ResolvedMultus } from '../model/profile.ts';
import { describeBinaries } from '../cni-versions/cache.ts';
import { componentsCacheDir } from './containerd.ts';
import { GO_REF, buildGoModule, cachedComponent, canonicalRef, goToolchain, resolveModuleVersion, writeManifest, type GoOptions } from './go-build.ts';

export type { ResolvedMultus };

export const MULTUS_MODULE_V4 = 'gopkg.in/k8snetworkplumbingwg/multus-cni.v4';
/** The thin plugin image's binaries (images/Dockerfile copies these from hack/build-go.sh's bin/). */
export const MULTUS_BINARIES = ['multus', 'thin_entrypoint', 'install_multus'] as const;
/** What the DaemonSet of v4.0.x and v4.1.x runs when its manifest cannot be read. */
const DEFAULT_DAEMONSET_ARGS = ['--multus-conf-file=auto', '--multus-autoconfig-dir=/host/etc/cni/net.d', '--cni-conf-dir=/host/etc/cni/net.d'];

interface MultusManifest {
  schema: 1;
  version: string;
  source: string;
  sha256: Record<string, string>;
  sizes: Record<string, number>;
  thinFlags: string[];
  daemonsetArgs: string[];
  build?: ResolvedMultus['build'];
  installedAt: string;
}

/** The forms cluster.stack.multus takes: vX.Y.Z or go:vX.Y.Z (built from source), go:<commit>, dir:/path. */
export const MULTUS_FORM = /^(go:)?(v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?|[0-9a-f]{7,40})$|^dir:\/.+$/;

export function describeMultusForms(): string {
  return 'vX.Y.Z or go:vX.Y.Z (built from upstream source through the Go module proxy), go:<commit>, or dir:/path (your own build with thin_entrypoint and multus)';
}

/** A Multus version, built (cached per user) or taken from a directory. */
export async function resolveMultus(spec: string, opts: GoOptions & { force?: boolean } = {}): Promise<ResolvedMultus> {
  if (spec.startsWith('dir:')) return resolveMultusDir(spec);
  if (!MULTUS_FORM.test(spec)) throw new FaultlineError('invalid-input', `multus '${spec}': expected ${describeMultusForms()}`);
  const ref = canonicalRef(spec.replace(/^go:/, ''));
  if (!GO_REF.test(ref)) throw new FaultlineError('invalid-input', `multus '${spec}': expected ${describeMultusForms()}`);
  const major = /^v(\d+)\./.exec(ref)?.[1];
  if (major !== undefined && major !== '4') {
    throw new FaultlineError('invalid-input', `multus '${spec}': faultline builds the v4 thin plugin (${MULTUS_MODULE_V4}); Multus ${major === '3' || Number(major) < 4 ? 'before v4 has no thin_entrypoint binary (its entrypoint was a shell script)' : `v${major} lives at another module path`}`);
  }
  let version = ref;
  if (!ref.startsWith('v')) {
    const tc = await goToolchain(opts);
    version = await resolveModuleVersion(tc, MULTUS_MODULE_V4, ref, opts);
    opts.onProgress?.(`go: ${MULTUS_MODULE_V4}@${ref} is ${version}`);
  }
  const cache = path.join(componentsCacheDir(opts.env), 'multus');
  return cachedComponent({
    cache,
    name: `go-${version}`,
    signal: opts.signal,
    onProgress: opts.onProgress,
    force: opts.force,
    read: readMultusEntry,
    build: async (temp) => {
      const tc = await goToolchain(opts);
      let daemonsetArgs = DEFAULT_DAEMONSET_ARGS;
      const build = await buildGoModule(
        tc,
        {
          ...opts,
          module: MULTUS_MODULE_V4,
          version,
          label: 'Multus',
          requirements: ['github.com/containernetworking/cni'],
          inspect: async (src) => {
            daemonsetArgs = (await daemonsetThinArgs(path.join(src, 'deployments', 'multus-daemonset.yml'))) ?? DEFAULT_DAEMONSET_ARGS;
          },
          steps: async (mod) => {
            const p = `${MULTUS_MODULE_V4}/pkg/multus`;
            const commit = mod.commit ?? mod.sum;
            const date = mod.time ?? '';
            return [
              {
                packages: MULTUS_BINARIES.map((b) => `./cmd/${b}`),
                cgo: false,
                ldflags: `-X ${p}.version=${mod.version} -X ${p}.commit=${commit} -X ${p}.gitTreeState=clean -X ${p}.releaseStatus=,released -X ${p}.date=${date}`,
              },
            ];
          },
        },
        temp,
      );
      const desc = await describeBinaries(temp);
      const manifest: MultusManifest = {
        schema: 1,
        version: build.version,
        source: `go:${build.module}@${build.version}`,
        sha256: desc.sha256,
        sizes: desc.sizes,
        thinFlags: await thinFlags(path.join(temp, 'thin_entrypoint')),
        daemonsetArgs,
        build,
        installedAt: new Date().toISOString(),
      };
      await writeManifest(temp, manifest);
    },
  });
}

async function readMultusEntry(dir: string): Promise<ResolvedMultus | undefined> {
  let m: MultusManifest;
  try {
    m = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as MultusManifest;
  } catch {
    return undefined;
  }
  if (m.schema !== 1 || !m.sizes || !m.sha256) return undefined;
  for (const [name, size] of Object.entries(m.sizes)) {
    const st = await stat(path.join(dir, name)).catch(() => undefined);
    if (!st?.isFile() || st.size !== size) return undefined;
  }
  return { version: m.version, source: m.source, dir, sha256: m.sha256, thinFlags: m.thinFlags, daemonsetArgs: m.daemonsetArgs, ...(m.build ? { build: m.build } : {}) };
}

async function resolveMultusDir(spec: string): Promise<ResolvedMultus> {
  const dir = spec.slice('dir:'.length);
  if (!dir.startsWith('/') || dir.split('/').includes('..')) throw new FaultlineError('invalid-input', `multus '${spec}': expected dir:/absolute/path`);
  for (const b of ['thin_entrypoint', 'multus']) {
    const st = await stat(path.join(dir, b)).catch(() => undefined);
    if (!st?.isFile()) throw new FaultlineError('invalid-input', `multus '${spec}': ${dir} has no ${b} (a Multus thin plugin build has ${MULTUS_BINARIES.join(', ')})`);
  }
  const { sha256 } = await describeBinaries(dir);
  const v = await execa(path.join(dir, 'thin_entrypoint'), ['-version'], { reject: false, timeout: 10_000 });
  const version = /version:\s*(v?[0-9][^\s(,]*)/.exec(`${v.stdout}\n${v.stderr}`)?.[1] ?? 'unknown';
  return { version, source: `dir:${dir}`, dir, sha256, thinFlags: await thinFlags(path.join(dir, 'thin_entrypoint')), daemonsetArgs: DEFAULT_DAEMONSET_ARGS };
}

/** The long flags a thin_entrypoint accepts, from its -help (which exits non-zero). */
async function thinFlags(bin: string): Promise<string[]> {
  const r = await execa(bin, ['--help'], { reject: false, timeout: 10_000, stdin: 'ignore' });
  const flags = [...`${r.stdout}\n${r.stderr}`.matchAll(/^\s+(?:-\w, )?--([a-z0-9-]+)/gm)].map((m) => m[1]!);
  if (!flags.includes('cni-conf-dir')) throw new FaultlineError('environment', `${bin} --help lists no --cni-conf-dir: not a Multus thin entrypoint (${String(r.stderr || r.stdout).trim().slice(0, 200)})`);
  return [...new Set(flags)].sort();
}

/** The thin entrypoint's args in a release's DaemonSet manifest (the container whose command is /thin_entrypoint). */
export async function daemonsetThinArgs(file: string): Promise<string[] | undefined> {
  let docs: unknown[];
  try {
    docs = yaml.loadAll(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  for (const d of docs) {
    const spec = (d as { kind?: string; spec?: { template?: { spec?: { containers?: { command?: unknown; args?: unknown }[] } } } } | null)?.spec?.template?.spec;
    if ((d as { kind?: string } | null)?.kind !== 'DaemonSet' || !spec?.containers) continue;
    for (const c of spec.containers) {
      if (Array.isArray(c.command) && c.command[0] === '/thin_entrypoint' && Array.isArray(c.args) && c.args.every((a) => typeof a === 'string')) return c.args as string[];
    }
  }
  return undefined;
}

/** Pods on a Multus node: their ADD would run Multus's own binary, which reads the pod from an API server. */
export const MULTUS_WITH_PODS =
  "a stack with multus runs no pods here: their ADD would go through Multus's own binary, which reads each pod from a Kubernetes API server (faultline runs none); leave the workload empty and judge the config it writes (config-not-nested)";

/**
 * What is wrong with a cluster.stack.multus value, for the scenario loader; undefined when it is fine.
 * --cleanup-config-on-exit is refused on v4.0.x: there its watch loop regenerates the config from its
 * own output without pause, hundreds of nesting levels a second (multus-cni#1130).
 */
export function multusProblem(value: string, cleanupOnExit: boolean): string | undefined {
  if (!MULTUS_FORM.test(value) || (value.startsWith('dir:') && value.split('/').includes('..'))) return `expected ${describeMultusForms()}, found ${JSON.stringify(value)}`;
  const m = /^(?:go:)?v?(\d+)\.(\d+)\./.exec(value);
  if (m && m[1] !== '4') return `faultline runs the v4 thin plugin; found ${JSON.stringify(value)}`;
  if (cleanupOnExit && m && Number(m[2]) < 1) return `multusCleanupOnExit with Multus ${value}: v4.0.x's --cleanup-config-on-exit loops regenerating its config from its own output (multus-cni#1130); use it with v4.1.0 or later`;
  return undefined;
}
