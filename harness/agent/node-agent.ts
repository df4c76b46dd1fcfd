// The node agent's side of pod networking (what kubelet + containerd do for CNI): desired pods per
// node, a sandbox (network namespace + container id) per pod, CNI ADD on start, DEL on delete, and
// after a power cut: new sandboxes for the desired pods, while the old ones are never torn down.
import type { Node } from '../backends/types.ts';
import type { ResolvedStack } from '../model/profile.ts';
import type { Attachment, Timeline } from '../model/timeline.ts';
import type { CniResult, CrashPoints, NetworkConfigList, RuntimeConf } from '../runtime/libcni/types.ts';
import { CniRuntime } from '../runtime/libcni/cni-runtime.ts';
import { nodeRuntimeIo } from '../runtime/model/node-io.ts';
import { CniPluginError } from '../runtime/libcni/errors.ts';
import { FaultlineError, errorMessage } from '../errors.ts';
import type { Rng } from '../util/rng.ts';
import type { Workload } from '../scenario/schema.ts';
import { NetworkStore } from '../cluster/network-store.ts';
import { MultiNetwork, setupNatGateway, type Delegate } from '../runtime/model/multi-network.ts';

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
  /** Multi-network: 'eip' is a NAT gateway's elastic-address reservation (IPAM only). */
  role?: Delegate['role'];
}

/** Extra fields for a pod operation's timeline entry (e.g. the churn operation it belongs to). */
export interface PodOpOptions {
  detail?: Record<string, unknown>;
}

export class PodManager {
  private readonly desiredByNode = new Map<string, PodSpec[]>();
  /** Live sandboxes (what the runtime knows of), by node then pod name. */
  private readonly sandboxes = new Map<string, Map<string, PodState>>();
  private readonly runtimes = new Map<string, CniRuntime>();
  private readonly configCache = new Map<string, { dirMtimeMs: number; file: string; fileMtimeMs: number; size: number; conflist: NetworkConfigList }>();
  /** The cluster's network definitions (NetworkAttachmentDefinitions); see network-store.ts. */
  readonly networks: NetworkStore;
  /** Set when the profile has secondary networks: pods attach as Multus attaches them. */
  readonly multi: MultiNetwork | undefined;
  /** Container ids with an ADD or DEL under way, by node (invariants skip them mid-churn). */
  private readonly busy = new Map<string, Set<string>>();
  /** Sandboxes whose failed ADD was already torn down completely (nothing left to DEL). */
  private readonly tornDown = new Set<string>();

  constructor(
    nodes: readonly Node[],
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
      this.busy.set(node.name, new Set());
    });
    this.networks = new NetworkStore(stack.profile.networks);
    this.multi = stack.profile.networks.some((n) => n.secondary)
      ? new MultiNetwork(this.networks, stack, (node) => ({ podSubnet: node.spec.podSubnet, index: Math.max(0, nodes.findIndex((n) => n.name === node.name)) }))
      : undefined;
  }

  /** Container ids of pods whose ADD or DEL is under way on a node. */
  inFlight(node: string): string[] {
    return [...(this.busy.get(node) ?? [])];
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
    this.configCache.delete(node.name);
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

  /**
   * The default network: the first file in sorted order of the node's /etc/cni/net.d, as libcni picks
   * it. Like containerd, the parsed config is kept in memory and reloaded when the directory or the
   * file changes.
   */
  async defaultNetwork(node: Node): Promise<PodNetwork> {
    const dirStat = await node.stat('/etc/cni/net.d');
    const cached = this.configCache.get(node.name);
    if (cached && dirStat && cached.dirMtimeMs === dirStat.mtimeMs) {
      const fileStat = await node.stat(cached.file);
      if (fileStat && fileStat.mtimeMs === cached.fileMtimeMs && fileStat.size === cached.size) return { name: '', ifName: 'eth0', conflist: cached.conflist };
    }
    const files = (await node.list('/etc/cni/net.d')).filter((f) => /\.(conflist|conf|json)$/.test(f)).sort();
    const first = files[0];
    if (!first) throw new Error('no network config found in /etc/cni/net.d');
    const file = `/etc/cni/net.d/${first}`;
    const fileStat = await node.stat(file);
    const conflist = await readNetworkFile(node, file);
    if (dirStat && fileStat) this.configCache.set(node.name, { dirMtimeMs: dirStat.mtimeMs, file, fileMtimeMs: fileStat.mtimeMs, size: fileStat.size, conflist });
    return { name: '', ifName: 'eth0', conflist };
  }

  /**
   * Networks of a pod in attach order: default first, then secondary ones by name.
   * Subclass-free extension point for delegation semantics (see multi-network).
   */
  async podNetworks(node: Node, spec: PodSpec): Promise<PodNetwork[]> {
    if (this.multi) return this.multi.resolve(node, spec, 'ADD');
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
  async startPod(node: Node, spec: PodSpec, crash?: CrashPoints, opts: PodOpOptions = {}): Promise<PodState> {
    const containerId = this.newContainerId();
    const netnsName = `cni-${containerId.slice(0, 8)}-${containerId.slice(8, 12)}-${containerId.slice(12, 16)}`;
    const started = Date.now();
    const state: PodState = { spec, containerId, netnsName, netns: `/run/netns/${netnsName}`, phase: 'running', attachments: [] };
    this.sandboxes.get(node.name)!.set(spec.name, state);
    const busy = this.busy.get(node.name)!;
    busy.add(containerId);
    let nets: PodNetwork[] | undefined;
    let lan: string | undefined;
    try {
      state.netns = await node.createNetns(netnsName);
      nets = await this.podNetworks(node, spec);
      if (this.multi) await this.multi.saveDelegates(node, containerId, spec.name, nets as Delegate[]);
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
        if (net.ifName === 'eth0') lan = result.ips?.[0]?.address;
      }
      if (spec.role === 'nat-gateway') await this.natGateway(node, state, lan);
      this.timeline.add({ kind: 'op', op: 'add', node: node.name, pod: spec.name, result: 'ok', durationMs: Date.now() - started, detail: { containerId, ips: state.attachments.flatMap((a) => a.ips), ...opts.detail } });
    } catch (e) {
      if (isCrash(e)) {
        busy.delete(containerId);
        throw e;
      }
      state.phase = 'failed';
      state.error = errorMessage(e);
      this.timeline.add({ kind: 'op', op: 'add', node: node.name, pod: spec.name, result: 'error', error: state.error, durationMs: Date.now() - started, detail: { containerId, ...opts.detail } });
      // Code 1 (incompatible CNI versions) means the stack cannot work at all: the plugins do not
      // speak the config's version. That is an environment failure of the cell, not an outcome.
      if (e instanceof CniPluginError && e.command === 'ADD' && e.code === 1) {
        throw new FaultlineError('environment', `${node.name}: pod ${spec.name}: ${e.message}`, { cause: e });
      }
      // containerd tears down a sandbox whose network setup failed (with what ADD resolved).
      await this.teardown(node, state, this.multi ? (nets ?? []) : undefined).then(() => this.multi && this.tornDown.add(containerId), () => undefined);
      state.attachments = [];
    } finally {
      busy.delete(containerId);
    }
    return state;
  }

  /** A NAT gateway: the elastic address on net1, SNAT/DNAT for it inside the pod's netns. */
  private async natGateway(node: Node, state: PodState, lan: string | undefined): Promise<void> {
    const ext = state.attachments.find((a) => a.ifName === 'net1');
    const eip = state.attachments.find((a) => a.ifName === 'eip0')?.ips[0];
    if (!ext || !eip || !lan) throw new Error(`nat-gateway ${state.spec.name}: needs eth0, net1 and an elastic address (has ${state.attachments.map((a) => a.ifName).join(', ') || 'nothing'})`);
    await setupNatGateway(node, state.netns, { lanCidr: lan, lanIp: lan.split('/')[0]!, eip, externalIf: 'net1' });
  }

  /**
   * The runtime died during this pod's ADD (a RuntimeCrash from a CrashPoints hook). What the runtime
   * held in memory is gone: the ADD's result, its plugin VERSION answers. The sandbox record (container
   * id, netns) is persisted by containerd, and the netns and whatever the plugins made in the kernel
   * stay, so a later delete still DELs it. The pod is not running.
   */
  crashed(node: Node, podName: string, reason: string, detail: Record<string, unknown> = {}): PodState {
    const state = this.pod(node.name, podName);
    if (!state) throw new Error(`no sandbox for pod ${podName} on ${node.name}`);
    state.phase = 'failed';
    state.error = reason;
    state.attachments = [];
    this.runtimes.delete(node.name);
    this.timeline.add({ kind: 'op', op: 'add', node: node.name, pod: podName, result: 'error', error: reason, durationMs: 0, detail: { containerId: state.containerId, crash: true, ...detail } });
    return state;
  }

  /**
   * DEL on every network (reverse order), then the netns goes. A failed DEL keeps the sandbox.
   * Multi-network pods get their delegates per the delegation semantics; a missing definition
   * stops the whole teardown (nothing is DELed, the netns stays).
   */
  private async teardown(node: Node, state: PodState, resolved?: PodNetwork[]): Promise<void> {
    let nets: PodNetwork[];
    if (resolved) nets = resolved;
    else if (this.multi) nets = (await this.multi.delegatesForDel(node, state.spec, state.containerId)).delegates;
    else {
      // Without a readable network config the runtime cannot tear the pod down (containerd fails the
      // same way); skipping DEL would hide the leak.
      try {
        nets = await this.podNetworks(node, state.spec);
      } catch (e) {
        throw new Error(`failed to destroy network for sandbox "${state.containerId}": ${errorMessage(e)}`);
      }
    }
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
    if (this.multi) await this.multi.forget(node, state.containerId);
  }

  /** StopPodSandbox + remove: DEL, then the netns. The pod leaves the desired set. */
  async deletePod(node: Node, podName: string, opts: PodOpOptions = {}): Promise<{ ok: boolean; error?: string }> {
    const state = this.pod(node.name, podName);
    this.removeDesired(node.name, podName);
    if (!state) return { ok: true };
    const started = Date.now();
    state.phase = 'terminating';
    const busy = this.busy.get(node.name)!;
    busy.add(state.containerId);
    try {
      // A sandbox whose failed ADD was already torn down holds nothing more.
      if (!this.tornDown.delete(state.containerId)) await this.teardown(node, state);
      this.sandboxes.get(node.name)!.delete(podName);
      this.timeline.add({ kind: 'op', op: 'del', node: node.name, pod: podName, result: 'ok', durationMs: Date.now() - started, detail: { containerId: state.containerId, ...opts.detail } });
      return { ok: true };
    } catch (e) {
      state.error = errorMessage(e);
      this.timeline.add({ kind: 'op', op: 'del', node: node.name, pod: podName, result: 'error', error: state.error, durationMs: Date.now() - started, detail: { containerId: state.containerId, ...opts.detail } });
      return { ok: false, error: state.error };
    } finally {
      busy.delete(state.containerId);
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
