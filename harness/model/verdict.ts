// The verdict of a check and the evidence behind it: what reporters show and outcomes are decided from.
export type Verdict = 'pass' | 'fail' | 'unknown';

/** Evidence names concrete things: the leaked file, the orphaned link, the error string. */
export interface Evidence {
  /** One line a person reads in a summary. */
  summary: string;
  node?: string;
  file?: string;
  link?: string;
  error?: string;
  [key: string]: unknown;
}

export interface AssertionResult {
  name: string;
  /** 'during' for invariants, 'end' for assertions. */
  phase: 'during' | 'end';
  status: Verdict;
  evidence: Evidence[];
  /** For invariants: index of the timeline entry after which it first failed. */
  firstViolationAt?: number;
}
