import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonReporter, renderJson } from './json-reporter.ts';
import { LEAKED_CONTENT, LEAKED_FILE, LIBCNI_ERROR, ORPHAN_VETH, YIP_WARNING, makeRunReport } from '../../testing/reports.ts';
import type { RunReport } from '../model/report.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'faultline-json-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// The same data with every object's keys in reverse order, except the matrix, whose order is meaning.
function reversed<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reversed) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, k === 'matrix' ? v : reversed(v)])) as T;
  }
  return value;
}

describe('JsonReporter', () => {
  it('writes report.json into outDir, returns its path, and the file round-trips', async () => {
    const report = makeRunReport();
    const written = await new JsonReporter({ outDir: dir }).onRunEnd(report);
    expect(written).toBe(path.join(dir, 'report.json'));
    const text = await readFile(written, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text).toContain('\n  "runId": ');
    expect(JSON.parse(text)).toEqual(report);
  });

  it("defaults to the report's outDir and creates it", async () => {
    const report: RunReport = { ...makeRunReport(), outDir: path.join(dir, 'reports', 'run-1') };
    const written = await new JsonReporter().onRunEnd(report);
    expect(written).toBe(path.join(dir, 'reports', 'run-1', 'report.json'));
    expect(JSON.parse(await readFile(written, 'utf8')).runId).toBe(report.runId);
  });

  it('carries the fields other tools read, with the evidence verbatim', async () => {
    const parsed = JSON.parse(renderJson(makeRunReport())) as RunReport;
    expect(parsed.cells.map((c) => c.outcome)).toEqual(['passed', 'xfail', 'xpass', 'failed', 'error']);
    for (const cell of parsed.cells) {
      expect(cell).toEqual(
        expect.objectContaining({ scenario: expect.any(String), matrix: expect.any(Object), outcome: expect.any(String), warnings: expect.any(Array), durationMs: expect.any(Number) }),
      );
      for (const a of cell.assertions) expect(a).toEqual(expect.objectContaining({ name: expect.any(String), status: expect.any(String), evidence: expect.any(Array) }));
    }
    const xfail = parsed.cells[1]!;
    expect(xfail.assertions[0]!.evidence[0]).toMatchObject({ file: LEAKED_FILE, content: LEAKED_CONTENT });
    expect(xfail.warnings).toEqual([YIP_WARNING]);
    const failed = parsed.cells[3]!;
    expect(failed.assertions[0]!.evidence[0]!.error).toBe(LIBCNI_ERROR);
    expect(failed.assertions[1]!.evidence[0]!.link).toBe(ORPHAN_VETH);
    expect(parsed.summary).toEqual({ passed: 1, failed: 1, xfail: 1, xpass: 1, error: 1, total: 5, asExpected: false });
  });

  it('writes keys in the order the types declare, whatever order the objects were built in', () => {
    const report = makeRunReport();
    const shuffled = reversed(report);
    expect(Object.keys(shuffled)[0]).toBe('cells');
    const text = renderJson(shuffled);
    expect(text).toBe(renderJson(report));
    const parsed = JSON.parse(text) as RunReport;
    expect(Object.keys(parsed).slice(0, 3)).toEqual(['runId', 'startedAt', 'finishedAt']);
    expect(Object.keys(parsed.cells[0]!).slice(0, 6)).toEqual(['id', 'scenario', 'scenarioFile', 'matrix', 'outcome', 'reason']);
    expect(Object.keys(parsed.cells[1]!.assertions[0]!.evidence[0]!)).toEqual(['summary', 'node', 'file', 'content']);
    const step = parsed.cells[0]!.timeline[0]!;
    expect(Object.keys(step)).toEqual(['at', 'kind', 'index', 'step', 'detail', 'result', 'durationMs']);
  });

  it('keeps the matrix in dimension order and sorts binary hashes', () => {
    const parsed = JSON.parse(renderJson(makeRunReport())) as RunReport;
    expect(Object.keys(parsed.cells[3]!.matrix)).toEqual(['runtime', 'cni']);
    expect(Object.keys(parsed.cells[0]!.stack.cni.sha256)).toEqual(['bridge', 'host-local', 'portmap']);
  });

  it('puts fields the types do not know yet after the known ones, sorted', () => {
    const report = makeRunReport();
    const cell = { zeta: 1, alpha: 2, ...report.cells[0]! };
    const parsed = JSON.parse(renderJson({ ...report, cells: [cell] }));
    const keys = Object.keys(parsed.cells[0]);
    expect(keys.slice(-2)).toEqual(['alpha', 'zeta']);
    expect(keys[0]).toBe('id');
  });
});
