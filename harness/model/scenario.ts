// A scenario as the harness uses it once loaded and validated (scenario/schema.ts checks, at compile
// time, that its schema produces exactly these types). Steps and checks stay generic here: their
// parameters belong to the fault or assertion that registered them.

/** One step: a fault, a wait or an action, by its registered name; or `repeat`, a group of steps. */
export interface StepSpec {
  kind: string;
  params: Record<string, unknown>;
}

/** The step kind that repeats a group of steps (structural: the runner, not a fault, runs it). */
export const REPEAT_STEP = 'repeat';

/** `repeat: { times, steps }`: the steps, in order, `times` times; nestable. */
export interface RepeatParams {
  times: number;
  steps: StepSpec[];
}

/** One invariant or assertion, by its registered name. */
export interface CheckSpec {
  kind: string;
  /** Name used in `expect.failing` and reports; defaults to the kind. */
  name: string;
  params: Record<string, unknown>;
}

export type WorkloadRole = 'pod' | 'nat-gateway';

/** A hostPort mapping as a pod spec gives it (kubelet passes it in the CRI pod config). */
export interface PortMappingSpec {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  hostIP?: string;
}

/** The kubernetes.io/ingress-bandwidth and egress-bandwidth annotations: quantities like 10M (bits/s). */
export interface BandwidthSpec {
  ingress?: string;
  egress?: string;
}

/** What kubelet passes for a pod besides its identity: CNI capabilities (runtimeConfig). */
export interface PodCapabilities {
  portMappings?: PortMappingSpec[];
  bandwidth?: BandwidthSpec;
}

export interface Workload {
  name: string;
  replicasPerNode: number;
  nodes?: string[];
  networks?: string[];
  role: WorkloadRole;
  capabilities?: PodCapabilities;
  /** Extra CNI_ARGS (K=V) for every pod of the workload (the model runtime only). */
  args?: Record<string, string>;
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

/** An assertion expected to fail with evidence matching a regular expression. */
export interface ExpectedFailure {
  name: string;
  evidence: string;
}

export interface Expectation {
  when?: Record<string, string>;
  outcome: ExpectedOutcome;
  /** Names, or { name, evidence } where the failure must show evidence matching a regex. */
  failing?: (string | ExpectedFailure)[];
  error?: ExpectedError;
  reason?: string;
}

/** The name of an entry of `expect.failing`. */
export function failingName(f: string | ExpectedFailure): string {
  return typeof f === 'string' ? f : f.name;
}

/** A CNI network configuration list as a profile or a scenario writes it. */
export type ConflistSpec = {
  name: string;
  cniVersion: string;
  disableCheck?: boolean;
  disableGC?: boolean;
  plugins: Record<string, unknown>[];
};

/** A network of a stack: its file in /etc/cni/net.d and its conflist. */
export type NetworkSpec = {
  file: string;
  secondary: boolean;
  segment?: string;
  conflist: ConflistSpec;
};

export type StageFileSpec = { path: string; source: string; content: string };
export type SubstitutionSpec = { plugin: string; standIn: string; why: string };

/**
 * The stack fields of a scenario; the string fields may hold ${dimension} placeholders until a cell
 * fills them. `profile` names a profile under profiles/ or a file relative to the scenario
 * (./my-stack.yaml); `networks`, `stageFiles` and `substitutions` carry a stack inline (without a
 * profile) or replace the profile's.
 */
export interface StackSelection {
  profile?: string;
  cni?: string;
  runtime?: string;
  cniVersion?: string;
  delegation?: string;
  networks?: NetworkSpec[];
  stageFiles?: StageFileSpec[];
  substitutions?: SubstitutionSpec[];
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
  /** Regexes the evidence of a failing assertion must match, by assertion name. */
  evidence?: Record<string, string>;
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
  /** The workloads as written (nodes, replicas, capabilities). */
  workloads?: Workload[];
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
 * the runtime), secondary networks attached as Multus does, CNI_ARGS of the scenario's choosing. The
 * model has all four; a real containerd has none of them here.
 */
export type RuntimeCapability = 'crash-points' | 'cni-gc' | 'multi-network' | 'cni-args';
