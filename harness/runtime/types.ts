// The runtime contract: what the node agent (kubelet's role) talks to on one node, shaped like CRI's
// pod-sandbox calls (RunPodSandbox, StopPodSandbox, RemovePodSandbox, ListPodSandbox, Status). The
// runtime calls CNI. Implementations: `model` (runtime/model/: faultline's libcni model, with crash
// points) and, from the real-runtime work on, containerd over CRI. docs/ARCHITECTURE.md "Runtimes".
import type { Attachment } from '../model/snapshot.ts';
import type { NetworkConfigList } from '../model/cni.ts';
import type { PodCapabilities, WorkloadRole } from '../model/scenario.ts';
import type { GcReport, GcAttachmentRef } from './libcni/cni-runtime.ts';
import type { CrashPoints } from './libcni/types.ts';

export type { CrashPoints };

/** What kubelet asks a sandbox to be: the pod's identity and its networks (Multus annotations). */
export interface SandboxConfig {
  /** Pod name (metadata.name; namespace "default"). */
  name: string;
  workload: string;
  /** Secondary networks by name, attached as net1, net2... */
  networks: readonly string[];
  role: WorkloadRole;
  /** Port mappings and bandwidth, as kubelet passes them (CRI port_mappings, bandwidth annotations). */
  capabilities?: PodCapabilities;
  /** Extra CNI_ARGS; only a runtime whose CNI_ARGS can be chosen takes them (the model). */
  args?: Record<string, string>;
}

/** CRI's SANDBOX_READY / SANDBOX_NOTREADY. */
export type SandboxState = 'ready' | 'notready';

/** A sandbox as the runtime knows it. */
export interface Sandbox {
  /** The sandbox (pause container) id: 64 hex characters. */
  id: string;
  pod: string;
  state: SandboxState;
  createdAtMs: number;
  /** The pod's network namespace: its name under /run/netns and its path as the node sees it. */
  netnsName: string;
  netns: string;
  /** Interfaces CNI set up, with their addresses. Empty when the setup failed or was lost. */
  attachments: Attachment[];
}

/**
 * A crash injected through CrashPoints (libcni's hooks): it unwinds through the runtime and the agent
 * untouched. The runtime attaches the sandbox it was setting up (kept, NOTREADY: containerd persisted
 * its record before the crash).
 */
export class RuntimeCrash extends Error {
  sandbox?: Sandbox;
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeCrash';
  }
}

/**
 * The stack cannot work at all (the plugins do not speak the config's CNI version: code 1): an
 * environment failure of the cell, not an outcome a check judges.
 */
export class StackIncompatibleError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StackIncompatibleError';
  }
}

export interface RunSandboxOptions {
  /** Only where `capabilities.crashPoints` is true. */
  crash?: CrashPoints;
}

/** CNI garbage collection as libcni >= 1.2 does it, where the runtime can. */
export interface RuntimeGc {
  /** The networks the runtime knows (its CNI config dir, in libcni's order). */
  networks(): Promise<NetworkConfigList[]>;
  gcNetwork(list: NetworkConfigList, valid: GcAttachmentRef[]): Promise<GcReport>;
}

export interface RuntimeStatus {
  ready: boolean;
  networkReady: boolean;
  message?: string;
}

export interface SandboxRuntime {
  /** What it is, for reports: "libcni-1.1 (model)". */
  readonly description: string;
  readonly capabilities: {
    /** Crash points inside an ADD (only a model can stop libcni between two writes). */
    crashPoints: boolean;
  };
  /** CNI GC, where the runtime has it. */
  readonly gc?: RuntimeGc;
  /**
   * RunPodSandbox: a network namespace and CNI ADD on every network. When the setup fails, the
   * runtime tears down what it made and throws the error (the sandbox is left NOTREADY); a
   * RuntimeCrash unwinds as it is.
   */
  runPodSandbox(config: SandboxConfig, opts?: RunSandboxOptions): Promise<Sandbox>;
  /** StopPodSandbox: CNI DEL on every network (reverse order); throws the runtime's error. */
  stopPodSandbox(id: string): Promise<void>;
  /** RemovePodSandbox: the sandbox and its network namespace go. */
  removePodSandbox(id: string): Promise<void>;
  listPodSandbox(): Promise<Sandbox[]>;
  status(): Promise<RuntimeStatus>;
  /** Sandbox ids with a CNI operation under way now (checks mid-churn do not judge them). */
  inFlight(): string[];
  /** Starts the runtime on its node (at boot, after the node's CNI config is written). */
  start(): Promise<void>;
  /** The runtime's processes die (OOM kill, crash); the node and its sandboxes' kernel state stay. */
  kill(): Promise<void>;
  /** The first half of a clean restart (SIGTERM; sandboxes live on); `start` is the second. */
  restart(): Promise<void>;
  /** The node lost power: whatever the runtime held only in memory is gone. */
  onPowerOff(): void;
}
