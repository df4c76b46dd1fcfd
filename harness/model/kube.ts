// What an observation of a real cluster records through the API (kind backend): pods, warning
// events, and the objects the seed bugs are about: Kube-OVN's IP CRs and Subnet status, Multus's
// NetworkAttachmentDefinitions. Parsed from `kubectl get -o json` (kube/observe.ts).

export interface KubePod {
  namespace: string;
  name: string;
  node?: string;
  phase: string;
  ready: boolean;
  podIP?: string;
  restarts: number;
  /** Why a container waits (ContainerCreating, CrashLoopBackOff...), first one. */
  waiting?: string;
  ownerKind?: string;
  ownerName?: string;
  createdAt?: string;
  /** When the Ready condition last became true. */
  readyAt?: string;
}

export interface KubeEvent {
  namespace: string;
  object: string;
  reason: string;
  message: string;
  count: number;
  lastSeen?: string;
}

/** A Kube-OVN IP CR (ips.kubeovn.io). */
export interface KubeOvnIp {
  name: string;
  subnet: string;
  podName: string;
  namespace: string;
  nodeName?: string;
  ipAddress: string;
  podType?: string;
  attachSubnets: string[];
}

/** A Kube-OVN Subnet's spec and status counters (subnets.kubeovn.io). */
export interface KubeOvnSubnet {
  name: string;
  cidrBlock: string;
  excludeIps: string[];
  provider?: string;
  v4usingIPs?: number;
  v4availableIPs?: number;
  v4usingIPrange?: string;
  v4availableIPrange?: string;
}

export interface NetworkAttachmentDefinition {
  namespace: string;
  name: string;
  /** The delegate's CNI config text. */
  config: string;
}

export interface KubeObservation {
  after: string;
  atMs: number;
  pods: KubePod[];
  events: KubeEvent[];
  /** Undefined when the API has no such resource (the stack does not install it). */
  ips?: KubeOvnIp[];
  subnets?: KubeOvnSubnet[];
  nads?: NetworkAttachmentDefinition[];
}
