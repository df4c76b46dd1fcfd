// `faultline doctor`: every prerequisite, with the fix for each missing one. Each backend answers for
// itself (Backend.check(), the same checks a run makes before it starts); the default backend's (or
// --backend's) are required, other backends' optional. Exit 0 when everything required is there, 3
// otherwise.
import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { EXIT } from '../../errors.ts';
import { cniCacheDir, listEntries } from '../../cni-versions/cache.ts';
import { availableBackends, getBackend } from '../../backends/index.ts';
import { SBIN_DIRS, findBinary } from '../../util/which.ts';
import type { Command } from '../command.ts';

export type CheckStatus = 'ok' | 'missing' | 'optional';

export interface Check {
  name: string;
  /** ok: present; missing: required and absent; optional: absent but only other backends need it. */
  status: CheckStatus;
  required: boolean;
  detail: string;
  fix?: string;
}

export interface DoctorOptions {
  /** Environment to look in (PATH, DOCKER_HOST, FAULTLINE_KIND_BINARY, FAULTLINE_CACHE_DIR, ...). */
  env?: NodeJS.ProcessEnv;
  /** Where Debian installs the CNI plugins. */
  systemCniDir?: string;
  uid?: number;
  nodeVersion?: string;
  /** Searched after PATH (a non-root PATH often lacks the sbin dirs). */
  extraDirs?: readonly string[];
  /** The backend whose checks are required (default: local, the backend runs use by default). */
  backend?: string;
}

const MIN_NODE = [20, 5] as const;
/** The backend runs use unless a scenario or --backend says otherwise: its checks are required. */
const DEFAULT_BACKEND = 'local';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

// A check's probe: exit code (127 when it cannot start), output; killed after timeoutMs.
async function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 10_000): Promise<Ran> {
  const r = await execa(cmd, args, { env, extendEnv: false, stdin: 'ignore', timeout: timeoutMs, reject: false, stripFinalNewline: false });
  if (r.exitCode === undefined && r.signal === undefined) return { code: 127, stdout: r.stdout, stderr: r.stderr || (r.shortMessage ?? 'cannot start') };
  return { code: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0]?.trim() ?? '';
}

function checkNode(version: string): Check {
  const [maj = 0, min = 0] = version.replace(/^v/, '').split('.').map(Number);
  const ok = maj > MIN_NODE[0] || (maj === MIN_NODE[0] && min >= MIN_NODE[1]);
  return ok
    ? { name: 'node', status: 'ok', required: true, detail: `Node.js ${version}` }
    : {
        name: 'node',
        status: 'missing',
        required: true,
        detail: `Node.js ${version}; faultline needs >= ${MIN_NODE.join('.')}`,
        fix: 'install Node.js 20.5 or newer (e.g. the nodejs package of your distribution or nodesource)',
      };
}

function checkSystemPlugins(dir: string): Check {
  const base = { name: 'cni-plugins', required: true } as const;
  const hostLocal = join(dir, 'host-local');
  if (existsSync(hostLocal)) return { ...base, status: 'ok', detail: `Debian plugins in ${dir}` };
  return { ...base, status: 'missing', detail: `${hostLocal} not found`, fix: 'apt-get install containernetworking-plugins' };
}

async function checkCniCache(env: NodeJS.ProcessEnv): Promise<Check> {
  const dir = cniCacheDir(env);
  const base = { name: 'cni-cache', required: true } as const;
  // Writable: the dir itself, or the nearest existing parent it would be created in.
  let probe = dir;
  while (!existsSync(probe) && probe !== '/') probe = join(probe, '..');
  try {
    accessSync(probe, constants.W_OK);
  } catch {
    return { ...base, status: 'missing', detail: `${dir} is not writable`, fix: 'set FAULTLINE_CACHE_DIR to a writable directory' };
  }
  const entries = await listEntries(dir);
  const names = entries.map((m) => (m.kind === 'system' ? `system=${m.version}` : m.version));
  return {
    ...base,
    status: 'ok',
    detail: names.length
      ? `${dir}: ${names.join(', ')}`
      : `${dir}: no versions cached yet (runs install them on demand; 'faultline cni install 1.1.1' does it ahead)`,
  };
}

async function checkKind(env: NodeJS.ProcessEnv, extra: readonly string[]): Promise<Check> {
  const base = { name: 'kind', required: false } as const;
  const fix =
    'install the kind binary (a Go program, not the unrelated npm package `kind`): `go install sigs.k8s.io/kind@latest` ' +
    "or download it from kind's GitHub releases, then put it on PATH or set FAULTLINE_KIND_BINARY=/path/to/kind";
  const configured = env.FAULTLINE_KIND_BINARY;
  const bin = configured || findBinary('kind', env, extra);
  if (!bin) return { ...base, status: 'optional', detail: 'kind binary not found on PATH (kind backend)', fix };
  const r = await run(bin, ['version'], env);
  const out = firstLine(r.stdout);
  if (r.code === 0 && /^kind v\d+\.\d+/.test(out)) return { ...base, status: 'ok', detail: `${bin}: ${out}` };
  return {
    ...base,
    status: 'optional',
    detail: `${bin} is not the kind binary ('kind version' said: ${out || firstLine(r.stderr) || `exit ${r.code}`})`,
    fix,
  };
}

async function checkKubectl(env: NodeJS.ProcessEnv, extra: readonly string[]): Promise<Check> {
  const base = { name: 'kubectl', required: false } as const;
  const bin = findBinary('kubectl', env, extra);
  if (!bin) {
    return { ...base, status: 'optional', detail: 'kubectl not found (kind backend)', fix: "install kubectl (Kubernetes' apt repository or its release binary)" };
  }
  const r = await run(bin, ['version', '--client', '-o', 'json'], env);
  let v = '';
  try {
    v = (JSON.parse(r.stdout) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion ?? '';
  } catch {
    /* old kubectl */
  }
  return { ...base, status: 'ok', detail: `${bin}${v ? ` ${v}` : ''}` };
}

/** Each available backend's own checks: required for the chosen (default) backend, optional for the others. */
async function backendChecks(opts: DoctorOptions): Promise<Check[]> {
  const out: Check[] = [];
  for (const name of availableBackends()) {
    const required = name === (opts.backend ?? DEFAULT_BACKEND);
    const checks = await getBackend(name).check({ ...(opts.env ? { env: opts.env } : {}), ...(opts.uid !== undefined ? { uid: opts.uid } : {}), ...(opts.extraDirs ? { extraDirs: opts.extraDirs } : {}) });
    for (const c of checks) {
      out.push({ name: c.name, status: c.ok ? 'ok' : required ? 'missing' : 'optional', required, detail: required ? c.detail : `${c.detail} (${name} backend)`, ...(c.fix ? { fix: c.fix } : {}) });
    }
  }
  return out;
}

/** Every check, in display order. */
export async function runDoctor(opts: DoctorOptions = {}): Promise<Check[]> {
  const env = opts.env ?? process.env;
  const extra = opts.extraDirs ?? SBIN_DIRS;
  const [backends, cache, kind, kubectl] = await Promise.all([backendChecks(opts), checkCniCache(env), checkKind(env, extra), checkKubectl(env, extra)]);
  return [checkNode(opts.nodeVersion ?? process.versions.node), ...backends, checkSystemPlugins(opts.systemCniDir ?? '/usr/lib/cni'), cache, kind, kubectl];
}

export function formatChecks(checks: Check[]): string[] {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${c.status.padEnd(8)} ${c.name.padEnd(width)}  ${c.detail}`);
    if (c.status !== 'ok' && c.fix) lines.push(`${''.padEnd(8)} ${''.padEnd(width)}  fix: ${c.fix}`);
  }
  return lines;
}

/** The command, looking where `opts` says (tests point it at an empty PATH). */
export function doctorCommandWith(opts: DoctorOptions): Command {
  return {
    name: 'doctor',
    summary: 'check the prerequisites, with the fix for each missing one',
    usage: 'faultline doctor [--json] [--backend NAME]',
    optionHelp: { json: 'machine-readable output', backend: `the backend whose prerequisites are required (default ${DEFAULT_BACKEND})` },
    options: { json: { type: 'boolean' }, backend: { type: 'string' } },
    async run(values, _positionals, io) {
      const backend = typeof values.backend === 'string' ? values.backend : undefined;
      if (backend !== undefined) getBackend(backend); // an unknown or planned name is a usage error
      const checks = await runDoctor({ ...opts, ...(backend ? { backend } : {}) });
      if (values.json) io.out(JSON.stringify(checks, null, 2));
      else for (const l of formatChecks(checks)) io.out(l);
      const missing = checks.filter((c) => c.status === 'missing');
      if (!values.json) {
        io.out(missing.length ? `${missing.length} required prerequisite(s) missing` : 'all required prerequisites are there');
      }
      return missing.length ? EXIT.environment : EXIT.ok;
    },
  };
}

export const doctorCommand = doctorCommandWith({});
