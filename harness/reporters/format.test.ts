import { describe, expect, it } from 'vitest';
import { evidenceDetails, formatDuration, headline, isAsExpected, tally, visible, xpassMessage } from './format.ts';
import { makeRunReport } from '../../testing/reports.ts';

describe('format helpers', () => {
  it('formats durations in the unit a person reads', () => {
    expect([0, 999, 1000, 12_345, 59_999, 65_000, 3_600_000 + 120_000].map(formatDuration)).toEqual(['0ms', '999ms', '1.0s', '12.3s', '60.0s', '1m05s', '1h02m']);
    expect(formatDuration(Number.NaN)).toBe('?');
  });

  it('makes control characters visible and keeps printable text', () => {
    expect(visible('a\rb\u001b[0m\u0085\u2028')).toBe('a\\rb\\x1b[0m\\x85\\u2028');
    expect(visible('one\n\ttwo')).toBe('one\n\ttwo');
    expect(visible('one\n\ttwo', { singleLine: true })).toBe('one\\n\\ttwo');
    expect(visible('lone \ud83d here, pair \u{1f600}')).toBe('lone \\ud83d here, pair \u{1f600}');
  });

  it("uses the runner's asExpected, and without it counts only passed, xfail and expected errors", () => {
    const [passed, , , failed, error] = makeRunReport().cells;
    expect(isAsExpected({ ...failed!, asExpected: true })).toBe(true);
    expect(isAsExpected({ outcome: 'passed', expected: passed!.expected })).toBe(true);
    expect(isAsExpected({ outcome: 'xpass', expected: passed!.expected })).toBe(false);
    expect(isAsExpected({ outcome: 'error', expected: error!.expected })).toBe(false);
    expect(isAsExpected({ outcome: 'error', expected: { outcome: 'error', failing: [] } })).toBe(true);
  });

  it('tallies outcomes from the cells and never calls a run with a contradicting cell as expected', () => {
    const report = makeRunReport();
    expect(tally(report.cells)).toEqual({ passed: 1, failed: 1, xfail: 1, xpass: 1, error: 1, total: 5 });
    const lying = { ...report, summary: { ...report.summary, asExpected: true } };
    expect(headline(lying)).toMatch(/^3 of 5 cells NOT as expected/);
    expect(headline({ ...report, cells: [] })).toBe('No cells ran.');
  });

  it('does not repeat the XPASS prefix the runner may already have written', () => {
    expect(xpassMessage({ reason: 'XPASS: expected a to fail, but it held' })).toBe('XPASS: expected failure did not happen: expected a to fail, but it held');
    expect(xpassMessage({ reason: 'a held' })).toBe('XPASS: expected failure did not happen: a held');
  });

  it('lists the concrete things of evidence: known keys first, then the rest sorted', () => {
    expect(evidenceDetails({ summary: 's', zeta: { a: 1 }, file: '/f', node: 'n', alpha: 2 })).toEqual([
      ['node', 'n'], ['file', '/f'], ['alpha', '2'], ['zeta', '{"a":1}'],
    ]);
  });
});

describe('failedSteps', () => {
  it('lists the first failed operations and counts the rest', async () => {
    const { failedSteps } = await import('./format.ts');
    const { makeRunReport } = await import('../../testing/reports.ts');
    const cell = makeRunReport().cells[0]!;
    cell.timeline = Array.from({ length: 25 }, (_, i) => ({ at: i, kind: 'op' as const, op: 'del', node: 'node-1', pod: `gw-${i}`, result: 'error' as const, error: 'teardown stopped', durationMs: 1 }));
    const lines = failedSteps(cell);
    expect(lines).toHaveLength(11);
    expect(lines[0]).toBe('del on node-1 pod gw-0: teardown stopped');
    expect(lines[10]).toBe('... and 15 more failed operation(s) (see report.json)');
  });
});

describe('headline', () => {
  it('counts an error the scenario expects apart from real errors', async () => {
    const { headline } = await import('./format.ts');
    const { makeRunReport } = await import('../../testing/reports.ts');
    const report = makeRunReport();
    const err = report.cells.find((c) => c.outcome === 'error')!;
    report.cells = [report.cells.find((c) => c.outcome === 'passed')!, { ...err, asExpected: true, expected: { outcome: 'error', failing: [] } }];
    report.summary = { ...report.summary, asExpected: true };
    expect(headline(report)).toBe('All 2 cells as expected (1 passed, 1 expected error).');
    report.cells = [{ ...err, asExpected: true, expected: { outcome: 'error', failing: [] } }];
    expect(headline(report)).toBe('All 1 cell as expected (1 expected error).');
  });
});

describe('evidenceRow', () => {
  it('puts node, thing, owner and detail in their columns, without saying them twice', async () => {
    const { evidenceRow, evidenceTable } = await import('./format.ts');
    const id = 'ab'.repeat(32);
    expect(evidenceRow({ summary: 'node-1: /var/lib/cni/networks/n/10.0.0.2 predates the boot by 3.1 s', node: 'node-1', file: '/var/lib/cni/networks/n/10.0.0.2' }).cells)
      .toEqual({ node: 'node-1', 'file or device': '/var/lib/cni/networks/n/10.0.0.2', owner: '', detail: 'predates the boot by 3.1 s' });
    const chain = evidenceRow({ summary: `node-2: nat chain CNI-1 (2 rule(s)) belongs to ${id.slice(0, 12)}, which is not a live attachment`, node: 'node-2', table: 'nat', chain: 'CNI-1', owner: id });
    expect(chain.cells).toEqual({ node: 'node-2', 'file or device': 'nat chain CNI-1', owner: id.slice(0, 12), detail: `(2 rule(s)) belongs to ${id.slice(0, 12)}, which is not a live attachment` });
    expect(chain.ownerFull).toBe(id);
    // The item's own detail wins; values it does not say are added, values over lines kept apart.
    const row = evidenceRow({ summary: 'node-1/net: x', node: 'node-1', detail: 'gone', state: 'empty', stderr: 'a\nb' });
    expect(row.cells.detail).toBe('gone; state: empty');
    expect(row.blocks).toEqual([['stderr', 'a\nb']]);
    expect(evidenceRow({ summary: 'node-1/k8s: 3 reservation(s)', node: 'node-1', network: 'k8s' }).cells.detail).toBe('3 reservation(s); network: k8s');
    expect(evidenceTable([{ summary: 'no DEL ran' }]).columns).toEqual(['detail']);
    expect(evidenceTable([{ summary: 'x', node: 'n' }, { summary: 'y', link: 'veth1' }]).columns).toEqual(['node', 'file or device', 'detail']);
  });
});
