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

/** The machine a run ran on. */
export interface HostInfo {
  hostname: string;
  kernel: string;
  cores: number;
}

export interface RunReport {
  runId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  faultlineVersion: string;
  host: HostInfo;
  argv: string[];
  outDir: string;
  summary: Record<Outcome, number> & { total: number; asExpected: boolean };
  cells: CellReport[];
  /** A shard of a run (`--shard i/n`): which one, and the partition of the whole run. */
  shard?: ShardInfo;
  /** A report merge-reports put together from the shards of one run. */
  merged?: MergeInfo;
  /** Files the reporters wrote (filled in after onRunEnd; not part of report.json). */
  written?: string[];
}

/** What a shard's report says about the run it is part of; every shard of one run has the same plan. */
export interface ShardInfo {
  /** 1-based. */
  index: number;
  total: number;
  /** The same for every shard of one run: a hash of the label, the shard count and the partition. */
  runKey: string;
  /** `--run-label`: what names the run in CI (e.g. the pipeline id), so shards of two runs never mix. */
  label?: string;
  /** How the cells were divided: by count, or by the durations of an earlier report (`--durations`). */
  balance: 'count' | 'durations';
  /** Every cell of the whole run in plan order, with the shard that runs it. */
  plan: { id: string; shard: number }[];
}

/** Where a merged report came from. */
export interface MergeInfo {
  runKey: string;
  label?: string;
  /** The shards merged, by index. */
  shards: { index: number; total: number; runId: string; file: string; startedAt: string; finishedAt: string; durationMs: number; host: HostInfo; cells: number }[];
  /** Shards not given (only with --allow-missing); their cells are not in the report. */
  missing?: { index: number; cells: string[] }[];
}
