// CNI data as the spec defines it: network configuration lists, runtime configuration, results.

export interface RuntimeConf {
  containerId: string;
  /** Path of the network namespace as the node sees it. */
  netns: string;
  ifName: string;
  /** CNI_ARGS key/values, e.g. K8S_POD_NAME. */
  args?: [string, string][];
  capabilityArgs?: Record<string, unknown>;
}

/** A network configuration list as it sits in /etc/cni/net.d (conflist JSON). */
export interface NetworkConfigList {
  cniVersion: string;
  name: string;
  disableCheck?: boolean;
  disableGC?: boolean;
  plugins: Record<string, unknown>[];
  [key: string]: unknown;
}

/** A CNI result (spec 0.3.x / 0.4.0 / 1.x share this shape). */
export interface CniResult {
  cniVersion: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { version?: string; address: string; gateway?: string; interface?: number }[];
  routes?: unknown[];
  dns?: unknown;
  [key: string]: unknown;
}
