// The programmatic API: validate and load a scenario, run one cell of it, read the typed report.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { loadScenario, run, validate, type CellReport, type RunReport } from 'faultline';

const scenario = new URL('../scenarios/empty-cache-del.yaml', import.meta.url);

test('validate and loadScenario read the scenario', async () => {
  const result = await validate(scenario);
  expect(result.ok).toBe(true);
  expect(result.files[0]?.cells).toBe(2);
  const loaded = await loadScenario(scenario);
  expect(loaded.name).toBe('empty-cache-del');
  expect(Object.keys(loaded.matrix)).toEqual(['runtime']);
});

test('run gives the report of the cells it ran', async () => {
  const out = await mkdtemp(path.join(os.tmpdir(), 'faultline-example-'));
  try {
    const report: RunReport = await run({ scenarios: scenario, only: { runtime: 'libcni-1.1' }, out, seed: 7 });
    const cell: CellReport = report.cells[0]!;
    expect(report.cells).toHaveLength(1);
    expect(cell.outcome).toBe('xfail');
    const leaked = cell.assertions.find((a) => a.name === 'no-leaked-reservations');
    expect(leaked?.evidence[0]?.file).toMatch(/^\/var\/lib\/cni\/networks\//);
    const written = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as RunReport;
    expect(written.runId).toBe(report.runId);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
