// The node agent's side of pod networking (what kubelet + containerd do for CNI): desired pods per
// node, a sandbox (network namespace + container id) per pod, CNI ADD on start, DEL on delete, and
// after a power cut: new sandboxes for the desired pods, while the old ones are never torn down.
import type { Node } from '../backends/types.ts';
import type { ResolvedStack } from '../profiles/types.ts';
import type { Attachment, Timeline } from '../runner/timeline.ts';
import type { CniResult, CrashPoints, NetworkConfigList, RuntimeConf } from '../runtime/types.ts';
import { CniRuntime } from '../runtime/cni-runtime.ts';
import { nodeRuntimeIo } from './node-io.ts';
import { errorMessage } from '../errors.ts';
import type { Rng } from '../util/rng.ts';
import type { Workload } from '../scenario/schema.ts';

export interface PodSpec {
  name: string;
  node: string;
  workload: string;
  /** Secondary networks (Multus style), attached as net1, net2... */
  networks: string[];
  role: 'pod' | 'nat-gateway';
}

export type PodPhase = 'running' | 'failed' | 'terminating';

export interface PodState {
  spec: PodSpec;
  containerId: string;
  netnsName: string;
  netns: string;
  phase: PodPhase;
  attachments: Attachment[];
  /** The error of the last failed ADD or DEL, verbatim. */
  error?: string;
}

/** A delegate network resolved for a pod: its conflist and the ifname it gets. */
export interface PodNetwork {
  name: string;
  ifName: string;
  conflist: NetworkConfigList;
}

export class PodManager {
  private readonly desiredByNode = new Map<string, PodSpec[]>();
  /** Live sandboxes (what the runtime knows of), by node then pod name. */
  private readonly sandboxes = new Map<string, Map<string, PodState>>();
  private readonly runtimes = new Map<string, CniRuntime>();

  constructor(
    private readonly nodes: readonly Node[],
    private readonly stack: ResolvedStack,
    private readonly timeline: Timeline,
    private readonly rng: Rng,
    workloads: readonly Workload[],
  ) {
    nodes.forEach((node, idx) => {
      const specs: PodSpec[] = [];
      for (const wl of workloads) {
        if (wl.nodes && !wl.nodes.includes(node.name)) continue;
        for (let i = 0; i < (wl.replicasPerNode ?? 1); i++) {
          specs.push({ name: `${wl.name}-n${idx + 1}-${i}`, node: node.name, workload: wl.name, networks: wl.networks ?? [], role: wl.role ?? 'pod' });
        }
      }
      this.desiredByNode.set(node.name, specs);
      this.sandboxes.set(node.name, new Map());
    });
  }

  desired(node?: string): PodSpec[] {
    if (node) return [...(this.desiredByNode.get(node) ?? [])];
    return [...this.desiredByNode.values()].flat();
  }

  /** Adds a desired pod (churn creates pods that are not in the workload). */
  addDesired(spec: PodSpec): void {
    this.desiredByNode.get(spec.node)?.push(spec);
  }

  removeDesired(node: string, pod: string): void {
    const list = this.desiredByNode.get(node);
    if (!list) return;
    const i = list.findIndex((p) => p.name === pod);
    if (i >= 0) list.splice(i, 1);
  }

  pods(node?: string): PodState[] {
    if (node) return [...(this.sandboxes.get(node)?.values() ?? [])];
    return [...this.sandboxes.values()].flatMap((m) => [...m.values()]);
  }

  pod(node: string, name: string): PodState | undefined {
    return this.sandboxes.get(node)?.get(name);
  }

  /** Attachments of pods the runtime believes are running. */
  attachments(node?: string): Attachment[] {
    return this.pods(node).filter((p) => p.phase === 'running').flatMap((p) => p.attachments);
  }

  runtime(node: Node): CniRuntime {
    let rt = this.runtimes.get(node.name);
    if (!rt) {
      const io = nodeRuntimeIo(node);
      rt = new CniRuntime({ invoker: io.invoker, cacheFs: io.cacheFs, profile: this.stack.runtime });
      this.runtimes.set(node.name, rt);
    }
    return rt;
  }

  /** The node lost power: its sandboxes and the runtime's memory are gone; nobody calls DEL. */
  onPowerOff(node: Node): void {
    this.sandboxes.get(node.name)?.clear();
    this.runtimes.delete(node.name);
  }

  /** Start every desired pod that has no running sandbox (kubelet after a boot). */
  async reconcile(node: Node): Promise<{ started: number; failed: number }> {
    let started = 0;
    let failed = 0;
    for (const spec of this.desired(node.name)) {
      const cur = this.pod(node.name, spec.name);
      if (cur && cur.phase !== 'failed') continue;
      const st = await this.startPod(node, spec);
      if (st.phase === 'running') started++;
      else failed++;
    }
    return { started, failed };
  }

  /** The default network: the first file in sorted order of the node's /etc/cni/net.d, as libcni picks it. */
  async defaultNetwork(node: Node): Promise<PodNetwork> {
    const files = (await node.list('/etc/cni/net.d')).filter((f) => /\.(conflist|conf|json)$/.test(f)).sort();
    const first = files[0];
    if (!first) throw new Error('no network config found in /etc/cni/net.d');
    return { name: '', ifName: 'eth0', conflist: await readNetworkFile(node, `/etc/cni/net.d/${first}`) };
  }

  /**
   * Networks of a pod in attach order: default first, then secondary ones by name.
   * Subclass-free extension point for delegation semantics (see multi-network).
   */
  async podNetworks(node: Node, spec: PodSpec): Promise<PodNetwork[]> {
    const def = await this.defaultNetwork(node);
    if (spec.networks.length) {
      throw new Error(`secondary networks (${spec.networks.join(', ')}) need a delegation profile`);
    }
    return [{ ...def, name: def.conflist.name }];
  }

  private newContainerId(): string {
    return this.rng.hex(64);
  }

  private runtimeConf(spec: PodSpec, containerId: string, netns: string, ifName: string): RuntimeConf {
    return {
      containerId,
      netns,
      ifName,
      args: [
        ['IgnoreUnknown', '1'],
        ['K8S_POD_NAMESPACE', 'default'],
        ['K8S_POD_NAME', spec.name],
        ['K8S_POD_INFRA_CONTAINER_ID', containerId],
      ],
    };
  }

  /**
   * RunPodSandbox: new netns, ADD on every network. On failure the sandbox is torn down (DEL, netns
   * removed) as containerd does, and the pod is left 'failed' with the plugin's error.
   */
  async startPod(node: Node, spec: PodSpec, crash?: CrashPoints): Promise<PodState> {
    const containerId = this.newContainerId();
    const netnsName = `cni-${containerId.slice(0, 8)}-${containerId.slice(8, 12)}-${containerId.slice(12, 16)}`;
    const started = Date.now();
    const state: PodState = { spec, containerId, netnsName, netns: `/run/netns/${netnsName}`, phase: 'running', attachments: [] };
    this.sandboxes.get(node.name)!.set(spec.name, state);
    try {
      state.netns = await node.createNetns(netnsName);
      const nets = await this.podNetworks(node, spec);
      for (const net of nets) {
        const rt = this.runtimeConf(spec, containerId, state.netns, net.ifName);
        const result: CniResult = await this.runtime(node).addNetworkList(net.conflist, rt, crash);
        state.attachments.push({
          pod: spec.name,
          network: net.conflist.name,
          containerId,
          ifName: net.ifName,
          netns: state.netns,
          ips: (result.ips ?? []).map((ip) => ip.address.split('/')[0]!),
        });
      }
      this.timeline.add({ kind: 'op', op: 'add', node: node.name, pod: spec.name, result: 'ok', durationMs: Date.now() - started, detail: { containerId, ips: state.attachments.flatMap((a) => a.ips) } });
    } catch (e) {
      if (isCrash(e)) throw e;
      state.phase = 'failed';
      state.error = errorMessage(e);
      this.timeline.add({ kind: 'op', op: 'add', node: node.name, pod: spec.name, result: 'error', error: state.error, durationMs: Date.now() - started, detail: { containerId } });
      // containerd tears down a sandbox whose network setup failed.
      await this.teardown(node, state).catch(() => undefined);
      state.attachments = [];
    }
    return state;
  }

  /** DEL on every network (reverse order), then the netns goes. A failed DEL keeps the sandbox. */
  private async teardown(node: Node, state: PodState): Promise<void> {
    const nets = await this.podNetworks(node, state.spec).catch(() => [] as PodNetwork[]);
    const errors: string[] = [];
    for (const net of [...nets].reverse()) {
      try {
        await this.runtime(node).delNetworkList(net.conflist, this.runtimeConf(state.spec, state.containerId, state.netns, net.ifName));
      } catch (e) {
        errors.push(`failed to destroy network for sandbox "${state.containerId}": ${errorMessage(e)}`);
      }
    }
    if (errors.length) throw new Error(errors.join('; '));
    await node.deleteNetns(state.netnsName);
  }

  /** StopPodSandbox + remove: DEL, then the netns. The pod leaves the desired set. */
  async deletePod(node: Node, podName: string): Promise<{ ok: boolean; error?: string }> {
    const state = this.pod(node.name, podName);
    this.removeDesired(node.name, podName);
    if (!state) return { ok: true };
    const started = Date.now();
    state.phase = 'terminating';
    try {
      await this.teardown(node, state);
      this.sandboxes.get(node.name)!.delete(podName);
      this.timeline.add({ kind: 'op', op: 'del', node: node.name, pod: podName, result: 'ok', durationMs: Date.now() - started, detail: { containerId: state.containerId } });
      return { ok: true };
    } catch (e) {
      state.error = errorMessage(e);
      this.timeline.add({ kind: 'op', op: 'del', node: node.name, pod: podName, result: 'error', error: state.error, durationMs: Date.now() - started, detail: { containerId: state.containerId } });
      return { ok: false, error: state.error };
    }
  }
}

export async function readNetworkFile(node: Node, file: string): Promise<NetworkConfigList> {
  const raw = JSON.parse((await node.readFile(file)).toString('utf8')) as Record<string, unknown>;
  if (Array.isArray(raw.plugins)) return raw as NetworkConfigList;
  // A single .conf: libcni wraps it as a list of one.
  const { cniVersion, name, ...plugin } = raw as { cniVersion: string; name: string };
  return { cniVersion, name, plugins: [{ ...plugin }] };
}

/** A crash injected by a fault: it must unwind through the pod manager untouched. */
export class RuntimeCrash extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeCrash';
  }
}

function isCrash(e: unknown): boolean {
  return e instanceof RuntimeCrash;
}
