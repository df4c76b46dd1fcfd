// --shard i/n: a deterministic slice of a run's cells, so that a CI system's own job matrix runs one
// suite on many machines (as Playwright and Chainsaw shard). Every shard computes the same partition
// of the whole plan from the same inputs (the cell ids in plan order, n, and the durations given), so
// the shards cover every cell exactly once; merge-reports checks that and puts the reports together.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { FaultlineError } from '../errors.ts';
import type { ShardInfo } from '../model/report.ts';

export interface ShardSpec {
  /** 1-based. */
  index: number;
  total: number;
}

/** Most shards one run may be cut into. */
export const MAX_SHARDS = 1024;

const SHARD = /^([1-9][0-9]*)\/([1-9][0-9]*)$/;

/** `--shard 2/4`: shard 2 of 4; anything else is a usage error naming the flag. */
export function parseShard(raw: unknown, flag = '--shard'): ShardSpec {
  const text = String(raw);
  const m = SHARD.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const total = m ? Number(m[2]) : NaN;
  if (!m || total > MAX_SHARDS || index > total) {
    throw new FaultlineError('usage', `Expected the \`${flag}\` option to be i/n with 1 <= i <= n <= ${MAX_SHARDS} (e.g. 2/4), got \`${text}\``);
  }
  return { index, total };
}

/**
 * The shard (1-based) of each cell, by position in `ids`. Without durations: contiguous runs of
 * equal size (sizes differ by at most one), so a scenario's cells stay together. With durations (ms
 * by cell id, from an earlier report): longest cell first onto the least loaded shard; a cell the
 * durations do not know counts as their median. Ties go by plan position and lowest shard, so the
 * result depends on the inputs only.
 */
export function partitionCells(ids: readonly string[], total: number, durations?: ReadonlyMap<string, number>): number[] {
  if (!durations) return ids.map((_, k) => Math.floor((k * total) / ids.length) + 1);
  const known = ids.flatMap((id) => (durations.has(id) ? [durations.get(id)!] : [])).sort((a, b) => a - b);
  const median = known.length ? known[Math.floor((known.length - 1) / 2)]! : 1;
  const order = ids.map((id, k) => ({ k, ms: durations.get(id) ?? median })).sort((a, b) => b.ms - a.ms || a.k - b.k);
  const load = new Array<number>(total).fill(0);
  const out = new Array<number>(ids.length);
  for (const { k, ms } of order) {
    let best = 0;
    for (let s = 1; s < total; s++) if (load[s]! < load[best]!) best = s;
    load[best]! += ms;
    out[k] = best + 1;
  }
  return out;
}

/** The identity every shard of one run shares: the label, the shard count and the whole partition. */
export function runKey(plan: readonly { id: string; shard: number }[], total: number, label?: string): string {
  const text = JSON.stringify({ label: label ?? null, total, plan: plan.map((p) => [p.id, p.shard]) });
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** Reads the cell durations of an earlier report.json (a single run's or a merged one). */
export async function readDurations(file: string, flag = '--durations'): Promise<Map<string, number>> {
  const refuse = (why: string) => new FaultlineError('usage', `${flag} ${file}: ${why}`, { hint: 'give it the report.json of an earlier run (or of merge-reports)' });
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw refuse(`cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw refuse(`not JSON: ${(e as Error).message}`);
  }
  const cells = (doc as { cells?: unknown })?.cells;
  if (!Array.isArray(cells)) throw refuse('expected a faultline report.json (an object with `cells`), found none');
  const out = new Map<string, number>();
  cells.forEach((c: { id?: unknown; durationMs?: unknown }, i) => {
    if (typeof c?.id !== 'string' || typeof c.durationMs !== 'number' || !Number.isFinite(c.durationMs) || c.durationMs < 0) {
      throw refuse(`cells[${i}]: expected an \`id\` and a non-negative \`durationMs\``);
    }
    out.set(c.id, c.durationMs);
  });
  return out;
}

/**
 * The cells of shard `spec` (their plan order and indexes kept, so artifact directories stay unique
 * across shards) and what the report records about the shard.
 */
export function selectShard<T extends { id: string }>(cells: readonly T[], spec: ShardSpec, opts: { durations?: ReadonlyMap<string, number>; label?: string } = {}): { cells: T[]; shard: ShardInfo } {
  const assignment = partitionCells(cells.map((c) => c.id), spec.total, opts.durations);
  const plan = cells.map((c, k) => ({ id: c.id, shard: assignment[k]! }));
  return {
    cells: cells.filter((_, k) => assignment[k] === spec.index),
    shard: {
      index: spec.index,
      total: spec.total,
      runKey: runKey(plan, spec.total, opts.label),
      ...(opts.label !== undefined ? { label: opts.label } : {}),
      balance: opts.durations ? 'durations' : 'count',
      plan,
    },
  };
}
