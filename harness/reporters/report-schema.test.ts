import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { renderJson } from './json-reporter.ts';
import { makeRunReport, shardReports, thousandCells } from '../../testing/reports.ts';
import { reportSchemaErrors } from '../../testing/report-schema.ts';
import { mergeShardReports } from '../runner/merge.ts';
import { REPO_ROOT } from '../version.ts';

const roundTrip = (r: unknown) => JSON.parse(renderJson(r as never));

describe('schemas/report.schema.json', () => {
  it('is the published JSON Schema of report.json, generated from the report types', () => {
    const schema = JSON.parse(readFileSync(path.join(REPO_ROOT, 'schemas', 'report.schema.json'), 'utf8'));
    expect(schema.title).toBe('faultline report');
    expect(schema.$ref).toBe('#/definitions/RunReport');
    expect(Object.keys(schema.definitions)).toEqual(expect.arrayContaining(['RunReport', 'CellReport', 'Evidence', 'TimelineEntry', 'NodeSnapshot', 'ShardInfo', 'MergeInfo']));
    // Doc comments of the types become descriptions.
    expect(schema.definitions.CellReport.properties.id.description).toMatch(/Unique in the run/);
  });

  it('accepts every kind of report faultline writes: a run, a shard, a merge, 1000 cells', () => {
    const run = makeRunReport();
    expect(reportSchemaErrors(roundTrip(run))).toEqual([]);
    const shards = shardReports(run, 3, { label: 'ci-7' });
    for (const s of shards) expect(reportSchemaErrors(roundTrip(s))).toEqual([]);
    const merged = mergeShardReports(shards.map((report, i) => ({ file: `/s/${i}/report.json`, dir: `/s/${i}`, report: report as never })), '/out');
    expect(reportSchemaErrors(roundTrip(merged))).toEqual([]);
    expect(reportSchemaErrors(roundTrip(thousandCells()))).toEqual([]);
  });

  it('refuses a report that breaks the interface: a wrong outcome, a missing field, a key no type declares', () => {
    const bad = roundTrip(makeRunReport());
    bad.cells[0].outcome = 'flaky';
    expect(reportSchemaErrors(bad).join('\n')).toMatch(/\/cells\/0\/outcome must be equal to one of the allowed values/);
    const missing = roundTrip(makeRunReport());
    delete missing.cells[1].asExpected;
    expect(reportSchemaErrors(missing).join('\n')).toMatch(/\/cells\/1 must have required property 'asExpected'/);
    const extra = roundTrip(makeRunReport());
    extra.cells[2].stack.undeclared = true;
    expect(reportSchemaErrors(extra).join('\n')).toMatch(/\/cells\/2\/stack must NOT have additional properties: undeclared/);
    // Evidence is open: checks may add what they found.
    const evidence = roundTrip(makeRunReport());
    evidence.cells[1].assertions[0].evidence[0].anything = { nested: 1 };
    expect(reportSchemaErrors(evidence)).toEqual([]);
  });
});
