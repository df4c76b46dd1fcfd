// Tests that need CNI plugin versions from the Debian mirror (slow tests): they run when those
// versions are in the cache or the mirror answers, and are skipped with the reason when neither holds
// (offline with a cold cache). The mirror is probed once per test file, with a short timeout.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { manifestStillMatches, readManifest } from '../harness/cni-versions/cache.ts';
import { MOVING_NAMES, cniCacheDir, debianMirror } from '../harness/cni-versions/index.ts';

const PROBE_TIMEOUT_MS = 5_000;

/**
 * The versions among `specs` that would need a download: neither cached nor (for sid) resolved
 * before. `cold` stands for a cache the test makes empty.
 */
export async function uncachedVersions(specs: readonly string[], cache: string | 'cold' = cniCacheDir()): Promise<string[]> {
  if (cache === 'cold') return [...specs];
  const missing: string[] = [];
  for (const spec of specs) {
    let name = spec;
    const suite = MOVING_NAMES[spec];
    if (suite) {
      // Offline, a moving name falls back to what it meant last (cni-versions/index.ts).
      const alias = await readFile(join(cache, '.aliases', `${suite}.json`), 'utf8').then(
        (t) => (JSON.parse(t) as { version?: unknown }).version,
        () => undefined,
      );
      if (typeof alias !== 'string') {
        missing.push(spec);
        continue;
      }
      name = alias;
    }
    const m = await readManifest(cache, name).catch(() => undefined);
    if (!m || !(await manifestStillMatches(m))) missing.push(spec);
  }
  return missing;
}

let probe: Promise<string | undefined> | undefined;

/** Why the Debian mirror cannot be used from here, or undefined when it answers. */
export function debianUnreachable(): Promise<string | undefined> {
  probe ??= (async () => {
    const url = `${debianMirror()}/dists/bookworm/InRelease`;
    try {
      const r = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      return r.ok ? undefined : `${url} answered HTTP ${r.status}`;
    } catch (e) {
      const err = e as Error & { cause?: Error };
      return `${url} is unreachable (${err.cause?.message ?? err.message})`;
    }
  })();
  return probe;
}

/**
 * Why a test needing the plugin versions `specs` cannot run on this machine, or undefined when it
 * can. Says so on stderr, so a skipped slow test never goes unnoticed.
 */
export async function networkSkipReason(what: string, specs: readonly string[], cache?: string | 'cold'): Promise<string | undefined> {
  const missing = await uncachedVersions(specs, cache);
  if (missing.length === 0) return undefined;
  const why = await debianUnreachable();
  if (!why) return undefined;
  const reason = `needs CNI plugins ${missing.join(', ')} from the Debian mirror (not cached) and ${why}`;
  process.stderr.write(`skipping ${what}: ${reason}\n`);
  return reason;
}

/** A describe title that carries the skip reason, when there is one. */
export function titled(title: string, skipReason: string | undefined): string {
  return skipReason ? `${title} [skipped: ${skipReason}]` : title;
}

/** Go-built components a test needs: plugin tags (go:vX.Y.Z) and Multus tags. */
export interface GoBuildsNeeded {
  plugins?: readonly string[];
  multus?: readonly string[];
}

/** The needed builds not in the per-user caches yet. */
async function unbuilt(needs: GoBuildsNeeded): Promise<string[]> {
  const { componentsCacheDir } = await import('../harness/components/containerd.ts');
  const missing: string[] = [];
  for (const v of needs.plugins ?? []) {
    const m = await readManifest(cniCacheDir(), `go-${v}`).catch(() => undefined);
    if (!m || !(await manifestStillMatches(m))) missing.push(`plugins ${v}`);
  }
  for (const v of needs.multus ?? []) {
    const ok = await readFile(join(componentsCacheDir(), 'multus', `go-${v}`, 'manifest.json'), 'utf8').then(() => true, () => false);
    if (!ok) missing.push(`multus ${v}`);
  }
  return missing;
}

/**
 * Why a test needing these builds from upstream source cannot run here, or undefined when it can:
 * they are cached, or Go is installed and its module proxy answers. Says so on stderr.
 */
export async function goProxySkipReason(what: string, needs: GoBuildsNeeded): Promise<string | undefined> {
  const missing = await unbuilt(needs);
  if (!missing.length) return undefined;
  const { goToolchain } = await import('../harness/components/go-build.ts');
  let why: string | undefined;
  try {
    const tc = await goToolchain();
    const url = tc.proxy.split(/[,|]/).find((p) => /^https?:\/\//.test(p));
    if (url) {
      const probeUrl = `${url.replace(/\/$/, '')}/github.com/containernetworking/plugins/@v/v1.5.1.info`;
      try {
        const r = await fetch(probeUrl, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
        if (!r.ok) why = `${probeUrl} answered HTTP ${r.status}`;
      } catch (e) {
        const err = e as Error & { cause?: Error };
        why = `${probeUrl} is unreachable (${err.cause?.message ?? err.message})`;
      }
    }
  } catch (e) {
    why = (e as Error).message;
  }
  if (!why) return undefined;
  const reason = `needs ${missing.join(', ')} built from upstream source (not cached) and ${why}`;
  process.stderr.write(`skipping ${what}: ${reason}\n`);
  return reason;
}
