// `run --shard/--durations/--run-label` and `merge-reports` refuse bad usage before any run starts,
// naming the flag; an empty shard still writes a report that merges.
import { describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { faultline, looksClean, refusal, tempDir } from '../../testing/cli.ts';

const SCENARIO = 'scenarios/cni-version-compat.yaml';

describe('faultline run --shard', () => {
  it.each([
    [['--shard', '3/2'], 'Expected the `--shard` option to be i/n with 1 <= i <= n <= 1024 (e.g. 2/4), got `3/2`'],
    [['--shard', '1'], 'Expected the `--shard` option to be i/n'],
    [['--durations', 'x.json'], '--durations needs --shard'],
    [['--run-label', 'ci'], '--run-label needs --shard'],
    [['--shard', '1/2', '--run-label', 'two\nlines'], 'Expected the `--run-label` option to be 1 to 200 printable characters'],
    [['--shard', '1/2', '--durations', '/nonexistent/report.json'], '--durations /nonexistent/report.json: cannot read the file: ENOENT'],
  ])('refuses %j with exit 2 before any run starts', async (flags, message) => {
    const r = await refusal(['run', SCENARIO, ...flags]);
    expect(r.exitCode, r.output).toBe(2);
    expect(r.output).toContain(message);
    expect(looksClean(r.output)).toBe(true);
    expect(r.runsDirCreated).toBe(false);
  });

  it('runs an empty shard (more shards than cells): a report without cells that still merges', async () => {
    const dir = await tempDir('fl-empty-shard-');
    const state = await tempDir('fl-empty-shard-state-');
    try {
      const r = await faultline(['run', SCENARIO, '--shard', '3/3', '--only', 'conf=0.4.0', '--out', path.join(dir.dir, 's3'), '--reporter', 'json'], { FAULTLINE_STATE_DIR: state.dir });
      expect(r.exitCode, r.all).toBe(0);
      expect(r.all).toContain('shard 3/3: 0 of 1 cells (balanced by count; run key ');
      const report = JSON.parse(await readFile(path.join(dir.dir, 's3', 'report.json'), 'utf8'));
      expect(report.cells).toEqual([]);
      expect(report.shard).toMatchObject({ index: 3, total: 3, plan: [{ id: 'cni-version-compat[conf=0.4.0]', shard: 1 }] });
      // Shards 2 and 3 had nothing to run: only shard 1 is missing.
      const m = await faultline(['merge-reports', path.join(dir.dir, 's3'), '--out', path.join(dir.dir, 'merged')]);
      expect(m.exitCode).toBe(2);
      expect(m.all).toMatch(/error: missing shard of run [0-9a-f]{16}: 1\/3 \(1 cell\)\nhint: give every shard's report, or --allow-missing to merge what is there/);
      const partial = await faultline(['merge-reports', path.join(dir.dir, 's3'), '--out', path.join(dir.dir, 'merged'), '--allow-missing']);
      expect(partial.exitCode, partial.all).toBe(1);
      expect(partial.all).toContain('MISSING shard 1/3: 1 cell(s) not in this report');
    } finally {
      await dir.cleanup();
      await state.cleanup();
    }
  });
});

describe('faultline merge-reports', () => {
  it('needs directories and --out, and names what it cannot read', async () => {
    const dir = await tempDir('fl-merge-cli-');
    try {
      expect((await faultline(['merge-reports', '--out', dir.dir])).all).toContain("error: name the shards' report directories");
      const noOut = await faultline(['merge-reports', dir.dir]);
      expect(noOut.exitCode).toBe(2);
      expect(noOut.all).toContain('error: merge-reports needs --out DIR');
      await writeFile(path.join(dir.dir, 'report.json'), 'not json');
      const bad = await faultline(['merge-reports', dir.dir, '--out', path.join(dir.dir, 'm')]);
      expect(bad.exitCode).toBe(2);
      expect(bad.all).toMatch(/error: .*report\.json: not a readable report\.json: Unexpected token/);
      expect(looksClean(bad.all)).toBe(true);
    } finally {
      await dir.cleanup();
    }
  });
});
