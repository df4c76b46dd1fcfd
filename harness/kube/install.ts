// Installs a kind stack on a cluster: each pinned file fetched (verified) from the cache, manifests
// applied through the API with their image replacements, install scripts run with bash as the
// project runs them (KUBECONFIG of the run, kubectl first on PATH), then the stack's rollouts waited
// for. Each part timed for the report.
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { FaultlineError } from '../errors.ts';
import type { Kubectl } from './kubectl.ts';
import { fetchPinned, replaceImages, type FetchedFile } from './manifests.ts';
import type { KindStack } from './stack.ts';

export interface InstallRecord {
  name: string;
  url: string;
  sha256: string;
  type: 'manifest' | 'script';
  images?: Record<string, string>;
  durationMs: number;
}

/** Fetches (or finds in the cache) every pinned file of the stack; a mismatch refuses the stack. */
export async function fetchStack(stack: KindStack, o: { signal?: AbortSignal; onProgress?: (m: string) => void } = {}): Promise<FetchedFile[]> {
  const out: FetchedFile[] = [];
  for (const item of stack.install) out.push(await fetchPinned({ url: item.url, sha256: item.sha256 }, o));
  return out;
}

export async function installStack(kubectl: Kubectl, stack: KindStack, o: { signal?: AbortSignal; onProgress?: (m: string) => void; readyTimeoutMs?: number } = {}): Promise<{ installed: InstallRecord[]; readyMs: number }> {
  const files = await fetchStack(stack, o);
  const installed: InstallRecord[] = [];
  for (const [i, item] of stack.install.entries()) {
    o.signal?.throwIfAborted();
    const t0 = performance.now();
    const file = files[i]!;
    if (item.type === 'script') {
      o.onProgress?.(`running ${item.name} (${item.url})`);
      const r = await execa('bash', [file.file], { reject: false, extendEnv: false, env: kubectl.env(item.env ?? {}), stdin: 'ignore', timeout: 30 * 60_000, ...(o.signal ? { cancelSignal: o.signal } : {}) });
      if (r.exitCode !== 0) throw new FaultlineError('environment', `install script ${item.name} (${item.url}) failed (exit ${r.exitCode ?? r.signal}): ${String(r.stderr || r.stdout).trim().split('\n').slice(-6).join('\n')}`);
    } else {
      o.onProgress?.(`applying ${item.name} (${item.url})`);
      const text = replaceImages(await readFile(file.file, 'utf8'), item.images ?? {}, `${stack.file}: install ${item.name}`);
      await kubectl.apply(text, `${item.name} (${item.url})`);
    }
    installed.push({ name: item.name, url: item.url, sha256: item.sha256, type: item.type ?? 'manifest', ...(item.images ? { images: item.images } : {}), durationMs: performance.now() - t0 });
  }
  const t0 = performance.now();
  for (const r of stack.ready ?? []) {
    o.onProgress?.(`waiting for ${r.kind}/${r.name} in ${r.namespace}`);
    const res = await kubectl.rolloutStatus(r.kind, r.namespace, r.name, o.readyTimeoutMs ?? 10 * 60_000);
    if (res.exitCode !== 0) throw new FaultlineError('environment', `${r.kind}/${r.name} in ${r.namespace} did not become ready: ${res.stderr || res.stdout}`);
  }
  return { installed, readyMs: performance.now() - t0 };
}
