// A CRI (runtime.v1) client over a unix socket, the calls kubelet makes for pod sandboxes: the real
// api.proto (from Debian's golang-k8s-cri-api-dev, provisioned like other components) loaded with
// @grpc/proto-loader, served by @grpc/grpc-js. Field names stay as in the proto (keepCase).
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

/** A CRI call that failed: the runtime's own message and its gRPC status. */
export class CriError extends Error {
  constructor(
    readonly method: string,
    /** gRPC status code (2 UNKNOWN, 4 DEADLINE_EXCEEDED, 5 NOT_FOUND, 14 UNAVAILABLE...). */
    readonly code: number,
    readonly codeName: string,
    /** The runtime's message, verbatim. */
    readonly details: string,
  ) {
    super(details);
    this.name = 'CriError';
  }
}

export const GRPC_NOT_FOUND = 5;
export const GRPC_UNAVAILABLE = 14;

const CODE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(grpc.status).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v, k]));

export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

export interface PortMapping {
  protocol: 'TCP' | 'UDP' | 'SCTP';
  container_port: number;
  host_port: number;
  host_ip: string;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname: string;
  log_directory: string;
  port_mappings: PortMapping[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  linux: {
    cgroup_parent: string;
    security_context: { namespace_options: { network: 'POD' | 'NODE'; pid: 'POD' | 'CONTAINER' | 'NODE'; ipc: 'POD' | 'NODE' }; privileged: boolean; seccomp?: { profile_type: string } };
    sysctls: Record<string, string>;
  };
}

export type CriSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export interface PodSandboxItem {
  id: string;
  metadata: PodSandboxMetadata;
  state: CriSandboxState;
  /** Nanoseconds since the epoch, as a decimal string. */
  created_at: string;
  labels: Record<string, string>;
}

export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadata;
  state: CriSandboxState;
  created_at: string;
  network?: { ip: string; additional_ips: { ip: string }[] };
}

/** Verbose status info: containerd's JSON, where the sandbox's network namespace path is. */
export interface PodSandboxStatusResponse {
  status: PodSandboxStatus;
  info: Record<string, string>;
}

type Callback = (err: grpc.ServiceError | null, res: unknown) => void;
type Service = grpc.Client & Record<string, (req: unknown, opts: grpc.CallOptions, cb: Callback) => void>;

const packages = new Map<string, grpc.GrpcObject>();

function runtimeV1(protoFile: string): grpc.GrpcObject {
  let pkg = packages.get(protoFile);
  if (!pkg) {
    const def = protoLoader.loadSync(protoFile, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
    const root = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: grpc.GrpcObject } };
    pkg = root.runtime.v1;
    packages.set(protoFile, pkg);
  }
  return pkg;
}

export class CriClient {
  private readonly runtime: Service;
  private readonly images: Service;

  /** `socket`: the host path of the runtime's socket (e.g. /proc/<init>/root/run/containerd/containerd.sock). */
  constructor(
    protoFile: string,
    socket: string,
    private readonly timeoutMs = 60_000,
  ) {
    const v1 = runtimeV1(protoFile);
    const target = `unix://${socket}`;
    // A runtime that is still starting: reconnect within milliseconds, not gRPC's default second.
    const options = { 'grpc.initial_reconnect_backoff_ms': 10, 'grpc.min_reconnect_backoff_ms': 10, 'grpc.max_reconnect_backoff_ms': 200 };
    const make = (name: string) => new (v1[name] as grpc.ServiceClientConstructor)(target, grpc.credentials.createInsecure(), options) as unknown as Service;
    this.runtime = make('RuntimeService');
    this.images = make('ImageService');
  }

  private call<T>(svc: Service, method: string, req: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    return new Promise((resolve, reject) => {
      svc[method]!(req, { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(new CriError(method, err.code, CODE_NAMES[err.code] ?? String(err.code), err.details || err.message));
        else resolve(res as T);
      });
    });
  }

  version(timeoutMs?: number): Promise<{ runtime_name: string; runtime_version: string; runtime_api_version: string }> {
    return this.call(this.runtime, 'Version', { version: 'v1' }, timeoutMs);
  }

  status(): Promise<{ status: { conditions: { type: string; status: boolean; reason: string; message: string }[] } }> {
    return this.call(this.runtime, 'Status', { verbose: false });
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const r = await this.call<{ pod_sandbox_id: string }>(this.runtime, 'RunPodSandbox', { config, runtime_handler: '' });
    return r.pod_sandbox_id;
  }

  podSandboxStatus(id: string, verbose = false): Promise<PodSandboxStatusResponse> {
    return this.call(this.runtime, 'PodSandboxStatus', { pod_sandbox_id: id, verbose });
  }

  async stopPodSandbox(id: string): Promise<void> {
    await this.call(this.runtime, 'StopPodSandbox', { pod_sandbox_id: id });
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.call(this.runtime, 'RemovePodSandbox', { pod_sandbox_id: id });
  }

  async listPodSandbox(): Promise<PodSandboxItem[]> {
    const r = await this.call<{ items: PodSandboxItem[] }>(this.runtime, 'ListPodSandbox', { filter: {} });
    return r.items;
  }

  /** Whether the runtime's image store has this image (CRI's view lags an import by a few ms). */
  async hasImage(ref: string): Promise<boolean> {
    const r = await this.call<{ image: unknown }>(this.images, 'ImageStatus', { image: { image: ref }, verbose: false });
    return !!r.image;
  }

  close(): void {
    this.runtime.close();
    this.images.close();
  }
}
