import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { mergeReports } from './merge.ts';
import { readDurations } from './shard.ts';
import { makeRunReport, shardReports } from '../../testing/reports.ts';
import { tempDir } from '../../testing/cli.ts';
import { createReporters, renderJson } from '../reporters/index.ts';
import type { RunReport } from '../model/report.ts';
import { reportSchemaErrors } from '../../testing/report-schema.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('fl-merge-'));
});
afterEach(async () => cleanup());

/** Writes each report as `<dir>/shards/<name>/report.json`, as CI artifacts download. */
async function writeShards(reports: RunReport[], names = reports.map((r) => `shard-${r.shard?.index}`)): Promise<string> {
  const root = path.join(dir, 'shards');
  for (const [i, r] of reports.entries()) {
    await mkdir(path.join(root, names[i]!), { recursive: true });
    await writeFile(path.join(root, names[i]!, 'report.json'), renderJson(r));
  }
  return root;
}

const merge = (dirs: string[], extra: { allowMissing?: boolean; out?: string } = {}) =>
  mergeReports({ dirs, out: extra.out ?? path.join(dir, 'merged'), reporters: createReporters(['json']), ...(extra.allowMissing ? { allowMissing: true } : {}) });

const essence = (r: RunReport) => ({ summary: r.summary, cells: r.cells });

describe('merge-reports', () => {
  it('puts the shards back into the whole run: the same cells in plan order, the same summary', async () => {
    const whole = makeRunReport();
    for (const total of [1, 2, 3, 5, 8]) {
      const out = path.join(dir, `merged-${total}`);
      const merged = await mergeReports({ dirs: [await writeShards(shardReports(whole, total, { label: `t${total}` }))], out, reporters: createReporters(['json']) });
      expect(essence(merged)).toEqual(essence(whole));
      expect(merged.merged?.shards.map((s) => s.index)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(merged.merged?.label).toBe(`t${total}`);
      const written = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8'));
      expect(essence(written)).toEqual(essence(whole));
      expect(reportSchemaErrors(written)).toEqual([]);
      // durations.json feeds the next run's --durations.
      expect([...(await readDurations(path.join(out, 'durations.json')))]).toEqual(whole.cells.map((c) => [c.id, c.durationMs]));
      await import('node:fs/promises').then((fs) => fs.rm(path.join(dir, 'shards'), { recursive: true }));
    }
  });

  it('takes shard directories one by one, in any order, or their report.json files', async () => {
    const shards = shardReports(makeRunReport(), 2);
    const root = await writeShards(shards);
    const merged = await merge([path.join(root, 'shard-2'), path.join(root, 'shard-1', 'report.json')]);
    expect(merged.cells.map((c) => c.id)).toEqual(makeRunReport().cells.map((c) => c.id));
    expect(merged.startedAt).toBe(shards[0]!.startedAt);
  });

  it('copies each cell\'s artifacts into the merged report', async () => {
    const shards = shardReports(makeRunReport(), 2);
    const cell = shards[1]!.cells[0]!;
    cell.artifacts = ['artifacts/04-x'];
    const root = await writeShards(shards);
    await mkdir(path.join(root, 'shard-2', 'artifacts', '04-x', 'node-1'), { recursive: true });
    await writeFile(path.join(root, 'shard-2', 'artifacts', '04-x', 'node-1', 'state'), 'kept');
    await merge([root]);
    expect(await readFile(path.join(dir, 'merged', 'artifacts', '04-x', 'node-1', 'state'), 'utf8')).toBe('kept');
  });

  it('refuses shards of different runs, saying what differs', async () => {
    const whole = makeRunReport();
    const cases: [RunReport[], RegExp][] = [
      [[shardReports(whole, 2, { label: 'a' })[0]!, shardReports(whole, 2, { label: 'b' })[1]!], /shards of different runs: their --run-label differs \("a" and "b"\)/],
      [[shardReports(whole, 2)[0]!, shardReports(whole, 3)[1]!], /different numbers of shards \(2 and 3\)/],
      [[shardReports(whole, 2)[0]!, shardReports({ ...whole, cells: whole.cells.slice(1) }, 2)[1]!], /they planned different cells \(harvester-reboot-ipam-leak\[harvester=v1\.4\.3\] is planned only by the first; 1 differ\)/],
    ];
    for (const [shards, message] of cases) {
      const root = await writeShards(shards, ['a', 'b']);
      await expect(merge([root])).rejects.toThrow(message);
      await import('node:fs/promises').then((fs) => fs.rm(root, { recursive: true }));
    }
  });

  it('refuses a shard given twice and cells in two shards or the wrong one', async () => {
    const shards = shardReports(makeRunReport(), 2);
    let root = await writeShards([shards[0]!, shards[0]!, shards[1]!], ['a', 'b', 'c']);
    await expect(merge([root])).rejects.toThrow(/overlapping shards: shard 1\/2 is given twice \(.*a\/report\.json and .*b\/report\.json\)/);
    await import('node:fs/promises').then((fs) => fs.rm(root, { recursive: true }));

    const overlap = shardReports(makeRunReport(), 2);
    overlap[1]!.cells.unshift(overlap[0]!.cells[0]!);
    root = await writeShards(overlap);
    await expect(merge([root])).rejects.toThrow(/overlapping cells: harvester-reboot-ipam-leak\[harvester=v1\.4\.3\] is in .*shard-1\/report\.json and in .*shard-2\/report\.json/);
    await import('node:fs/promises').then((fs) => fs.rm(root, { recursive: true }));

    const moved = shardReports(makeRunReport(), 2);
    moved[1]!.cells.unshift(moved[0]!.cells.pop()!);
    root = await writeShards(moved);
    await expect(merge([root])).rejects.toThrow(/shard 1\/2 \(.*\) lacks 1 of its cells|shard 2\/2 \(.*\) has the cell .* which the run's plan gives to shard 1/);
  });

  it('refuses missing shards unless allowed, and then names them in the report', async () => {
    const shards = shardReports(makeRunReport(), 3);
    const root = await writeShards([shards[0]!, shards[2]!]);
    await expect(merge([root])).rejects.toThrow(/missing shard of run [0-9a-f]{16}: 2\/3 \(2 cells\)/);
    const merged = await merge([root], { allowMissing: true });
    expect(merged.merged?.missing).toEqual([{ index: 2, cells: shards[1]!.cells.map((c) => c.id) }]);
    expect(merged.cells).toHaveLength(3);
  });

  it('refuses what is not a shard report, and an --out that is a shard\'s directory', async () => {
    const plain = makeRunReport();
    let root = await writeShards([plain], ['plain']);
    await expect(merge([root])).rejects.toThrow(/plain\/report\.json: run fl-20250101-120000-ab12 is not a shard \(it ran without --shard i\/n\)/);
    await writeFile(path.join(root, 'plain', 'report.json'), '{"runId": ');
    await expect(merge([root])).rejects.toThrow(/plain\/report\.json: not a readable report\.json: /);
    await expect(merge([path.join(dir, 'empty-nothing')])).rejects.toThrow(/no such file or directory/);
    await mkdir(path.join(dir, 'empty'));
    await expect(merge([path.join(dir, 'empty')])).rejects.toThrow(/empty: no report\.json in it or in its subdirectories/);
    root = await writeShards(shardReports(makeRunReport(), 1), ['one']);
    await expect(merge([path.join(root, 'one')], { out: path.join(root, 'one') })).rejects.toThrow(/--out .*one is the directory of shard 1\/1/);
  });
});
