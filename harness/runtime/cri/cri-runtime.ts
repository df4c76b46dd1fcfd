// The `cri` runtime of one node: the real containerd, started inside the node on its own disk and
// tmpfs /run, driven over CRI as kubelet drives it. Its CRI plugin and the libcni it was built with do
// the pod networking, so every error a scenario sees is containerd's own, with its gRPC status.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Node, NodeDaemon } from '../../backends/types.ts';
import type { Attachment } from '../../model/snapshot.ts';
import { parseNetworkConfigFile } from '../libcni/cni-runtime.ts';
import { CriClient, CriError, GRPC_NOT_FOUND, type PodSandboxConfig, type PodSandboxItem } from './cri-client.ts';
import { CONTAINERD_CONFIG, CONTAINERD_SOCKET, PAUSE_IMAGE, containerdConfig, configGeneration } from './containerd-config.ts';
import { buildPauseImage, type PauseImage } from './pause-image.ts';
import type { RunSandboxOptions, RuntimeStatus, Sandbox, SandboxConfig, SandboxRuntime } from '../types.ts';
import { bandwidthAnnotations } from '../capabilities.ts';

/** Where the runtime's binaries are inside the node (the backend mounts them read-only). */
export const RUNTIME_BIN = '/opt/faultline/runtime/bin';

/** A provisioned containerd: what the node runs and what the report shows. */
export interface ContainerdComponent {
  /** containerd's own version (e.g. 1.6.20~ds1): decides the config generation. */
  version: string;
  /** The CRI api.proto (runtime.v1) on the host. */
  protoFile: string;
}

/** A CRI call that failed: the runtime's message, verbatim, with the gRPC status. */
export class RuntimeCallError extends Error {
  constructor(readonly cri: CriError) {
    super(cri.details);
    this.name = 'RuntimeCallError';
  }
}

let pauseImage: Promise<PauseImage> | undefined;

export interface CriRuntimeOptions {
  node: Node;
  component: ContainerdComponent;
  /** How long containerd may take to answer after it starts. */
  readyTimeoutMs?: number;
}

export class CriRuntime implements SandboxRuntime {
  readonly capabilities = { crashPoints: false };
  readonly description: string;
  private readonly node: Node;
  private client: CriClient | undefined;
  private daemon: NodeDaemon | undefined;
  private readonly busy = new Set<string>();
  private creating = 0;

  constructor(private readonly opts: CriRuntimeOptions) {
    this.node = opts.node;
    this.description = `containerd ${opts.component.version}`;
  }

  /** containerd's process, while it runs. */
  get process(): NodeDaemon | undefined {
    return this.daemon?.running ? this.daemon : undefined;
  }

  /**
   * Starts containerd on the node (after a boot, or after it was killed), waits until CRI answers,
   * and imports the pause image when the node's disk does not have it yet.
   */
  async start(): Promise<void> {
    if (this.process) return;
    const node = this.node;
    await node.writeFile(CONTAINERD_CONFIG, containerdConfig(configGeneration(this.opts.component.version)), 0o644);
    this.daemon = await node.startDaemon('containerd', [`${RUNTIME_BIN}/containerd`, '--config', CONTAINERD_CONFIG], {
      // Its own shim first on PATH; runc from the host.
      env: { PATH: `${RUNTIME_BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` },
    });
    await this.waitReady();
    if (!(await this.client!.hasImage(PAUSE_IMAGE))) await this.importPause();
  }

  /** Until containerd's socket exists and CRI answers (a client made before the socket exists waits on gRPC's backoff). */
  private async waitReady(): Promise<void> {
    const deadline = Date.now() + (this.opts.readyTimeoutMs ?? 30_000);
    const socket = this.node.hostPath(CONTAINERD_SOCKET);
    this.client?.close();
    this.client = undefined;
    let last = 'its socket does not exist yet';
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      if (!this.daemon?.running) {
        throw new Error(`containerd on ${this.node.name} exited while starting (see /var/log/containerd.log on the node)${last ? `: ${last}` : ''}`);
      }
      if (!this.client && existsSync(socket)) this.client = new CriClient(this.opts.component.protoFile, socket);
      if (this.client) {
        try {
          await this.client.version(1000);
          return;
        } catch (e) {
          last = e instanceof CriError ? `${e.codeName}: ${e.details}` : String(e);
        }
      }
      if (Date.now() > deadline) throw new Error(`containerd on ${this.node.name} did not answer CRI within ${this.opts.readyTimeoutMs ?? 30_000} ms: ${last}`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** `ctr images import` inside the node; CRI sees the image a few ms later. */
  private async importPause(): Promise<void> {
    pauseImage ??= buildPauseImage();
    const img = await pauseImage;
    await this.node.writeFile('/tmp/faultline-pause.tar', img.tar, 0o644);
    const r = await this.node.exec([`${RUNTIME_BIN}/ctr`, '--address', CONTAINERD_SOCKET, '-n', 'k8s.io', 'images', 'import', '/tmp/faultline-pause.tar'], { timeoutMs: 60_000 });
    await this.node.removeFile('/tmp/faultline-pause.tar');
    if (r.exitCode !== 0) throw new Error(`importing the pause image into containerd on ${this.node.name} failed: ${r.stderr.trim() || r.stdout.trim()}`);
    for (let i = 0; !(await this.client!.hasImage(PAUSE_IMAGE)); i++) {
      if (i > 500) throw new Error(`containerd on ${this.node.name} does not list the imported pause image`);
      await new Promise((r2) => setTimeout(r2, 5));
    }
  }

  /** Kills containerd and every shim (the node stays up; sandboxes' pause processes die with their shims). */
  async kill(): Promise<void> {
    this.daemon?.signal('SIGKILL');
    await this.daemon?.exited;
    // Shims daemonize inside the node: find them by name in the node's own /proc.
    await this.node.exec(['sh', '-c', 'for p in /proc/[0-9]*; do case "$(cat $p/comm 2>/dev/null)" in containerd-shim*) kill -9 "${p#/proc/}" ;; esac; done; true']);
    this.client?.close();
    this.client = undefined;
    this.daemon = undefined;
  }

  /** A clean stop (SIGTERM; sandboxes and their shims live on); `start` brings it back. */
  async restart(): Promise<void> {
    this.daemon?.signal('SIGTERM');
    await this.daemon?.exited;
    this.client?.close();
    this.client = undefined;
    this.daemon = undefined;
  }

  onPowerOff(): void {
    this.client?.close();
    this.client = undefined;
    this.daemon = undefined;
  }

  inFlight(): string[] {
    return [...this.busy];
  }

  private cri(): CriClient {
    if (!this.client || !this.process) throw new Error(`containerd is not running on ${this.node.name}`);
    return this.client;
  }

  async status(): Promise<RuntimeStatus> {
    if (!this.process || !this.client) return { ready: false, networkReady: false, message: 'containerd is not running' };
    const s = await this.client.status();
    const cond = (type: string) => s.status.conditions.find((c) => c.type === type);
    const net = cond('NetworkReady');
    return { ready: cond('RuntimeReady')?.status === true, networkReady: net?.status === true, ...(net && !net.status ? { message: net.message } : {}) };
  }

  async runPodSandbox(config: SandboxConfig, opts: RunSandboxOptions = {}): Promise<Sandbox> {
    if (opts.crash) throw new Error(`${this.description} has no crash points inside an ADD`);
    if (config.networks.length) throw new Error(`${this.description}: secondary networks need Multus, which this runtime's nodes do not run`);
    if (config.args && Object.keys(config.args).length) throw new Error(`${this.description} builds CNI_ARGS itself from the pod's metadata; CRI has no field for more`);
    const uid = randomUUID();
    const request: PodSandboxConfig = {
      metadata: { name: config.name, uid, namespace: 'default', attempt: 0 },
      hostname: config.name,
      log_directory: `/var/log/pods/default_${config.name}_${uid}`,
      // What kubelet puts in the pod config: containerd turns these into CNI capability args.
      port_mappings: (config.capabilities?.portMappings ?? []).map((m) => ({ protocol: (m.protocol ?? 'tcp').toUpperCase() as 'TCP' | 'UDP' | 'SCTP', container_port: m.containerPort, host_port: m.hostPort, host_ip: m.hostIP ?? '' })),
      labels: { 'io.kubernetes.pod.name': config.name, 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.uid': uid, 'faultline.workload': config.workload },
      annotations: { 'kubernetes.io/config.source': 'api', ...bandwidthAnnotations(config.capabilities) },
      linux: {
        cgroup_parent: `${this.node.cgroupParent}/pod${uid}`,
        security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' }, privileged: false, seccomp: { profile_type: 'RuntimeDefault' } },
        sysctls: {},
      },
    };
    this.creating++;
    let id: string;
    try {
      id = await this.cri().runPodSandbox(request);
    } catch (e) {
      throw e instanceof CriError ? new RuntimeCallError(e) : e;
    } finally {
      this.creating--;
    }
    return this.describe(id, config.name);
  }

  /** A sandbox with its address and network namespace (PodSandboxStatus, verbose). */
  private async describe(id: string, pod: string): Promise<Sandbox> {
    const r = await this.cri().podSandboxStatus(id, true);
    const netns = netnsOf(r.info);
    const ips = [r.status.network?.ip, ...(r.status.network?.additional_ips ?? []).map((x) => x.ip)].filter((x): x is string => !!x);
    const network = await this.defaultNetworkName();
    const attachments: Attachment[] = ips.length ? [{ pod, network, containerId: id, ifName: 'eth0', netns, ips }] : [];
    return {
      id,
      pod,
      state: r.status.state === 'SANDBOX_READY' ? 'ready' : 'notready',
      createdAtMs: nanosToMs(r.status.created_at),
      netnsName: netns.split('/').pop() ?? '',
      netns,
      attachments,
    };
  }

  /** The network containerd uses: the first config of /etc/cni/net.d, as its libcni picks it. */
  private async defaultNetworkName(): Promise<string> {
    const files = (await this.node.list('/etc/cni/net.d')).filter((f) => /\.(conflist|conf|json)$/.test(f)).sort();
    if (!files[0]) return '';
    try {
      return parseNetworkConfigFile((await this.node.readFile(`/etc/cni/net.d/${files[0]}`)).toString('utf8'), files[0]).name;
    } catch {
      return '';
    }
  }

  async stopPodSandbox(id: string): Promise<void> {
    this.busy.add(id);
    try {
      await this.cri().stopPodSandbox(id);
    } catch (e) {
      // containerd 1.6 answers NotFound for a sandbox it does not know; kubelet counts it as done.
      if (e instanceof CriError && e.code === GRPC_NOT_FOUND) return;
      throw e instanceof CriError ? new RuntimeCallError(e) : e;
    } finally {
      this.busy.delete(id);
    }
  }

  async removePodSandbox(id: string): Promise<void> {
    this.busy.add(id);
    try {
      await this.cri().removePodSandbox(id);
    } catch (e) {
      if (e instanceof CriError && e.code === GRPC_NOT_FOUND) return;
      throw e instanceof CriError ? new RuntimeCallError(e) : e;
    } finally {
      this.busy.delete(id);
    }
  }

  async listPodSandbox(): Promise<Sandbox[]> {
    const items: PodSandboxItem[] = await this.cri().listPodSandbox();
    const out: Sandbox[] = [];
    for (const item of items) {
      try {
        out.push(await this.describe(item.id, item.metadata.name));
      } catch (e) {
        // Listed but gone a moment later (a concurrent Remove): not a sandbox any more.
        if (!(e instanceof CriError && e.code === GRPC_NOT_FOUND)) throw e;
      }
    }
    return out;
  }
}

/** The sandbox's network namespace path from containerd's verbose info (runtimeSpec, as both 1.x and 2.x give it). */
export function netnsOf(info: Record<string, string>): string {
  try {
    const parsed = JSON.parse(info.info ?? '{}') as { runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } } };
    return parsed.runtimeSpec?.linux?.namespaces?.find((n) => n.type === 'network')?.path ?? '';
  } catch {
    return '';
  }
}

function nanosToMs(nanos: string): number {
  const n = Number(BigInt(nanos || '0') / 1_000_000n);
  return Number.isFinite(n) ? n : 0;
}
