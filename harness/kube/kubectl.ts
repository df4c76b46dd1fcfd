// A kubectl client: argv arrays, JSON output, the run's kubeconfig file (never the user's), a private
// HOME so kubectl's cache and config are never the user's either.
import { execa } from 'execa';
import path from 'node:path';
import { FaultlineError } from '../errors.ts';

export interface KubectlResult {
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

const NO_RESOURCE = /the server doesn't have a resource type|no matches for kind|could not find the requested resource/i;
const NOT_FOUND = /\(NotFound\)|not found/i;

export class Kubectl {
  constructor(
    readonly bin: string,
    readonly kubeconfig: string,
    /** Dir for kubectl's HOME (its discovery cache). */
    readonly home: string = path.dirname(kubeconfig),
  ) {}

  /** The environment of kubectl and of install scripts (kubectl first on PATH). */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return { PATH: `${path.dirname(this.bin)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: this.home, KUBECONFIG: this.kubeconfig, ...extra };
  }

  async run(args: readonly string[], o: { stdin?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
    const argv = [...args];
    const r = await execa(this.bin, argv, {
      reject: false,
      extendEnv: false,
      env: this.env(),
      timeout: o.timeoutMs ?? 120_000,
      ...(o.stdin === undefined ? { stdin: 'ignore' as const } : { input: o.stdin }),
    });
    return { argv, exitCode: r.exitCode ?? 128, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '').trim() || (r.timedOut ? `timed out after ${o.timeoutMs ?? 120_000} ms` : ''), durationMs: r.durationMs };
  }

  async must(args: readonly string[], o: { stdin?: string; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.run(args, o);
    if (r.exitCode !== 0) throw new FaultlineError('environment', `kubectl ${args.join(' ')} failed: ${r.stderr || `exit ${r.exitCode}`}`);
    return r.stdout;
  }

  /** Items of a resource type (all namespaces unless one is given); undefined when the API lacks the type. */
  async list(resource: string, o: { namespace?: string; selector?: string } = {}): Promise<Record<string, any>[] | undefined> {
    const args = ['get', resource, '-o', 'json', ...(o.namespace ? ['-n', o.namespace] : ['--all-namespaces']), ...(o.selector ? ['-l', o.selector] : [])];
    const r = await this.run(args);
    if (r.exitCode !== 0) {
      if (NO_RESOURCE.test(r.stderr)) return undefined;
      throw new FaultlineError('environment', `kubectl ${args.join(' ')} failed: ${r.stderr}`);
    }
    return ((JSON.parse(r.stdout) as { items?: Record<string, any>[] }).items ?? []) as Record<string, any>[];
  }

  /** One object, or undefined when it does not exist. */
  async getOne(resource: string, name: string, namespace?: string): Promise<Record<string, any> | undefined> {
    const args = ['get', resource, name, '-o', 'json', ...(namespace ? ['-n', namespace] : [])];
    const r = await this.run(args);
    if (r.exitCode !== 0) {
      if (NOT_FOUND.test(r.stderr)) return undefined;
      throw new FaultlineError('environment', `kubectl ${args.join(' ')} failed: ${r.stderr}`);
    }
    return JSON.parse(r.stdout) as Record<string, any>;
  }

  /** Server-side apply of a manifest (large CRDs do not fit client-side apply's annotation). */
  async apply(manifest: string, what: string, timeoutMs = 300_000): Promise<string> {
    const r = await this.run(['apply', '--server-side', '--force-conflicts', '-f', '-'], { stdin: manifest, timeoutMs });
    if (r.exitCode !== 0) throw new FaultlineError('environment', `applying ${what} failed: ${r.stderr.split('\n').slice(-5).join(' | ')}`);
    return r.stdout;
  }

  async delete(resource: string, name: string, namespace: string | undefined, o: { wait?: boolean; gracePeriodS?: number } = {}): Promise<KubectlResult> {
    return this.run(['delete', resource, name, ...(namespace ? ['-n', namespace] : []), '--ignore-not-found', `--wait=${o.wait ?? true}`, ...(o.gracePeriodS !== undefined ? [`--grace-period=${o.gracePeriodS}`] : [])], { timeoutMs: 300_000 });
  }

  /** GET /readyz of the API server. */
  async readyz(): Promise<{ ok: boolean; detail: string }> {
    const r = await this.run(['get', '--raw', '/readyz'], { timeoutMs: 10_000 });
    return { ok: r.exitCode === 0 && r.stdout.trim() === 'ok', detail: (r.stdout || r.stderr).trim().split('\n')[0] ?? '' };
  }

  async rolloutStatus(kind: string, namespace: string, name: string, timeoutMs: number): Promise<KubectlResult> {
    return this.run(['rollout', 'status', `${kind}/${name}`, '-n', namespace, `--timeout=${Math.ceil(timeoutMs / 1000)}s`], { timeoutMs: timeoutMs + 30_000 });
  }
}
