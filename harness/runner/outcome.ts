// From verdicts and the cell's expectation to an outcome (README "Outcomes"). Unknown is never a
// pass: a check that could not judge makes the cell an error.
import type { AssertionResult, Evidence } from '../model/verdict.ts';
import type { Outcome } from '../model/report.ts';
import type { CellExpectation, ErrorSource } from '../model/scenario.ts';

/** The error a cell ended in: its message and where it came from. */
export interface CellError {
  message: string;
  source: ErrorSource;
  /** The run was interrupted: never what a scenario expects. */
  interrupted?: boolean;
}

/** Whether the error is the one expected: the same source, and the message matches. */
export function errorMatches(expected: CellExpectation, error: CellError): boolean {
  const want = expected.error;
  if (expected.outcome !== 'error' || !want || error.interrupted) return false;
  return want.source === error.source && new RegExp(want.match).test(error.message);
}

export function decideOutcome(results: readonly AssertionResult[], expected: CellExpectation, error?: CellError): { outcome: Outcome; reason: string } {
  if (error !== undefined) {
    // The expected error (an incompatible stack) stays an error, reported as expected; any other
    // error, a harness failure above all, is unexpected even where an error was expected.
    if (errorMatches(expected, error)) return { outcome: 'error', reason: `expected ${error.source} error: ${error.message}` };
    const want = expected.outcome === 'error' && expected.error ? ` (expected a ${expected.error.source} error matching /${expected.error.match}/)` : '';
    return { outcome: 'error', reason: error.interrupted ? error.message : `${error.source} error${want}: ${error.message}` };
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
  // An expected failure with stated evidence must fail for that reason: failing for another one is
  // not the bug the scenario reproduces.
  for (const [name, pattern] of Object.entries(expected.outcome === 'fail' ? (expected.evidence ?? {}) : {})) {
    if (!failed.includes(name)) continue;
    const failing = results.filter((r) => r.name === name && r.status === 'fail');
    if (failing.some((r) => r.evidence.some((e) => evidenceMatches(e, pattern)))) continue;
    const said = failing.flatMap((r) => r.evidence).find((e) => !/^first violated after: /.test(e.summary))?.summary ?? 'no evidence';
    return { outcome: 'failed', reason: `${name} failed, but not as expected: no evidence matches /${pattern}/ (it says: ${said.length > 160 ? `${said.slice(0, 157)}...` : said})` };
  }
  const unknownNotExpected = unknownOnes.filter((n) => !expectedFailing.has(n));
  if (unknownOnes.length && (unknownNotExpected.length || missingFailures.some((n) => unknownOnes.includes(n)))) {
    return { outcome: 'error', reason: `could not judge ${unknownOnes.join(', ')}` };
  }
  // The count is the checks as the report lists them (an invariant and an assertion are two).
  if (expected.outcome === 'pass') return { outcome: 'passed', reason: `all ${results.length} check(s) held` };
  if (missingFailures.length) {
    return { outcome: 'xpass', reason: `XPASS: expected ${missingFailures.join(', ')} to fail, but ${missingFailures.length === 1 ? 'it' : 'they'} held${expected.reason ? ` (${expected.reason})` : ''}` };
  }
  return { outcome: 'xfail', reason: `expected failure reproduced: ${failed.join(', ')}${expected.reason ? ` (${expected.reason})` : ''}` };
}

/** Whether an evidence item says what `pattern` expects: its summary or any of its text details. */
export function evidenceMatches(e: Evidence, pattern: string): boolean {
  const re = new RegExp(pattern);
  return [e.summary, ...Object.values(e).filter((v): v is string => typeof v === 'string')].some((t) => re.test(t));
}

/**
 * Whether an outcome matches the expectation (the run's exit code is 0 when every cell does): an
 * error only when it is the expected one.
 */
export function asExpected(outcome: Outcome, expected: CellExpectation, error?: CellError): boolean {
  if (outcome === 'error') return error !== undefined && errorMatches(expected, error);
  return outcome === 'passed' || outcome === 'xfail';
}

/**
 * The run's exit code (docs/ARCHITECTURE.md "Errors and exit codes"): 0 when every cell is as expected; otherwise a bad input found only
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
