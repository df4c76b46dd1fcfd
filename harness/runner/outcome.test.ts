import { describe, expect, it } from 'vitest';
import { asExpected, decideOutcome } from './outcome.ts';
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
  it('harness errors are errors unless an error was expected', () => {
    expect(decideOutcome([], { outcome: 'pass', failing: [] }, 'boom')).toEqual({ outcome: 'error', reason: 'boom' });
    const expectedError = decideOutcome([], { outcome: 'error', failing: [] }, 'incompatible CNI versions');
    expect(expectedError).toEqual({ outcome: 'error', reason: 'expected error: incompatible CNI versions' });
    expect(asExpected('error', { outcome: 'error', failing: [] })).toBe(true);
    expect(asExpected('error', { outcome: 'pass', failing: [] })).toBe(false);
    expect(asExpected('xpass', { outcome: 'fail', failing: ['a'] })).toBe(false);
    expect(decideOutcome([r('a', 'pass')], { outcome: 'error', failing: [] }).outcome).toBe('xpass');
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
