// Benchmark: resolving an already-cached plugin version (the runner does it once per cell). Budget:
// under 200 ms. With no version given it needs no network: it caches a copy of the system plugins
// under a throw-away name in a temp cache, so the same code path (manifest + size check) is timed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM_CNI_DIR, resolvePlugins } from '../harness/cni-versions/index.ts';

export const CACHED_RESOLVE_BUDGET_MS = 200;

export interface CachedResolveBench {
  version: string;
  source: string;
  binaries: number;
  iterations: number;
  /** The first call after install (cold file-system caches aside, same path as the rest). */
  firstMs: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  budgetMs: number;
  withinBudget: boolean;
}

export interface BenchOptions {
  /** A version to time in the real cache (installed first if needed); default: a synthetic entry. */
  version?: string;
  cacheDir?: string;
  iterations?: number;
  /** Directory copied for the synthetic entry (default /usr/lib/cni). */
  fromDir?: string;
  onProgress?: (message: string) => void;
}

export async function benchCachedResolve(opts: BenchOptions = {}): Promise<CachedResolveBench> {
  const iterations = opts.iterations ?? 50;
  const synthetic = opts.version === undefined;
  const temp = synthetic && !opts.cacheDir ? await mkdtemp(join(tmpdir(), 'faultline-bench-cni-')) : undefined;
  const cacheDir = opts.cacheDir ?? temp;
  const version = opts.version ?? '0.0.0-bench';
  try {
    const base = { cacheDir, onProgress: opts.onProgress };
    const installOpts = synthetic ? { ...base, source: 'dir' as const, fromDir: opts.fromDir ?? SYSTEM_CNI_DIR } : base;
    await resolvePlugins(version, installOpts); // install (not timed)
    const times: number[] = [];
    let last;
    for (let i = 0; i < iterations; i++) {
      const t = performance.now();
      last = await resolvePlugins(version, installOpts);
      times.push(performance.now() - t);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    const round = (n: number) => Math.round(n * 1000) / 1000;
    return {
      version,
      source: last!.source,
      binaries: Object.keys(last!.sha256).length,
      iterations,
      firstMs: round(times[0]!),
      medianMs: round(at(0.5)),
      p95Ms: round(at(0.95)),
      maxMs: round(sorted[sorted.length - 1]!),
      budgetMs: CACHED_RESOLVE_BUDGET_MS,
      withinBudget: sorted[sorted.length - 1]! < CACHED_RESOLVE_BUDGET_MS,
    };
  } finally {
    if (temp) await rm(temp, { recursive: true, force: true });
  }
}
