// The run report. report.json is a public interface (README "Report format"): add fields, never
// rename or remove them.
import type { AssertionResult } from './verdict.ts';
import type { TimelineEntry } from './timeline.ts';

export type Outcome = 'passed' | 'failed' | 'xfail' | 'xpass' | 'error';

export interface CellReport {
  /** Unique in the run: "<scenario>[dim=value,...]". */
  id: string;
  scenario: string;
  scenarioFile: string;
  matrix: Record<string, string>;
  outcome: Outcome;
  /** One line: why this outcome (expected bug reproduced, regression, harness error...). */
  reason: string;
  /** passed and xfail, or an error the scenario expected. */
  asExpected: boolean;
  /**
   * `error`: for outcome error, the error expected (its source and a regex of its message);
   * `evidence`: regexes the evidence of expected failures must match, by assertion name.
   */
  expected: { outcome: 'pass' | 'fail' | 'error'; failing: string[]; reason?: string; error?: { match: string; source: 'plugin' | 'runtime' | 'harness' }; evidence?: Record<string, string> };
  assertions: AssertionResult[];
  warnings: string[];
  /** What the stack resolved to: profile, plugin version and binary hashes, runtime, substitutions. */
  stack: {
    profile: string;
    cni: { version: string; source: string; dir: string; sha256: Record<string, string> };
    runtime: string;
    /** A real containerd: its version, the libcni it was built with, where it came from, its binaries. */
    containerd?: { version: string; libcni: string; source: string; sha256: Record<string, string>; criApi: string };
    substitutions: { plugin: string; standIn: string; why: string }[];
    conflistCniVersion: string;
    /**
     * Where the stack came from: a profile under profiles/, a profile file beside the scenario, or
     * written inline in the scenario (`inline`: the fields the scenario wrote itself); `file` is the
     * profile file or the scenario.
     */
    origin?: { kind: 'profile' | 'file' | 'inline'; file: string; inline: string[] };
    /** The networks as resolved: file in /etc/cni/net.d, name, plugin types, and the conflist. */
    networks?: { file: string; name: string; secondary: boolean; plugins: string[]; conflist: Record<string, unknown> }[];
    /** The boot stage files (where they come from). */
    stageFiles?: { path: string; source: string }[];
  };
  seed: number;
  durationMs: number;
  /**
   * `location`: file:line:col of the scenario part that failed (a step), when known. `source`: a CNI
   * plugin's own error (plugin), the runtime's (runtime), or anything else (harness).
   */
  error?: { message: string; code: string; location?: string; source?: 'plugin' | 'runtime' | 'harness' };
  timeline: TimelineEntry[];
  /** Paths relative to the report dir. */
  artifacts: string[];
}

export interface RunReport {
  runId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  faultlineVersion: string;
  host: { hostname: string; kernel: string; cores: number };
  argv: string[];
  outDir: string;
  summary: Record<Outcome, number> & { total: number; asExpected: boolean };
  cells: CellReport[];
  /** Files the reporters wrote (filled in after onRunEnd; not part of report.json). */
  written?: string[];
}
