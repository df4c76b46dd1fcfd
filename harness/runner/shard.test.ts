import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MAX_SHARDS, parseShard, partitionCells, readDurations, runKey, selectShard } from './shard.ts';
import { FaultlineError } from '../errors.ts';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `s[i=${i}]`);

describe('parseShard', () => {
  it('reads i/n', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, total: 4 });
    expect(parseShard(`${MAX_SHARDS}/${MAX_SHARDS}`)).toEqual({ index: MAX_SHARDS, total: MAX_SHARDS });
  });

  it.each(['0/4', '5/4', '1/0', '2', '2/', '/4', ' 1/2', '1/2 ', '01/2', '1/02', '1.0/2', '0x1/2', '-1/2', '1/-2', '', `1/${MAX_SHARDS + 1}`])('refuses %j naming the flag', (text) => {
    let err: unknown;
    try {
      parseShard(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FaultlineError);
    expect((err as FaultlineError).code).toBe('usage');
    expect((err as Error).message).toBe(`Expected the \`--shard\` option to be i/n with 1 <= i <= n <= ${MAX_SHARDS} (e.g. 2/4), got \`${text}\``);
  });
});

describe('partitionCells', () => {
  it('by count: every cell once, contiguous, sizes within one of each other', () => {
    for (const [n, total] of [[10, 3], [1000, 4], [5, 8], [7, 7], [1, 1]] as const) {
      const a = partitionCells(ids(n), total);
      expect(a).toHaveLength(n);
      const sizes = Array.from({ length: total }, (_, s) => a.filter((x) => x === s + 1).length);
      expect(sizes.reduce((x, y) => x + y, 0)).toBe(n);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      expect([...a].sort((x, y) => x - y)).toEqual(a); // contiguous runs in plan order
    }
    expect(partitionCells(ids(10), 3)).toEqual([1, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
  });

  it('depends on its inputs only: the same ids give the same partition', () => {
    const d = new Map(ids(50).map((id, i) => [id, (i * 7919) % 1000]));
    expect(partitionCells(ids(50), 4, d)).toEqual(partitionCells([...ids(50)], 4, new Map([...d].reverse())));
  });

  it('by durations: balances the load where counting cells would not', () => {
    // Four long cells first, then many short ones: contiguous chunks put the long ones together.
    const cells = ids(20);
    const d = new Map(cells.map((id, i) => [id, i < 4 ? 10_000 : 100]));
    const load = (a: number[]) => Array.from({ length: 4 }, (_, s) => cells.reduce((t, id, k) => t + (a[k] === s + 1 ? d.get(id)! : 0), 0));
    const byCount = load(partitionCells(cells, 4));
    const byTime = load(partitionCells(cells, 4, d));
    expect(Math.max(...byCount)).toBe(40_100);
    expect(Math.max(...byTime)).toBe(10_400);
    expect(byTime.reduce((x, y) => x + y, 0)).toBe(41_600);
  });

  it('counts a cell the durations do not know as their median', () => {
    const d = new Map([['a', 100], ['b', 100], ['c', 100]]);
    // 'new' is unknown: it weighs 100, so it goes beside one cell rather than onto the loaded shard.
    expect(partitionCells(['a', 'b', 'c', 'new'], 2, d)).toEqual([1, 2, 1, 2]);
  });
});

describe('selectShard', () => {
  const cells = ids(9).map((id, index) => ({ id, index }));

  it('the shards of one run cover every cell once and share one run key', () => {
    const shards = [1, 2, 3].map((index) => selectShard(cells, { index, total: 3 }, { label: 'ci-42' }));
    expect(shards.flatMap((s) => s.cells.map((c) => c.id)).sort()).toEqual(cells.map((c) => c.id).sort());
    expect(new Set(shards.map((s) => s.shard.runKey)).size).toBe(1);
    expect(shards[1]!.cells.map((c) => c.index)).toEqual([3, 4, 5]); // plan indexes kept
    expect(shards[0]!.shard).toMatchObject({ index: 1, total: 3, label: 'ci-42', balance: 'count' });
    expect(shards[0]!.shard.plan).toHaveLength(9);
  });

  it('another label, shard count, cell set or partition is another run', () => {
    const key = selectShard(cells, { index: 1, total: 3 }).shard.runKey;
    expect(selectShard(cells, { index: 1, total: 3 }, { label: 'x' }).shard.runKey).not.toBe(key);
    expect(selectShard(cells, { index: 1, total: 4 }).shard.runKey).not.toBe(key);
    expect(selectShard(cells.slice(1), { index: 1, total: 3 }).shard.runKey).not.toBe(key);
    const skewed = new Map(cells.map((c) => [c.id, c.index === 0 ? 1e6 : 1]));
    expect(selectShard(cells, { index: 1, total: 3 }, { durations: skewed }).shard.runKey).not.toBe(key);
    expect(runKey([{ id: 'a', shard: 1 }], 1)).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('readDurations', () => {
  it('reads cell durations of a report and refuses what is not one, naming the flag and file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fl-durations-'));
    try {
      const good = path.join(dir, 'report.json');
      await writeFile(good, JSON.stringify({ cells: [{ id: 'a[x=1]', durationMs: 1200 }, { id: 'b', durationMs: 0 }] }));
      expect([...(await readDurations(good))]).toEqual([['a[x=1]', 1200], ['b', 0]]);
      const cases: [string, string][] = [
        ['{', 'not JSON'],
        ['[]', 'expected a faultline report.json'],
        [JSON.stringify({ cells: [{ id: 'a', durationMs: -1 }] }), 'cells[0]: expected an `id` and a non-negative `durationMs`'],
      ];
      for (const [text, why] of cases) {
        const f = path.join(dir, 'bad.json');
        await writeFile(f, text);
        await expect(readDurations(f)).rejects.toThrow(`--durations ${f}: ${why}`);
      }
      await expect(readDurations(path.join(dir, 'nope.json'))).rejects.toThrow(/--durations .*nope\.json: cannot read the file: ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
