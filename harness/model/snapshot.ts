// What an observation of a node records: the disk, the kernel and the runtime, at one moment.

export interface Reservation {
  network: string;
  ip: string;
  /** Container id and ifname parsed from host-local's file; undefined when unreadable. */
  containerId?: string;
  ifName?: string;
  file: string;
  mtimeMs: number;
  unreadable?: string;
}

export interface Attachment {
  pod: string;
  network: string;
  containerId: string;
  ifName: string;
  netns: string;
  ips: string[];
}

export interface LinkInfo {
  name: string;
  kind: string;
  /** Peer's ifindex / netns id for veths, as ip -j link reports. */
  peer?: string;
  master?: string;
  /** The link a macvlan, ipvlan or vlan sits on, when it is in the same namespace. */
  parent?: string;
  up: boolean;
  /** Whose namespace holds the link: 'node' or a pod's netns name. */
  ns: string;
}

export interface CacheEntry {
  file: string;
  state: 'valid' | 'empty' | 'corrupt';
  containerId?: string;
  ifName?: string;
  networkName?: string;
  error?: string;
}

export interface IptablesChain {
  table: string;
  chain: string;
  /** Owner container ids from the rules' comments (`id: "<cid>"`). */
  owners: string[];
  rules: number;
}

/** A pod sandbox as the node's runtime lists it. */
export interface SandboxInfo {
  id: string;
  pod: string;
  state: 'ready' | 'notready';
  createdAtMs: number;
}

export interface NodeSnapshot {
  node: string;
  running: boolean;
  bootedAtMs?: number;
  reservations: Reservation[];
  attachments: Attachment[];
  links: LinkInfo[];
  netns: string[];
  cache?: CacheEntry[];
  iptables?: IptablesChain[];
  /** Free addresses per host-local network, where the range is known. */
  headroom?: Record<string, { capacity: number; used: number; free: number }>;
  /** The sandboxes the node's runtime lists (while it runs). */
  sandboxes?: SandboxInfo[];
  /** Container ids with an ADD or DEL under way when the snapshot was taken (mid-churn). */
  inFlight?: string[];
  /** /etc/cni/net.d/00-multus.conf or .conflist as found (see observe/multus-config.ts). */
  multusConfig?: MultusConfigObservation;
  extra?: Record<string, unknown>;
}

export interface MultusConfigObservation {
  file: string;
  /** Config files of /etc/cni/net.d in sorted order. */
  files: string[];
  present: boolean;
  /** The file's text (the first 16 KiB), the evidence itself. */
  text?: string;
  /** Why the file could not be judged (unreadable, not JSON). */
  error?: string;
  /** Levels of `type: multus` from the top (1 is correct; 2+ is multus delegating to itself). */
  multusDepth?: number;
  /** The innermost multus config's first delegate: its network name and plugin types. */
  delegate?: { name?: string; types: string[] };
  /** The master config Multus should have delegated to: the first file not named 00-multus*. */
  expectedMaster?: { file: string; name?: string };
}
