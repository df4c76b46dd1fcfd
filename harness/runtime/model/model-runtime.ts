// The `model` runtime of one node: what containerd's CRI plugin does for pod networking, built on
// faultline's libcni model (runtime/libcni/). A sandbox is a network namespace plus a record; its
// networks come from the node's /etc/cni/net.d (the first file in sorted order, reloaded when it
// changes, as containerd does), or for multi-network stacks from the cluster's definitions (Multus).
// Records are kept on the node's disk (as containerd keeps its metadata under /var/lib/containerd),
// so after a power cut the runtime lists the old sandboxes as not ready and a Stop DELs them with an
// empty netns path, as containerd does. Crash points let a fault stop libcni between two writes
// (crash-during-add).
import type { Node } from '../../backends/types.ts';
import type { ResolvedStack, RuntimeProfile } from '../../model/profile.ts';
import type { NetworkConfigList, RuntimeConf } from '../../model/cni.ts';
import { CniRuntime } from '../libcni/cni-runtime.ts';
import { CniPluginError } from '../libcni/errors.ts';
import { nodeRuntimeIo, readNetworkConfig } from '../libcni/node-io.ts';
import { errorMessage } from '../../errors.ts';
import { MultiNetwork, setupNatGateway, type Delegate } from './multi-network.ts';
import { cniCapabilityArgs } from '../capabilities.ts';
import { RuntimeCrash, StackIncompatibleError, type RunSandboxOptions, type RuntimeGc, type RuntimeStatus, type Sandbox, type SandboxConfig, type SandboxRuntime } from '../types.ts';

/** A delegate network resolved for a pod: its conflist and the ifname it gets. */
export interface PodNetwork {
  name: string;
  ifName: string;
  conflist: NetworkConfigList;
  /** Multi-network: 'eip' is a NAT gateway's elastic-address reservation (IPAM only). */
  role?: Delegate['role'];
}

interface SandboxRecord {
  sandbox: Sandbox;
  config: SandboxConfig;
  /** A failed ADD was torn down completely: nothing is left to DEL. */
  released: boolean;
}

/** Where the model keeps its sandbox records on a node's disk. */
export const MODEL_SANDBOX_DIR = '/var/lib/containerd/faultline-model/sandboxes';

export interface ModelRuntimeOptions {
  node: Node;
  stack: ResolvedStack;
  /** The libcni release the model follows. */
  profile: RuntimeProfile;
  /** Sandbox ids (shared by the cell's nodes, seeded: a run replays with the same ids). */
  newId: () => string;
  /** Multus-style attachment when the stack has secondary networks. */
  multi?: MultiNetwork;
}

/** Code 1 (incompatible CNI versions): the plugins do not speak the config's version at all. */
function isIncompatibleVersions(e: unknown): e is CniPluginError {
  return e instanceof CniPluginError && e.command === 'ADD' && e.code === 1;
}

export class ModelRuntime implements SandboxRuntime {
  readonly capabilities = { crashPoints: true };
  readonly description: string;
  readonly gc: RuntimeGc;
  private readonly node: Node;
  private readonly records = new Map<string, SandboxRecord>();
  private readonly busy = new Set<string>();
  private libcni: CniRuntime | undefined;
  private configCache: { dirMtimeMs: number; file: string; fileMtimeMs: number; size: number; conflist: NetworkConfigList } | undefined;

  constructor(private readonly opts: ModelRuntimeOptions) {
    this.node = opts.node;
    this.description = `${opts.profile.name} (model)`;
    this.gc = {
      networks: () => this.cniNetworks(),
      gcNetwork: (list, valid) => this.cni().gcNetworkList(list, valid),
    };
  }

  /** libcni's in-memory state (VERSION answers); a crash or a power cut loses it. */
  private cni(): CniRuntime {
    if (!this.libcni) {
      const io = nodeRuntimeIo(this.node);
      this.libcni = new CniRuntime({ invoker: io.invoker, cacheFs: io.cacheFs, profile: this.opts.profile });
    }
    return this.libcni;
  }

  async status(): Promise<RuntimeStatus> {
    return { ready: this.node.running, networkReady: this.node.running };
  }

  inFlight(): string[] {
    return [...this.busy];
  }

  /** After a boot: the records on disk are the sandboxes of before the power cut, none of them ready. */
  async start(): Promise<void> {
    if (this.records.size) return;
    for (const name of await this.node.list(MODEL_SANDBOX_DIR)) {
      try {
        const r = JSON.parse((await this.node.readFile(`${MODEL_SANDBOX_DIR}/${name}`)).toString('utf8')) as SandboxRecord;
        if (!r?.sandbox?.id) continue;
        this.records.set(r.sandbox.id, { ...r, sandbox: { ...r.sandbox, state: 'notready', attachments: [] } });
      } catch {
        // An unreadable record (lost in the power cut): containerd would not list it either.
      }
    }
  }

  private async persist(record: SandboxRecord): Promise<void> {
    await this.node.writeFile(`${MODEL_SANDBOX_DIR}/${record.sandbox.id}`, JSON.stringify(record) + '\n', 0o600);
  }

  /** A crash of the runtime process: its memory (libcni's VERSION answers, the parsed config) is gone. */
  async kill(): Promise<void> {
    this.libcni = undefined;
    this.configCache = undefined;
  }

  async restart(): Promise<void> {
    await this.kill();
  }

  onPowerOff(): void {
    this.records.clear();
    this.libcni = undefined;
    this.configCache = undefined;
  }

  async listPodSandbox(): Promise<Sandbox[]> {
    return [...this.records.values()].map((r) => ({ ...r.sandbox, attachments: [...r.sandbox.attachments] }));
  }

  async runPodSandbox(config: SandboxConfig, opts: RunSandboxOptions = {}): Promise<Sandbox> {
    const id = this.opts.newId();
    const netnsName = `cni-${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}`;
    const sandbox: Sandbox = { id, pod: config.name, state: 'ready', createdAtMs: Date.now(), netnsName, netns: `/run/netns/${netnsName}`, attachments: [] };
    const record: SandboxRecord = { sandbox, config, released: false };
    this.records.set(id, record);
    this.busy.add(id);
    await this.persist(record);
    let nets: PodNetwork[] | undefined;
    let lan: string | undefined;
    try {
      sandbox.netns = await this.node.createNetns(netnsName);
      nets = await this.podNetworks(config);
      if (this.opts.multi) await this.opts.multi.saveDelegates(this.node, id, config.name, nets as Delegate[]);
      for (const net of nets) {
        const result = await this.cni().addNetworkList(net.conflist, this.runtimeConf(config, id, sandbox.netns, net.ifName), opts.crash);
        sandbox.attachments.push({
          pod: config.name,
          network: net.conflist.name,
          containerId: id,
          ifName: net.ifName,
          netns: sandbox.netns,
          ips: (result.ips ?? []).map((ip) => ip.address.split('/')[0]!),
        });
        if (net.ifName === 'eth0') lan = result.ips?.[0]?.address;
      }
      if (config.role === 'nat-gateway') await this.natGateway(sandbox, lan);
      await this.persist(record);
      return { ...sandbox, attachments: [...sandbox.attachments] };
    } catch (e) {
      sandbox.state = 'notready';
      if (e instanceof RuntimeCrash) {
        // The runtime died: its memory of the ADD is gone; the record (id, netns) was persisted.
        sandbox.attachments = [];
        this.libcni = undefined;
        e.sandbox = { ...sandbox, attachments: [] };
        throw e;
      }
      if (isIncompatibleVersions(e)) throw new StackIncompatibleError(e.message, { cause: e });
      // containerd tears down a sandbox whose network setup failed (with what ADD resolved).
      await this.teardown(record, this.opts.multi ? (nets ?? []) : undefined)
        .then(() => this.release(record))
        .then(
          () => {
            record.released = true;
          },
          () => undefined,
        );
      sandbox.attachments = [];
      await this.persist(record).catch(() => undefined);
      throw e;
    } finally {
      this.busy.delete(id);
    }
  }

  async stopPodSandbox(id: string): Promise<void> {
    const record = this.records.get(id);
    if (!record || record.released) return; // unknown, or nothing left to release
    this.busy.add(id);
    try {
      await this.teardown(record);
      record.released = true;
      record.sandbox.state = 'notready';
      await this.persist(record);
    } finally {
      this.busy.delete(id);
    }
  }

  async removePodSandbox(id: string): Promise<void> {
    const record = this.records.get(id);
    if (!record) return;
    await this.release(record);
    await this.node.removeFile(`${MODEL_SANDBOX_DIR}/${id}`);
    this.records.delete(id);
  }

  /** The sandbox's network namespace and its cached delegates go. */
  private async release(record: SandboxRecord): Promise<void> {
    await this.node.deleteNetns(record.sandbox.netnsName);
    if (this.opts.multi) await this.opts.multi.forget(this.node, record.sandbox.id);
  }

  /**
   * The default network: the first file in sorted order of the node's /etc/cni/net.d, as libcni picks
   * it. Like containerd, the parsed config is kept in memory and reloaded when the directory or the
   * file changes.
   */
  async defaultNetwork(): Promise<PodNetwork> {
    const node = this.node;
    const dirStat = await node.stat('/etc/cni/net.d');
    const cached = this.configCache;
    if (cached && dirStat && cached.dirMtimeMs === dirStat.mtimeMs) {
      const fileStat = await node.stat(cached.file);
      if (fileStat && fileStat.mtimeMs === cached.fileMtimeMs && fileStat.size === cached.size) return { name: '', ifName: 'eth0', conflist: cached.conflist };
    }
    const files = (await node.list('/etc/cni/net.d')).filter((f) => /\.(conflist|conf|json)$/.test(f)).sort();
    const first = files[0];
    if (!first) throw new Error('no network config found in /etc/cni/net.d');
    const file = `/etc/cni/net.d/${first}`;
    const fileStat = await node.stat(file);
    const conflist = await readNetworkConfig(node, file);
    if (dirStat && fileStat) this.configCache = { dirMtimeMs: dirStat.mtimeMs, file, fileMtimeMs: fileStat.mtimeMs, size: fileStat.size, conflist };
    return { name: '', ifName: 'eth0', conflist };
  }

  /** Networks of a pod in attach order: the default first, then the secondary ones by name. */
  private async podNetworks(config: SandboxConfig): Promise<PodNetwork[]> {
    if (this.opts.multi) return this.opts.multi.resolve(this.node, config, 'ADD');
    const def = await this.defaultNetwork();
    if (config.networks.length) {
      throw new Error(`secondary networks (${config.networks.join(', ')}) need a delegation profile`);
    }
    return [{ ...def, name: def.conflist.name }];
  }

  /** Every network config of the node's /etc/cni/net.d, in libcni's order (GC). */
  private async cniNetworks(): Promise<NetworkConfigList[]> {
    const files = (await this.node.list('/etc/cni/net.d')).filter((f) => /\.(conflist|conf|json)$/.test(f)).sort();
    return Promise.all(files.map((f) => readNetworkConfig(this.node, `/etc/cni/net.d/${f}`)));
  }

  private runtimeConf(config: SandboxConfig, containerId: string, netns: string, ifName: string): RuntimeConf {
    const capabilityArgs = cniCapabilityArgs(config.capabilities);
    return {
      containerId,
      netns,
      ifName,
      args: [
        ['IgnoreUnknown', '1'],
        ['K8S_POD_NAMESPACE', 'default'],
        ['K8S_POD_NAME', config.name],
        ['K8S_POD_INFRA_CONTAINER_ID', containerId],
        ...Object.entries(config.args ?? {}),
      ],
      ...(capabilityArgs ? { capabilityArgs } : {}),
    };
  }

  /** A NAT gateway: the elastic address on net1, SNAT/DNAT for it inside the pod's netns. */
  private async natGateway(sandbox: Sandbox, lan: string | undefined): Promise<void> {
    const ext = sandbox.attachments.find((a) => a.ifName === 'net1');
    const eip = sandbox.attachments.find((a) => a.ifName === 'eip0')?.ips[0];
    if (!ext || !eip || !lan) throw new Error(`nat-gateway ${sandbox.pod}: needs eth0, net1 and an elastic address (has ${sandbox.attachments.map((a) => a.ifName).join(', ') || 'nothing'})`);
    await setupNatGateway(this.node, sandbox.netns, { lanCidr: lan, lanIp: lan.split('/')[0]!, eip, externalIf: 'net1' });
  }

  /**
   * CNI DEL on every network (reverse order). Multi-network pods get their delegates per the
   * delegation semantics; a missing definition stops the whole teardown (nothing is DELed).
   * `resolved`: what a failed ADD resolved.
   */
  private async teardown(record: SandboxRecord, resolved?: PodNetwork[]): Promise<void> {
    const { sandbox, config } = record;
    let nets: PodNetwork[];
    if (resolved) nets = resolved;
    else if (this.opts.multi) nets = (await this.opts.multi.delegatesForDel(this.node, config, sandbox.id)).delegates;
    else {
      // Without a readable network config the runtime cannot tear the pod down (containerd fails the
      // same way); skipping DEL would hide the leak.
      try {
        nets = await this.podNetworks(config);
      } catch (e) {
        throw new Error(`failed to destroy network for sandbox "${sandbox.id}": ${errorMessage(e)}`);
      }
    }
    // After a power cut the namespace is gone: DEL gets an empty netns path, as containerd gives it.
    const netns = (await this.node.listNetns()).includes(sandbox.netnsName) ? sandbox.netns : '';
    const errors: string[] = [];
    for (const net of [...nets].reverse()) {
      try {
        await this.cni().delNetworkList(net.conflist, this.runtimeConf(config, sandbox.id, netns, net.ifName));
      } catch (e) {
        errors.push(`failed to destroy network for sandbox "${sandbox.id}": ${errorMessage(e)}`);
      }
    }
    if (errors.length) throw new Error(errors.join('; '));
  }
}
