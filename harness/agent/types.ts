// The node agent contract (kubelet's role on one node): the pods the node should run, their state,
// creation by RunPodSandbox, deletion by Stop then Remove, and what kubelet does after a boot. Faults,
// observations, assertions and boot use this, never a concrete agent or runtime
// (docs/ARCHITECTURE.md "Node agent and runtime").
import type { Node } from '../backends/types.ts';
import type { Attachment } from '../model/snapshot.ts';
import type { PodCapabilities, WorkloadRole } from '../model/scenario.ts';
import type { CrashPoints, SandboxRuntime } from '../runtime/types.ts';

export interface PodSpec {
  name: string;
  node: string;
  workload: string;
  /** Secondary networks (Multus style), attached as net1, net2... */
  networks: string[];
  role: WorkloadRole;
  /** What kubelet passes besides the pod's identity: port mappings, bandwidth annotations. */
  capabilities?: PodCapabilities;
  /** Extra CNI_ARGS (the model runtime only). */
  args?: Record<string, string>;
}

/** running: its sandbox is up (or being set up); failed: its setup failed or crashed; terminating: a delete is under way or failed. */
export type PodPhase = 'running' | 'failed' | 'terminating';

export interface PodState {
  spec: PodSpec;
  /** The sandbox id ('' until the runtime has made one). */
  containerId: string;
  netnsName: string;
  netns: string;
  phase: PodPhase;
  attachments: Attachment[];
  /** The error of the last failed create or delete, verbatim. */
  error?: string;
}

/** Extra fields for a pod operation's timeline entry (e.g. the churn operation it belongs to). */
export interface PodOpOptions {
  detail?: Record<string, unknown>;
  /** Crash points inside the ADD (only where the runtime has them). */
  crash?: CrashPoints;
}

export interface NodeAgent {
  readonly node: Node;
  readonly runtime: SandboxRuntime;
  /** The pods this node should run (the scheduler's placement). */
  desired(): PodSpec[];
  /** Adds a desired pod (created by a step, not by the workload). */
  addDesired(spec: PodSpec): void;
  removeDesired(pod: string): void;
  /** Pods with a sandbox (running, failed or terminating). */
  pods(): PodState[];
  pod(name: string): PodState | undefined;
  /** Attachments of pods that are running. */
  attachments(): Attachment[];
  /** Sandbox ids with an operation under way (checks mid-churn do not judge them). */
  inFlight(): string[];
  /**
   * Creates a pod's sandbox. A failed setup leaves the pod 'failed' with the runtime's error; a
   * RuntimeCrash (injected) is rethrown with the pod left as it was, for `crashed` to record.
   */
  startPod(spec: PodSpec, opts?: PodOpOptions): Promise<PodState>;
  /** Records that the runtime died during this pod's ADD (after a RuntimeCrash). */
  crashed(pod: string, reason: string, detail?: Record<string, unknown>): PodState;
  /** Stop then Remove; a failure is recorded on the pod (it stays terminating) and returned. */
  deletePod(pod: string, opts?: PodOpOptions): Promise<{ ok: boolean; error?: string }>;
  /**
   * After a boot (or a runtime restart), what kubelet does: Stop then Remove each sandbox the runtime
   * lists as not ready (unless the agent forgets them), then start every desired pod that has no
   * running sandbox.
   */
  reconcile(): Promise<{ started: number; failed: number; removed: number; stuck: number }>;
  /** The runtime's last error for a sandbox the agent failed to delete or remove, verbatim. */
  lastError(sandboxId: string): string | undefined;
  /** The node lost power: kubelet's and the runtime's memory are gone. */
  onPowerOff(): void;
}
