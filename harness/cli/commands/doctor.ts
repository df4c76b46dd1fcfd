// `faultline doctor`: every prerequisite, with the fix for each missing one. Each backend answers for
// itself (Backend.check(), the same checks a run makes before it starts); the default backend's (or
// --backend's) are required, other backends' optional. Exit 0 when everything required is there, 3
// otherwise.
import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from '../../errors.ts';
import { cniCacheDir, listEntries } from '../../cni-versions/cache.ts';
import { availableBackends, getBackend } from '../../backends/index.ts';
import type { Command } from '../command.ts';
import { goToolchain } from '../../components/go-build.ts';

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
  /** Environment to look in (PATH, DOCKER_HOST, FAULTLINE_KIND, FAULTLINE_CACHE_DIR, ...). */
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

/** Go, for components built from upstream source (go:, containerd-go:, multus). Optional. */
async function checkGo(env: NodeJS.ProcessEnv): Promise<Check> {
  const base = { name: 'go', required: false };
  try {
    const tc = await goToolchain({ env });
    return { ...base, status: 'ok', detail: `${tc.version} (${tc.go}), GOPROXY=${tc.proxy}: components can be built from upstream source (cni: go:..., runtime: containerd-go:..., multus)` };
  } catch (e) {
    return { ...base, status: 'optional', detail: `${(e as Error).message.split(': go: sources')[0]} (needed only for components built from upstream source)`, fix: 'install Go (https://go.dev/doc/install), or use Debian, tarball or dir: sources' };
  }
}

/** Every check, in display order. */
export async function runDoctor(opts: DoctorOptions = {}): Promise<Check[]> {
  const env = opts.env ?? process.env;
  // kind and kubectl, podman and the Docker engine are the kind and container backends' own checks.
  const [backends, cache, go] = await Promise.all([backendChecks(opts), checkCniCache(env), checkGo(env)]);
  return [checkNode(opts.nodeVersion ?? process.versions.node), ...backends, checkSystemPlugins(opts.systemCniDir ?? '/usr/lib/cni'), cache, go];
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
