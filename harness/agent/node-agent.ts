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

/** The desired pods of a node: each workload's replicas on the nodes it selects (`<wl>-n<i>-<r>`). */
export function workloadPods(workloads: readonly Workload[], node: string, nodeNumber: number): PodSpec[] {
  const specs: PodSpec[] = [];
  for (const wl of workloads) {
    if (wl.nodes && !wl.nodes.includes(node)) continue;
    for (let i = 0; i < (wl.replicasPerNode ?? 1); i++) {
      specs.push({ name: `${wl.name}-n${nodeNumber}-${i}`, node, workload: wl.name, networks: wl.networks ?? [], role: wl.role ?? 'pod' });
    }
  }
  return specs;
}

export class KubeletAgent implements NodeAgent {
  private desiredPods: PodSpec[];
  /** Pods with a sandbox, by name. */
  private readonly states = new Map<string, PodState>();
  /** Sandbox ids of pods being deleted. */
  private readonly deleting = new Set<string>();

  constructor(
    readonly node: Node,
    readonly runtime: SandboxRuntime,
    private readonly timeline: Timeline,
    desired: PodSpec[],
  ) {
    this.desiredPods = [...desired];
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

  async reconcile(): Promise<{ started: number; failed: number }> {
    let started = 0;
    let failed = 0;
    for (const spec of this.desired()) {
      const cur = this.pod(spec.name);
      if (cur && cur.phase !== 'failed') continue;
      const st = await this.startPod(spec);
      if (st.phase === 'running') started++;
      else failed++;
    }
    return { started, failed };
  }

  async startPod(spec: PodSpec, opts: PodOpOptions = {}): Promise<PodState> {
    const started = Date.now();
    const state: PodState = { spec, containerId: '', netnsName: '', netns: '', phase: 'running', attachments: [] };
    this.states.set(spec.name, state);
    try {
      const sb = await this.runtime.runPodSandbox({ name: spec.name, workload: spec.workload, networks: spec.networks, role: spec.role }, opts.crash ? { crash: opts.crash } : {});
      Object.assign(state, { containerId: sb.id, netnsName: sb.netnsName, netns: sb.netns, attachments: sb.attachments });
      this.timeline.add({ kind: 'op', op: 'add', node: this.node.name, pod: spec.name, result: 'ok', durationMs: Date.now() - started, detail: { containerId: sb.id, ips: sb.attachments.flatMap((a) => a.ips), ...opts.detail } });
    } catch (e) {
      const sb = (e as { sandbox?: { id: string; netnsName: string; netns: string } }).sandbox;
      if (sb) Object.assign(state, { containerId: sb.id, netnsName: sb.netnsName, netns: sb.netns });
      if (e instanceof RuntimeCrash) throw e;
      state.phase = 'failed';
      state.error = errorMessage(e);
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
      state.error = errorMessage(e);
      this.timeline.add({ kind: 'op', op: 'del', node: this.node.name, pod, result: 'error', error: state.error, durationMs: Date.now() - started, detail: { containerId: state.containerId, ...opts.detail } });
      return { ok: false, error: state.error };
    } finally {
      this.deleting.delete(state.containerId);
    }
  }
}
