import { describe, expect, it } from 'vitest';
import { asExpected, decideOutcome, errorMatches } from './outcome.ts';
import type { CellExpectation } from '../model/scenario.ts';
import type { AssertionResult } from '../model/verdict.ts';

const r = (name: string, status: AssertionResult['status'], phase: AssertionResult['phase'] = 'end'): AssertionResult => ({ name, status, phase, evidence: [] });

describe('decideOutcome', () => {
  it('passed only when everything held and a pass was expected', () => {
    expect(decideOutcome([r('a', 'pass'), r('b', 'pass')], { outcome: 'pass', failing: [] }).outcome).toBe('passed');
    expect(decideOutcome([r('a', 'pass'), r('b', 'fail')], { outcome: 'pass', failing: [] })).toEqual({ outcome: 'failed', reason: 'unexpected failure of b' });
  });
  it('xfail when exactly the expected checks failed, failed when another one did too', () => {
    expect(decideOutcome([r('a', 'fail'), r('b', 'pass')], { outcome: 'fail', failing: ['a'] }).outcome).toBe('xfail');
    expect(decideOutcome([r('a', 'fail'), r('b', 'fail')], { outcome: 'fail', failing: ['a'] }).outcome).toBe('failed');
  });
  it('xpass when an expected failure did not happen', () => {
    const o = decideOutcome([r('a', 'pass'), r('b', 'fail')], { outcome: 'fail', failing: ['a', 'b'] });
    expect(o.outcome).toBe('xpass');
    expect(o.reason).toMatch(/^XPASS: expected a to fail/);
  });
  it('unknown is never a pass', () => {
    expect(decideOutcome([r('a', 'unknown')], { outcome: 'pass', failing: [] }).outcome).toBe('error');
    expect(decideOutcome([r('a', 'unknown')], { outcome: 'fail', failing: ['a'] }).outcome).toBe('error');
  });
  it('an invariant that failed during the run fails its name even if the end check passed', () => {
    expect(decideOutcome([r('a', 'fail', 'during'), r('a', 'pass')], { outcome: 'pass', failing: [] }).outcome).toBe('failed');
  });
  const plugin = { message: 'node-1: pod web-n1-0: plugin bridge ADD failed (code 1): incompatible CNI versions', source: 'plugin' } as const;
  const expectsPlugin: CellExpectation = { outcome: 'error', failing: [], error: { source: 'plugin', match: 'incompatible CNI versions' } };

  it('errors are errors, named by their source, unless that error was expected', () => {
    expect(decideOutcome([], { outcome: 'pass', failing: [] }, { message: 'boom', source: 'harness' })).toEqual({ outcome: 'error', reason: 'harness error: boom' });
    expect(decideOutcome([], expectsPlugin, plugin)).toEqual({ outcome: 'error', reason: `expected plugin error: ${plugin.message}` });
    expect(asExpected('error', expectsPlugin, plugin)).toBe(true);
    expect(asExpected('error', { outcome: 'pass', failing: [] }, plugin)).toBe(false);
    expect(asExpected('xpass', { outcome: 'fail', failing: ['a'] })).toBe(false);
    expect(decideOutcome([r('a', 'pass')], expectsPlugin).outcome).toBe('xpass');
  });

  it('a harness failure never counts as an expected plugin error, even with a matching message', () => {
    const harness = { message: 'cannot write the ledger: incompatible CNI versions', source: 'harness' } as const;
    const o = decideOutcome([], expectsPlugin, harness);
    expect(o).toEqual({ outcome: 'error', reason: `harness error (expected a plugin error matching /incompatible CNI versions/): ${harness.message}` });
    expect(asExpected('error', expectsPlugin, harness)).toBe(false);
  });

  it('an error of the expected source whose message does not match is unexpected', () => {
    const other = { message: 'plugin bridge ADD failed (code 11): try again later', source: 'plugin' } as const;
    expect(asExpected('error', expectsPlugin, other)).toBe(false);
    expect(errorMatches(expectsPlugin, other)).toBe(false);
  });

  it('an interrupted cell is never the expected error', () => {
    expect(asExpected('error', { ...expectsPlugin, error: { source: 'harness', match: 'interrupted' } }, { message: 'interrupted: SIGINT', source: 'harness', interrupted: true })).toBe(false);
  });
});

describe('runExitCode', () => {
  it('is 0 when all as expected, 2 for bad input found at run time, 3 for the environment, else 1', async () => {
    const { runExitCode } = await import('./outcome.ts');
    expect(runExitCode([{ asExpected: true }, { asExpected: true, error: { code: 'environment' } }])).toBe(0);
    expect(runExitCode([{ asExpected: false }])).toBe(1);
    expect(runExitCode([{ asExpected: false }, { asExpected: false, error: { code: 'environment' } }])).toBe(3);
    expect(runExitCode([{ asExpected: false, error: { code: 'environment' } }, { asExpected: false, error: { code: 'invalid-input' } }])).toBe(2);
  });
});

describe('expected failures with evidence', () => {
  const failing = (name: string, ...summaries: string[]): AssertionResult => ({ name, status: 'fail', phase: 'end', evidence: summaries.map((summary) => ({ summary, node: 'node-1' })) });
  const expects: CellExpectation = { outcome: 'fail', failing: ['no-orphan-iptables', 'del-succeeds'], evidence: { 'no-orphan-iptables': 'nat chain CNI-[0-9a-f]+ .*pod web-n1-0' } };

  it('is xfail when one evidence item of the failure matches', () => {
    const o = decideOutcome([failing('no-orphan-iptables', 'node-1: filter chain CNI-x', 'node-1: nat chain CNI-ab12 (2 rule(s)) belongs to ab12, which is not a live attachment: pod web-n1-0, which no longer has a sandbox'), failing('del-succeeds', 'whatever')], expects);
    expect(o.outcome).toBe('xfail');
  });

  it('is failed, saying what the evidence said instead, when the check failed for another reason', () => {
    const o = decideOutcome([failing('no-orphan-iptables', 'first violated after: step 1: wait', 'node-1: nat chain CNI-ab12 (2 rule(s)) belongs to ab12: pod other-n1-0'), failing('del-succeeds', 'x')], expects);
    expect(o).toEqual({ outcome: 'failed', reason: 'no-orphan-iptables failed, but not as expected: no evidence matches /nat chain CNI-[0-9a-f]+ .*pod web-n1-0/ (it says: node-1: nat chain CNI-ab12 (2 rule(s)) belongs to ab12: pod other-n1-0)' });
  });

  it('matches details as well as summaries (the file, the link, the chain)', () => {
    const r1: AssertionResult = { name: 'no-orphan-devices', status: 'fail', phase: 'end', evidence: [{ summary: 'node-1: something', link: 'bwp0123456789ab', kind: 'ifb' }] };
    expect(decideOutcome([r1], { outcome: 'fail', failing: ['no-orphan-devices'], evidence: { 'no-orphan-devices': '^bwp[0-9a-f]{12}$' } }).outcome).toBe('xfail');
  });

  it('still xpass when the check held, whatever its evidence', () => {
    expect(decideOutcome([r('no-orphan-iptables', 'pass'), failing('del-succeeds', 'x')], expects).outcome).toBe('xpass');
  });
});

describe('the count in the reason', () => {
  it('counts checks as the report lists them: an invariant and an assertion of one name are two', () => {
    const results = [r('pods-running', 'pass', 'during'), r('pods-running', 'pass'), r('no-orphan-devices', 'pass')];
    expect(decideOutcome(results, { outcome: 'pass', failing: [] }).reason).toBe('all 3 check(s) held');
  });
});

describe('one count everywhere', () => {
  it('the reason line and the Markdown assertion list give the same number of checks', async () => {
    const { makeRunReport } = await import('../../testing/reports.ts');
    const { renderMarkdown } = await import('../reporters/markdown-reporter.ts');
    const report = makeRunReport();
    const cell = report.cells.find((c) => c.outcome === 'passed')!;
    cell.assertions = [r('pods-running', 'pass', 'during'), r('pods-running', 'pass'), r('no-orphan-devices', 'pass')];
    cell.reason = decideOutcome(cell.assertions, { outcome: 'pass', failing: [] }).reason;
    const md = renderMarkdown(report);
    expect(md).toContain('all 3 check(s) held');
    expect(md).toContain('**Assertions:** 3 of 3 passed.');
  });
});
