// The real kind and kubectl binaries, provisioned like the other components: Debian sid's `kind` and
// `kubectl` packages through the private apt configuration (cni-versions/debian.ts), unpacked into the
// per-user cache once, with the sha256 of the binary and its own version output recorded in the
// report. FAULTLINE_KIND / FAULTLINE_KUBECTL choose another: an absolute path to a binary, `path` for
// the one on PATH, or `debian` (the default). The npm package called `kind` is an unrelated library
// without a binary: `npx kind` never runs kind, so faultline never looks there.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { FaultlineError, errorMessage } from '../errors.ts';
import { PrivateApt, type AptProgress } from '../cni-versions/debian.ts';
import { sha256File, withLock } from '../cni-versions/cache.ts';
import { findBinary } from '../util/which.ts';
import { componentsCacheDir } from './containerd.ts';

export type KubeToolName = 'kind' | 'kubectl';

/** A provisioned kind or kubectl: where it is, what it says it is, and where it came from. */
export interface ResolvedKubeTool {
  name: KubeToolName;
  path: string;
  /** The binary's own version (kind v0.33.0, kubectl v1.36.4). */
  version: string;
  /** debian:sid kind=0.33.0-1, path:/usr/local/bin/kind, env:/opt/kind (FAULTLINE_KIND). */
  source: string;
  sha256: string;
}

const TOOLS: Record<KubeToolName, { env: string; debianPackage: string; binary: string }> = {
  kind: { env: 'FAULTLINE_KIND', debianPackage: 'kind', binary: 'usr/bin/kind' },
  kubectl: { env: 'FAULTLINE_KUBECTL', debianPackage: 'kubectl', binary: 'usr/bin/kubectl' },
};

/** How a tool is chosen, from the environment: Debian's (default), the one on PATH, or a file. */
export type ToolChoice = { kind: 'debian' } | { kind: 'path' } | { kind: 'file'; file: string };

export function toolChoice(name: KubeToolName, env: NodeJS.ProcessEnv = process.env): ToolChoice {
  const variable = TOOLS[name].env;
  const v = env[variable];
  if (v === undefined || v === '' || v === 'debian') return { kind: 'debian' };
  if (v === 'path') return { kind: 'path' };
  if (!v.startsWith('/')) {
    throw new FaultlineError('usage', `${variable}=${v}: expected an absolute path to the ${name} binary, 'path' (the ${name} on PATH) or 'debian' (Debian sid's package, the default)`);
  }
  return { kind: 'file', file: v };
}

/** The version line a tool prints: `kind version` / `kubectl version --client -o json`. */
export async function toolVersion(name: KubeToolName, file: string): Promise<string> {
  const argv = name === 'kind' ? ['version'] : ['version', '--client', '-o', 'json'];
  const r = await execa(file, argv, { reject: false, timeout: 15_000, env: { HOME: '/nonexistent', KUBECONFIG: '/dev/null' }, extendEnv: false });
  const out = String(r.stdout ?? '').trim();
  if (r.exitCode === 0 && name === 'kind') {
    // "kind v0.33.0 go1.27.2 linux/amd64"
    const m = /^kind (v\d+\.\d+\.\d+\S*)/.exec(out);
    if (m) return m[1]!;
  }
  if (r.exitCode === 0 && name === 'kubectl') {
    try {
      const v = (JSON.parse(out) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion;
      if (v) return v;
    } catch {
      /* reported below */
    }
  }
  const said = String(r.stderr || r.stdout || r.shortMessage || '').trim().split('\n')[0];
  throw new FaultlineError('prerequisite', `${file} is not a working ${name} binary: \`${name} ${argv.join(' ')}\` said ${JSON.stringify(said)} (exit ${r.exitCode ?? r.signal})`, {
    hint: name === 'kind' ? `the npm package named kind is not kind; unset ${TOOLS[name].env} to use Debian's kind` : `unset ${TOOLS[name].env} to use Debian's kubectl`,
  });
}

async function describeFile(name: KubeToolName, file: string, source: string): Promise<ResolvedKubeTool> {
  let st;
  try {
    st = await stat(file);
  } catch {
    throw new FaultlineError('prerequisite', `${name}: ${file} does not exist (${source})`);
  }
  if (!st.isFile() || !(st.mode & 0o111)) throw new FaultlineError('prerequisite', `${name}: ${file} is not an executable file (${source})`);
  const version = await toolVersion(name, file);
  return { name, path: file, version, source, sha256: await sha256File(file) };
}

interface ToolManifest {
  schema: 1;
  name: KubeToolName;
  version: string;
  source: string;
  sha256: string;
  packageVersion: string;
  debSha256: string;
  installedAt: string;
}

/** The tool as the environment asks for it (FAULTLINE_KIND / FAULTLINE_KUBECTL), provisioned on demand. */
export async function resolveKubeTool(name: KubeToolName, p: AptProgress & { env?: NodeJS.ProcessEnv } = {}): Promise<ResolvedKubeTool> {
  const env = p.env ?? process.env;
  const choice = toolChoice(name, env);
  if (choice.kind === 'file') return describeFile(name, choice.file, `${TOOLS[name].env}=${choice.file}`);
  if (choice.kind === 'path') {
    const found = findBinary(name, env, []);
    if (!found) throw new FaultlineError('prerequisite', `${TOOLS[name].env}=path, but there is no ${name} on PATH`, { hint: `install ${name}, or unset ${TOOLS[name].env} to use Debian's` });
    return describeFile(name, found, `path:${found}`);
  }
  return resolveDebianTool(name, p, env);
}

/** Debian sid's package of the tool, cached per user (the first fetch decides the version). */
export async function resolveDebianTool(name: KubeToolName, p: AptProgress = {}, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedKubeTool> {
  const cache = componentsCacheDir(env);
  const entry = path.join(cache, name, 'sid');
  const manifestFile = path.join(entry, 'manifest.json');
  const binary = path.join(entry, TOOLS[name].binary);
  const fromManifest = async (): Promise<ResolvedKubeTool | undefined> => {
    try {
      const m = JSON.parse(await readFile(manifestFile, 'utf8')) as ToolManifest;
      if (m.schema !== 1 || m.name !== name || !existsSync(binary)) return undefined;
      return { name, path: binary, version: m.version, source: m.source, sha256: m.sha256 };
    } catch {
      return undefined;
    }
  };
  const cached = await fromManifest();
  if (cached) return cached;
  await mkdir(path.join(cache, name), { recursive: true });
  return withLock(cache, `${name}-sid`, p.signal, async () => {
    const again = await fromManifest();
    if (again) return again;
    const tmp = path.join(cache, name, `.tmp-sid-${process.pid}`);
    await rm(tmp, { recursive: true, force: true });
    try {
      p.onProgress?.(`provisioning ${name} (Debian sid ${TOOLS[name].debianPackage})`);
      const got = await new PrivateApt(cache, 'sid').fetchPackage(TOOLS[name].debianPackage, undefined, tmp, p);
      const file = path.join(tmp, TOOLS[name].binary);
      const d = await describeFile(name, file, '');
      const source = `debian:sid ${TOOLS[name].debianPackage}=${got.fields.Version ?? '?'}`;
      const manifest: ToolManifest = { schema: 1, name, version: d.version, source, sha256: d.sha256, packageVersion: got.fields.Version ?? '', debSha256: got.debSha256, installedAt: new Date().toISOString() };
      await writeFile(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
      await rm(entry, { recursive: true, force: true });
      await rename(tmp, entry);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      if (e instanceof FaultlineError) throw e;
      throw new FaultlineError('environment', `provisioning ${name} from Debian sid failed: ${errorMessage(e)}`, { cause: e });
    }
    const done = await fromManifest();
    if (!done) throw new FaultlineError('internal', `${name} installed but its manifest cannot be read`);
    return done;
  });
}

/** Where a cached Debian tool would be (doctor reports it without fetching). */
export async function cachedDebianTool(name: KubeToolName, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedKubeTool | undefined> {
  const entry = path.join(componentsCacheDir(env), name, 'sid');
  try {
    const m = JSON.parse(await readFile(path.join(entry, 'manifest.json'), 'utf8')) as ToolManifest;
    const file = path.join(entry, TOOLS[name].binary);
    return m.schema === 1 && existsSync(file) ? { name, path: file, version: m.version, source: m.source, sha256: m.sha256 } : undefined;
  } catch {
    return undefined;
  }
}
