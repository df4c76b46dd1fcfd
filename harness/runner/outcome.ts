// From verdicts and the cell's expectation to an outcome (DESIGN.md "Outcomes"). Unknown is never a
// pass: a check that could not judge makes the cell an error.
import type { AssertionResult } from '../model/verdict.ts';
import type { Outcome } from '../model/report.ts';
import type { CellExpectation } from '../model/scenario.ts';


export function decideOutcome(results: readonly AssertionResult[], expected: CellExpectation, harnessError?: string): { outcome: Outcome; reason: string } {
  if (harnessError !== undefined) {
    // An expected error (an incompatible stack) stays an error, reported as expected.
    return { outcome: 'error', reason: expected.outcome === 'error' ? `expected error: ${harnessError}` : harnessError };
  }
  if (expected.outcome === 'error') {
    return { outcome: 'xpass', reason: 'XPASS: the cell was expected to end in an error, but it ran to the end' };
  }
  // Invariants and assertions of the same name combine; false ranks over unknown over true.
  const byName = new Map<string, AssertionResult['status']>();
  for (const r of results) {
    const prev = byName.get(r.name);
    byName.set(r.name, prev === 'fail' || r.status === 'fail' ? 'fail' : prev === 'unknown' || r.status === 'unknown' ? 'unknown' : 'pass');
  }
  const failed = [...byName].filter(([, st]) => st === 'fail').map(([n]) => n);
  const unknownOnes = [...byName].filter(([, st]) => st === 'unknown').map(([n]) => n);
  const expectedFailing = new Set(expected.outcome === 'fail' ? expected.failing : []);
  const unexpectedFailures = failed.filter((n) => !expectedFailing.has(n));
  const missingFailures = [...expectedFailing].filter((n) => !failed.includes(n));

  if (unexpectedFailures.length) {
    return { outcome: 'failed', reason: `unexpected failure of ${unexpectedFailures.join(', ')}` };
  }
  const unknownNotExpected = unknownOnes.filter((n) => !expectedFailing.has(n));
  if (unknownOnes.length && (unknownNotExpected.length || missingFailures.some((n) => unknownOnes.includes(n)))) {
    return { outcome: 'error', reason: `could not judge ${unknownOnes.join(', ')}` };
  }
  if (expected.outcome === 'pass') return { outcome: 'passed', reason: `all ${byName.size} check(s) held` };
  if (missingFailures.length) {
    return { outcome: 'xpass', reason: `XPASS: expected ${missingFailures.join(', ')} to fail, but ${missingFailures.length === 1 ? 'it' : 'they'} held${expected.reason ? ` (${expected.reason})` : ''}` };
  }
  return { outcome: 'xfail', reason: `expected failure reproduced: ${failed.join(', ')}${expected.reason ? ` (${expected.reason})` : ''}` };
}

/** Whether an outcome matches the expectation (the run's exit code is 0 when every cell does). */
export function asExpected(outcome: Outcome, expected: CellExpectation): boolean {
  if (outcome === 'error') return expected.outcome === 'error';
  return outcome === 'passed' || outcome === 'xfail';
}

/**
 * The run's exit code (DESIGN.md): 0 when every cell is as expected; otherwise a bad input found only
 * at run time (a glob that matches nothing, a crash fault on an existing pod) is 2, a missing
 * prerequisite or environment failure 3, and anything else unexpected 1.
 */
export function runExitCode(cells: readonly { asExpected: boolean; error?: { code: string } }[]): number {
  const unexpected = cells.filter((c) => !c.asExpected);
  if (!unexpected.length) return 0;
  if (unexpected.some((c) => c.error?.code === 'invalid-input' || c.error?.code === 'usage')) return 2;
  if (unexpected.some((c) => c.error?.code === 'prerequisite' || c.error?.code === 'environment')) return 3;
  return 1;
}
