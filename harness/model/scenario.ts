// A scenario as the harness uses it once loaded and validated (scenario/schema.ts checks, at compile
// time, that its schema produces exactly these types). Steps and checks stay generic here: their
// parameters belong to the fault or assertion that registered them.

/** One step: a fault, a wait or an action, by its registered name. */
export interface StepSpec {
  kind: string;
  params: Record<string, unknown>;
}

/** One invariant or assertion, by its registered name. */
export interface CheckSpec {
  kind: string;
  /** Name used in `expect.failing` and reports; defaults to the kind. */
  name: string;
  params: Record<string, unknown>;
}

export type WorkloadRole = 'pod' | 'nat-gateway';

export interface Workload {
  name: string;
  replicasPerNode: number;
  nodes?: string[];
  networks?: string[];
  role: WorkloadRole;
}

export type ExpectedOutcome = 'pass' | 'fail' | 'error';

/**
 * Where a cell's error came from: a CNI plugin's own error, the runtime's (libcni's or the runtime
 * process's), or anything else (faultline, the machine, the input).
 */
export type ErrorSource = 'plugin' | 'runtime' | 'harness';

/** The error an `outcome: error` cell must end in: its source, and a regex its message matches. */
export interface ExpectedError {
  match: string;
  source: ErrorSource;
}

export interface Expectation {
  when?: Record<string, string>;
  outcome: ExpectedOutcome;
  failing?: string[];
  error?: ExpectedError;
  reason?: string;
}

/** The stack fields of a scenario; each may hold ${dimension} placeholders until a cell fills them. */
export interface StackSelection {
  profile: string;
  cni?: string;
  runtime?: string;
  cniVersion?: string;
  delegation?: string;
  /** Multus's thin plugin on every node: a version built from source, go:<ref>, or dir:/path. */
  multus?: string;
  /** Run the thin entrypoint with --cleanup-config-on-exit (v4.1.0+: SIGTERM removes its config). */
  multusCleanupOnExit?: boolean;
}

/** What the node agent (kubelet) does; a string holds a ${dimension} placeholder ("true" or "false"). */
export interface AgentSelection {
  reconcileAfterBoot?: boolean | string;
}

/** What only the kind backend takes (refused elsewhere); strings may hold ${dimension} placeholders. */
export interface KindClusterDoc {
  /** kind node image (decides containerd and libcni), e.g. ${nodeImage}. */
  nodeImage?: string;
}

export interface ClusterDoc {
  backend: string;
  nodes: number;
  podCIDR: string;
  nodeMask: number;
  stack: StackSelection;
  agent?: AgentSelection;
  kind?: KindClusterDoc;
}

export interface ScenarioDoc {
  name: string;
  description: string;
  references: string[];
  suites: string[];
  matrix: Record<string, string[]>;
  expect: Expectation[];
  cluster: ClusterDoc;
  workload: Workload[];
  steps: StepSpec[];
  invariants: CheckSpec[];
  assertions: CheckSpec[];
}

/** Source positions by key path ("steps.0.hard-reboot.node"), 1-based. */
export type PositionMap = Map<string, { line: number; column: number }>;

/** A validated scenario plus where it came from. */
export interface Scenario extends ScenarioDoc {
  file: string;
  positions: PositionMap;
}

/** What a cell is expected to do: pass, fail with exactly these assertions failing, or end in an error. */
export interface CellExpectation {
  outcome: ExpectedOutcome;
  failing: string[];
  /** For outcome error: which error. */
  error?: ExpectedError;
  reason?: string;
  /** Index in the scenario's `expect` list; absent for the default (pass). */
  index?: number;
}

/** What a fault's or an assertion's validate() knows of the scenario before anything runs. */
export interface ValidationContext {
  nodeNames: string[];
  workloadNames: string[];
  /** Networks every cell's stack profile defines (default and secondary). */
  networkNames: string[];
  /** Pods per workload (replicasPerNode x its nodes). */
  workloadSizes?: Record<string, number>;
  /** Addresses host-local can hand out per node, by default network, where the profiles tell. */
  hostLocalCapacity?: Record<string, number>;
  /** The scenario's stack fields (placeholders unfilled). */
  stack?: StackSelection;
}

/** A validation message at a path inside the parameters (e.g. ['concurrency']). */
export interface LocatedMessage {
  path: (string | number)[];
  message: string;
}

/**
 * What some steps need of a runtime: crash points inside libcni's ADD, CNI GC (libcni >= 1.2 through
 * the runtime), secondary networks attached as Multus does. The model has all three; a real
 * containerd has none of them here.
 */
export type RuntimeCapability = 'crash-points' | 'cni-gc' | 'multi-network';
