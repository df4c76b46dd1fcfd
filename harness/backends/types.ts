// The backend contract: the uniform operations every backend gives the runner, faults, observations
// and checks (docs/ARCHITECTURE.md "Backends"). Nothing above this file knows which backend runs.
import type { RunReaper } from '../ledger/ledger.ts';

/** Where a node sees Multus's thin plugin binaries (NodeSpec.multusDir), on every backend. */
export const NODE_MULTUS_DIR = '/opt/faultline/multus';

export interface ExecOptions {
  stdin?: string | Uint8Array;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Run inside this pod's network namespace instead of the node's (path as the node sees it). */
  netns?: string;
}

/** One shape for success and failure, as execa does. */
export interface ExecResult {
  argv: readonly string[];
  exitCode: number;
  signal?: string;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

export interface NodeFileStat {
  size: number;
  mtimeMs: number;
  isDirectory: boolean;
  /** A regular file (not a directory, FIFO, socket or device). */
  isFile: boolean;
}

export interface NodeSpec {
  name: string;
  /** Directory holding the CNI plugin binaries to present at /opt/cni/bin. */
  pluginDir: string;
  /**
   * Directory holding a real container runtime's binaries, presented read-only at
   * /opt/faultline/runtime; the node then also gets what runc needs (the host's cgroup tree).
   */
  runtimeDir?: string;
  /** Directory holding Multus's thin plugin binaries, presented read-only at /opt/faultline/multus. */
  multusDir?: string;
  /** Node's pod subnet, e.g. 10.52.1.0/28. */
  podSubnet: string;
}

export interface ClusterSpec {
  runId: string;
  /** Cell id, unique in the run; part of every name the backend creates. */
  cellId: string;
  /** The cell's own work dir; everything on disk lives below it. */
  workDir: string;
  nodes: NodeSpec[];
  /** Extra networks shared by the run's nodes (an external segment a macvlan network uses as its parent). */
  segments?: string[];
  /** Long preparations (building a node image) say what they do here. */
  onProgress?: (message: string) => void;
}

/** A long-running process inside a node (a container runtime, a CNI daemon); it dies with the node. */
export interface NodeDaemon {
  readonly name: string;
  readonly running: boolean;
  /** Sends a signal to the process itself (SIGTERM: a clean stop; SIGKILL: a crash). */
  signal(sig: NodeJS.Signals): void;
  readonly exited: Promise<{ exitCode?: number; signal?: string }>;
}

/**
 * A node. Paths are as the node sees them (absolute, e.g. /var/lib/cni/networks/x); backends
 * confine them to the node's own state and reject escapes.
 */
export interface Node {
  readonly name: string;
  readonly spec: NodeSpec;
  /** Time (ms since epoch) the current power-on began; undefined while off. */
  readonly bootedAtMs: number | undefined;
  readonly running: boolean;

  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /**
   * A regular file's content (at most `maxBytes` of it); anything else (a FIFO, a device, a
   * directory) is refused without blocking.
   */
  readFile(path: string, opts?: { maxBytes?: number }): Promise<Buffer>;
  writeFile(path: string, data: string | Uint8Array, mode?: number): Promise<void>;
  truncateFile(path: string, size: number): Promise<void>;
  /** Creates a directory (and parents) with this mode if missing. */
  mkdir(path: string, mode: number): Promise<void>;
  removeFile(path: string): Promise<void>;
  /** undefined when the path does not exist. */
  stat(path: string): Promise<NodeFileStat | undefined>;
  /** Names in a directory, [] when it does not exist. */
  list(dir: string): Promise<string[]>;
  /** Glob on the node (simple * and ? in the last segments), sorted. */
  glob(pattern: string): Promise<string[]>;

  /** Power cut: every kernel object of the node dies, the disk stays. */
  powerOff(): Promise<void>;
  /** A fresh namespace holder; no boot stages (the runner runs them). */
  powerOn(): Promise<void>;
  /** Creates the sandbox network namespace for a pod; returns its path as the node sees it. */
  createNetns(name: string): Promise<string>;
  deleteNetns(name: string): Promise<void>;
  listNetns(): Promise<string[]>;

  /** Starts a long-running process inside the node, logging to /var/log/<name>.log on its disk. */
  startDaemon(name: string, argv: readonly string[], opts?: { env?: Record<string, string> }): Promise<NodeDaemon>;
  /** A node path as the harness reaches it from the host while the node runs (e.g. a runtime's socket). */
  hostPath(nodePath: string): string;
  /** The cgroup parent a real runtime gives this node's sandboxes; the backend removes it at power-off. */
  readonly cgroupParent: string;
}

export interface Cluster extends AsyncDisposable {
  readonly nodes: readonly Node[];
  node(name: string): Node;
  /** Tears everything down; collects every error, never throws for "already gone". */
  down(): Promise<void>;
}

/** Where a node has files, as the node sees them. */
export interface NodeFileRoots {
  /** On the node's disk: they survive a power cut (e.g. /var/lib/cni). */
  persistent: readonly string[];
  /** tmpfs: empty after every power-on (e.g. /run). */
  volatile: readonly string[];
  /**
   * Below a root but backed by the kernel, never plain files (pod network namespaces are nsfs mounts
   * under /run/netns): file faults refuse them at validation.
   */
  kernelBacked: readonly string[];
}

/** One prerequisite of a backend, checked on this host; `fix` says what to do when it is not ok. */
export interface BackendCheck {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/** Where a check looks (tests and doctor point it elsewhere): environment, uid, extra binary dirs. */
export interface BackendCheckOptions {
  env?: NodeJS.ProcessEnv;
  uid?: number;
  /** Searched after PATH (a non-root PATH often lacks the sbin dirs). */
  extraDirs?: readonly string[];
}

export interface Backend {
  readonly name: string;
  /** Where a node has files; the same for every node of the backend. */
  readonly fileRoots: NodeFileRoots;
  /** The names of a cluster's nodes, as scenarios refer to them (node-1..node-N on every backend). */
  nodeNames(count: number): string[];
  /** Every prerequisite of this backend, checked here (runs refuse to start when one is not ok). */
  check(opts?: BackendCheckOptions): Promise<BackendCheck[]>;
  up(spec: ClusterSpec, signal?: AbortSignal): Promise<Cluster>;
  /** Removes what a dead run left in this backend (`faultline gc`, and every run's release). */
  readonly reaper: RunReaper;
}

/** Node names every backend uses: node-1..node-N. */
export function defaultNodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `node-${i + 1}`);
}
