// The node agent (kubelet's role on one node) over any runtime: desired pods from the workloads, a
// sandbox per pod through RunPodSandbox, deletion by Stop then Remove, and after a boot new sandboxes
// for the desired pods. Every pod operation is a timeline entry with the runtime's own error.
import type { Node } from '../backends/types.ts';
import type { Attachment } from '../model/snapshot.ts';
import type { Timeline } from '../model/timeline.ts';
import type { Workload } from '../model/scenario.ts';
import { FaultlineError, errorMessage } from '../errors.ts';
import { RuntimeCrash, StackIncompatibleError, type SandboxRuntime } from '../runtime/types.ts';
import type { NodeAgent, PodOpOptions, PodSpec, PodState } from './types.ts';
import { workloadPod } from './pods.ts';

export { workloadPod };

/** The desired pods of a node: each workload's replicas on the nodes it selects (`<wl>-n<i>-<r>`). */
export function workloadPods(workloads: readonly Workload[], node: string, nodeNumber: number): PodSpec[] {
  const specs: PodSpec[] = [];
  for (const wl of workloads) {
    if (wl.nodes && !wl.nodes.includes(node)) continue;
    for (let i = 0; i < (wl.replicasPerNode ?? 1); i++) {
      specs.push(workloadPod(wl, node, nodeNumber, i));
    }
  }
  return specs;
}

export interface KubeletOptions {
  /**
   * After a boot, Stop then Remove every sandbox the runtime lists as not ready (kubelet does; false
   * models a node that forgot its sandboxes). Default true.
   */
  reconcileAfterBoot?: boolean;
  /** Tries per dead sandbox before it counts as stuck (backoff doubles from 50 ms). Default 4. */
  attempts?: number;
}

export class KubeletAgent implements NodeAgent {
  private desiredPods: PodSpec[];
  /** Pods with a sandbox, by name. */
  private readonly states = new Map<string, PodState>();
  /** Sandbox ids of pods being deleted or dead sandboxes being cleaned up. */
  private readonly deleting = new Set<string>();
  /** The runtime's last error for a sandbox the agent could not remove. */
  private readonly errors = new Map<string, string>();

  constructor(
    readonly node: Node,
    readonly runtime: SandboxRuntime,
    private readonly timeline: Timeline,
    desired: PodSpec[],
    private readonly options: KubeletOptions = {},
  ) {
    this.desiredPods = [...desired];
  }

  lastError(sandboxId: string): string | undefined {
    return this.errors.get(sandboxId);
  }

  desired(): PodSpec[] {
    return [...this.desiredPods];
  }

  addDesired(spec: PodSpec): void {
    this.desiredPods.push(spec);
  }

  removeDesired(pod: string): void {
    const i = this.desiredPods.findIndex((p) => p.name === pod);
    if (i >= 0) this.desiredPods.splice(i, 1);
  }

  pods(): PodState[] {
    return [...this.states.values()];
  }

  pod(name: string): PodState | undefined {
    return this.states.get(name);
  }

  attachments(): Attachment[] {
    return this.pods().filter((p) => p.phase === 'running').flatMap((p) => p.attachments);
  }

  inFlight(): string[] {
    return [...new Set([...this.runtime.inFlight(), ...this.deleting])];
  }

  onPowerOff(): void {
    this.states.clear();
    this.runtime.onPowerOff();
  }

  async reconcile(): Promise<{ started: number; failed: number; removed: number; stuck: number }> {
    let removed = 0;
    let stuck = 0;
    if (this.options.reconcileAfterBoot ?? true) {
      for (const sb of await this.runtime.listPodSandbox()) {
        if (sb.state === 'ready') continue;
        // A pod whose sandbox died gets a new one below.
        const owner = this.pods().find((p) => p.containerId === sb.id);
        if (owner && owner.phase === 'running') this.states.delete(owner.spec.name);
        if (await this.removeDeadSandbox(sb.id, sb.pod)) removed++;
        else stuck++;
      }
    }
    let started = 0;
    let failed = 0;
    for (const spec of this.desired()) {
      const cur = this.pod(spec.name);
      if (cur && cur.phase !== 'failed') continue;
      const st = await this.startPod(spec);
      if (st.phase === 'running') started++;
      else failed++;
    }
    return { started, failed, removed, stuck };
  }

  /** Stop then Remove a dead sandbox, as kubelet does, retrying with backoff; NotFound counts as done. */
  private async removeDeadSandbox(id: string, pod: string): Promise<boolean> {
    const attempts = this.options.attempts ?? 4;
    this.deleting.add(id);
    try {
      for (let attempt = 1, delay = 50; attempt <= attempts; attempt++, delay *= 2) {
        const started = Date.now();
        try {
          await this.runtime.stopPodSandbox(id);
          await this.runtime.removePodSandbox(id);
          this.errors.delete(id);
          this.timeline.add({ kind: 'op', op: 'remove-dead-sandbox', node: this.node.name, pod, result: 'ok', durationMs: Date.now() - started, detail: { containerId: id, attempt } });
          return true;
        } catch (e) {
          const error = describeRuntimeError(e);
          this.errors.set(id, error);
          this.timeline.add({ kind: 'op', op: 'remove-dead-sandbox', node: this.node.name, pod, result: 'error', error, durationMs: Date.now() - started, detail: { containerId: id, attempt, of: attempts } });
          if (attempt < attempts) await new Promise((r) => setTimeout(r, delay));
        }
      }
      return false;
    } finally {
      this.deleting.delete(id);
    }
  }

  async startPod(spec: PodSpec, opts: PodOpOptions = {}): Promise<PodState> {
    const started = Date.now();
    const state: PodState = { spec, containerId: '', netnsName: '', netns: '', phase: 'running', attachments: [] };
    this.states.set(spec.name, state);
    try {
      const sb = await this.runtime.runPodSandbox(
        { name: spec.name, workload: spec.workload, networks: spec.networks, role: spec.role, ...(spec.capabilities ? { capabilities: spec.capabilities } : {}), ...(spec.args ? { args: spec.args } : {}) },
        opts.crash ? { crash: opts.crash } : {},
      );
      Object.assign(state, { containerId: sb.id, netnsName: sb.netnsName, netns: sb.netns, attachments: sb.attachments });
      this.timeline.add({ kind: 'op', op: 'add', node: this.node.name, pod: spec.name, result: 'ok', durationMs: Date.now() - started, detail: { containerId: sb.id, ips: sb.attachments.flatMap((a) => a.ips), networks: sb.attachments.map((a) => ({ network: a.network, ifName: a.ifName, ips: a.ips })), ...opts.detail } });
    } catch (e) {
      const sb = (e as { sandbox?: { id: string; netnsName: string; netns: string } }).sandbox;
      if (sb) Object.assign(state, { containerId: sb.id, netnsName: sb.netnsName, netns: sb.netns });
      if (e instanceof RuntimeCrash) throw e;
      state.phase = 'failed';
      state.error = describeRuntimeError(e);
      state.attachments = [];
      this.timeline.add({ kind: 'op', op: 'add', node: this.node.name, pod: spec.name, result: 'error', error: state.error, durationMs: Date.now() - started, detail: { containerId: state.containerId, ...opts.detail } });
      // Code 1 (incompatible CNI versions) means the stack cannot work at all: the plugins do not
      // speak the config's version. That is an environment failure of the cell, not an outcome.
      if (e instanceof StackIncompatibleError) throw new FaultlineError('environment', `${this.node.name}: pod ${spec.name}: ${e.message}`, { cause: e });
    }
    return state;
  }

  crashed(pod: string, reason: string, detail: Record<string, unknown> = {}): PodState {
    const state = this.pod(pod);
    if (!state) throw new Error(`no sandbox for pod ${pod} on ${this.node.name}`);
    state.phase = 'failed';
    state.error = reason;
    state.attachments = [];
    this.timeline.add({ kind: 'op', op: 'add', node: this.node.name, pod, result: 'error', error: reason, durationMs: 0, detail: { containerId: state.containerId, crash: true, ...detail } });
    return state;
  }

  async deletePod(pod: string, opts: PodOpOptions = {}): Promise<{ ok: boolean; error?: string }> {
    const state = this.pod(pod);
    this.removeDesired(pod);
    if (!state) return { ok: true };
    const started = Date.now();
    state.phase = 'terminating';
    this.deleting.add(state.containerId);
    try {
      if (state.containerId) {
        await this.runtime.stopPodSandbox(state.containerId);
        await this.runtime.removePodSandbox(state.containerId);
      }
      this.states.delete(pod);
      this.timeline.add({ kind: 'op', op: 'del', node: this.node.name, pod, result: 'ok', durationMs: Date.now() - started, detail: { containerId: state.containerId, ...opts.detail } });
      return { ok: true };
    } catch (e) {
      state.error = describeRuntimeError(e);
      this.errors.set(state.containerId, state.error);
      this.timeline.add({ kind: 'op', op: 'del', node: this.node.name, pod, result: 'error', error: state.error, durationMs: Date.now() - started, detail: { containerId: state.containerId, ...opts.detail } });
      return { ok: false, error: state.error };
    } finally {
      this.deleting.delete(state.containerId);
    }
  }
}

/** The runtime's own message, with the gRPC status where the runtime answered over CRI. */
export function describeRuntimeError(e: unknown): string {
  const code = (e as { cri?: { codeName?: string; code?: number } }).cri;
  return code?.codeName ? `${errorMessage(e)} (gRPC ${code.codeName})` : errorMessage(e);
}
