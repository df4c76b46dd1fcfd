// The contract of backends that run real Kubernetes (kind): the cluster spec beyond the nodes, the
// cluster's API access (a kubeconfig file of the run, never the user's), and the checks made before a
// run creates anything. A backend offers it as `kube`; the runner asks isKubeBackend, never for a
// concrete backend.
import type { Location } from '../errors.ts';
import type { PositionMap } from '../schema/yaml.ts';
import type { Backend, Cluster, ClusterSpec } from './types.ts';

/** Where an input value is written (a scenario key, a stack file key), for located errors. */
export interface ConfigSource {
  file: string;
  positions: PositionMap;
  path: readonly (string | number)[];
}

/** What the generated cluster config takes from the cell (see backends/kind/kind-config.ts). */
export interface KubeConfigSpec {
  /** Node image (a matrix dimension); default: the kind binary's own. */
  nodeImage?: string;
  /** The scenario's podCIDR. */
  podSubnet: string;
  /** The stack brings its own CNI. */
  disableDefaultCNI: boolean;
  /** The stack's extra config, merged into the generated one. */
  extra?: Record<string, unknown>;
  sources?: { nodeImage?: ConfigSource; podSubnet?: ConfigSource; disableDefaultCNI?: ConfigSource; extra?: ConfigSource };
}

/** Commands run at every boot of every node before containerd and kubelet (yip initramfs stage files). */
export interface BootStage {
  name: string;
  commands: string[];
}

export interface KubeClusterSpec extends ClusterSpec {
  config: KubeConfigSpec;
  /** Why a node cannot be hard-rebooted (by node name), e.g. a control plane with etcd on tmpfs. */
  rebootRefusals?: Record<string, string>;
  bootStages?: BootStage[];
}

/** One provisioned tool, as the report records it. */
export interface KubeToolInfo {
  path: string;
  version: string;
  source: string;
  sha256: string;
}

export interface KubeClusterInfo {
  clusterName: string;
  provider: string;
  engine: string;
  nodeImage: string;
  kind: KubeToolInfo;
  kubectl: KubeToolInfo;
  /** The kind config the cluster was created from. */
  config: string;
  createMs: number;
}

export interface KubeCluster extends Cluster {
  /** The run's kubeconfig file for this cluster (never the user's ~/.kube/config). */
  readonly kubeconfig: string;
  readonly info: KubeClusterInfo;
  /** The Kubernetes node name of a faultline node (node-1 is the control plane). */
  kubeNodeName(node: string): string;
  /** `kind export logs` into `dir`; returns what it said. */
  exportLogs(dir: string): Promise<string>;
}

/** A cell as the pre-run checks see it. */
export interface KubePreflightCell {
  id: string;
  clusterName: string;
  nodes: number;
  config: KubeConfigSpec;
  /** The cell hard-reboots nodes (refused where the provider cannot). */
  reboots: boolean;
  /** Where the cell's scenario is (errors without a better place). */
  location: Location;
}

export interface KubeBackendFacet {
  /** The cluster name a cell gets (from the run and the cell id). */
  clusterName(runId: string, cellId: string): string;
  /**
   * Before anything is created: the tools are provisioned, each cell's config decodes with the real
   * binary, the node images are there or can be pulled, the provider can do what the cells ask.
   */
  preflight(cells: readonly KubePreflightCell[], opts?: { signal?: AbortSignal; onProgress?: (m: string) => void }): Promise<void>;
  up(spec: KubeClusterSpec, signal?: AbortSignal): Promise<KubeCluster>;
}

/** A backend of real Kubernetes. */
export interface KubeBackend extends Backend {
  readonly kube: KubeBackendFacet;
}

export function isKubeBackend(b: Backend): b is KubeBackend {
  return typeof (b as Partial<KubeBackend>).kube === 'object' && (b as Partial<KubeBackend>).kube !== null;
}
