// The run report. report.json is a public interface (README "Report format"): add fields, never
// rename or remove them.
import type { AssertionResult } from './verdict.ts';
import type { TimelineEntry } from './timeline.ts';
import type { GoBuildRecord } from './profile.ts';

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
  /** `error`: for outcome error, the error expected (its source and a regex of its message). */
  expected: { outcome: 'pass' | 'fail' | 'error'; failing: string[]; reason?: string; error?: { match: string; source: 'plugin' | 'runtime' | 'harness' } };
  assertions: AssertionResult[];
  warnings: string[];
  /** What the stack resolved to: profile, plugin version and binary hashes, runtime, substitutions. */
  stack: {
    profile: string;
    /** `build`: for go: sources, the module version, its go.sum hash, the Go version and flags. */
    cni: { version: string; source: string; dir: string; sha256: Record<string, string>; build?: GoBuildRecord };
    runtime: string;
    /** A real containerd: its version, the libcni it was built with, where it came from, its binaries. */
    containerd?: { version: string; libcni: string; source: string; sha256: Record<string, string>; criApi: string; build?: GoBuildRecord };
    /** Multus's thin plugin on the nodes (cluster.stack.multus). */
    multus?: { version: string; source: string; sha256: Record<string, string>; cleanupConfigOnExit: boolean; build?: GoBuildRecord };
    /**
     * A kind cell: the cluster, the engine, the node image, the kind and kubectl binaries (version,
     * source, sha256), the stack's pinned files, and the measured times.
     */
    kind?: {
      cluster?: string;
      provider?: string;
      engine?: string;
      nodeImage?: string;
      kind?: { path: string; version: string; source: string; sha256: string };
      kubectl?: { path: string; version: string; source: string; sha256: string };
      manifests: { name: string; url: string; sha256: string; type: string; images?: Record<string, string> }[];
      timings: { clusterCreateMs?: number; cniReadyMs?: number; rebootToReadyMs: { node: string; nodeReadyMs: number; podsRunningMs: number }[] };
    };
    substitutions: { plugin: string; standIn: string; why: string }[];
    conflistCniVersion: string;
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
