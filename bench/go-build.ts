// Benchmarks of go: sources and bisect. Budgets: a cached go: component resolves in at most 50 ms; a
// cold build of every CNI plugin of one tag takes at most 3 minutes on 2 cores; a bisect over 16
// versions takes at most 5 probes.
//   cached resolve: go:v1.5.1 resolved again and again from the per-user cache (built first if absent)
//   cold build:     from the build record in the cache (its timing, and whether Go's build cache was
//                   empty then); with `rebuild`, a fresh build into empty temp caches, timed here
//   bisect probes:  the search over 16 values with the change at every position (and none)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolvePlugins } from '../harness/cni-versions/index.ts';
import { findFirstDifferent } from '../harness/bisect/search.ts';

export const CACHED_GO_RESOLVE_BUDGET_MS = 50;
export const COLD_BUILD_BUDGET_MS = 180_000;
export const BISECT_16_BUDGET = 5;

export interface GoResolveBench {
  version: string;
  iterations: number;
  medianMs: number;
  maxMs: number;
  withinBudget: boolean;
}

export async function benchGoResolve(version = 'go:v1.5.1', iterations = 50, onProgress?: (m: string) => void): Promise<GoResolveBench> {
  await resolvePlugins(version, { onProgress }); // builds it the first time (not timed)
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await resolvePlugins(version);
    times.push(performance.now() - t);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return { version, iterations, medianMs: median, maxMs: sorted.at(-1)!, withinBudget: median <= CACHED_GO_RESOLVE_BUDGET_MS };
}

export interface ColdBuildBench {
  version: string;
  /** Where the figure comes from: this bench's own build, or the cache's build record. */
  from: 'rebuilt here' | 'build record';
  totalMs: number;
  downloadMs: number;
  buildMs: number;
  /** Go's build cache was empty when the build started (so the standard library was compiled too). */
  cold: boolean;
  binaries: number;
  go: string;
  withinBudget: boolean;
}

export async function benchColdBuild(opts: { version?: string; rebuild?: boolean; onProgress?: (m: string) => void } = {}): Promise<ColdBuildBench> {
  const version = opts.version ?? 'go:v1.5.1';
  const temp = opts.rebuild ? await mkdtemp(path.join(tmpdir(), 'faultline-bench-go-')) : undefined;
  try {
    const t = performance.now();
    const r = await resolvePlugins(version, temp ? { cacheDir: path.join(temp, 'cni'), goEnv: { ...process.env, FAULTLINE_GO_CACHE_DIR: path.join(temp, 'go') }, onProgress: opts.onProgress } : { onProgress: opts.onProgress });
    const wall = performance.now() - t;
    const b = r.build!;
    const totalMs = temp ? wall : b.timing.totalMs;
    return {
      version: r.version,
      from: temp ? 'rebuilt here' : 'build record',
      totalMs,
      downloadMs: b.timing.downloadMs + b.timing.depsMs,
      buildMs: b.timing.buildMs,
      cold: b.timing.buildCacheWasEmpty === true,
      binaries: Object.keys(r.sha256).length,
      go: b.go,
      withinBudget: totalMs <= COLD_BUILD_BUDGET_MS,
    };
  } finally {
    if (temp) await rm(temp, { recursive: true, force: true }); // faultline's module cache is writable (-modcacherw)
  }
}

export interface BisectProbesBench {
  values: number;
  maxProbes: number;
  withinBudget: boolean;
}

export async function benchBisectProbes(values = 16): Promise<BisectProbesBench> {
  let most = 0;
  for (let change = 1; change <= values; change++) {
    let probes = 0;
    await findFirstDifferent(values, async (i) => (probes++, i < change ? 'old' : 'new'), (x) => x);
    most = Math.max(most, probes);
  }
  return { values, maxProbes: most, withinBudget: most <= BISECT_16_BUDGET };
}
