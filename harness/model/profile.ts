// Stack and runtime profiles are data under profiles/; these are their validated shapes.
import type { NetworkConfigList } from './cni.ts';

// The delegation semantics a multi-network stack may run with (cluster.stack.delegation); what each
// means is in runtime/model/multi-network.ts and profiles/kubeovn/*.yaml.
export const DELEGATIONS = ['definition-at-del', 'cached-delegates'] as const;
export type Delegation = (typeof DELEGATIONS)[number];

export interface StageFile {
  /** Where the release puts it (e.g. /system/oem/99_cni_reset.yaml); informative. */
  path: string;
  /** Where the content comes from (PR, tag). */
  source: string;
  /** The file's real content, interpreted with yip's semantics at boot. */
  content: string;
}

export interface Substitution {
  plugin: string;
  standIn: string;
  why: string;
}

export interface NetworkDef {
  /** File name in /etc/cni/net.d. */
  file: string;
  /** conflist; ipam.subnet "usePodCidr" is replaced with the node's subnet. */
  conflist: NetworkConfigList;
  /** Secondary networks: attached by name, not as the default network. */
  secondary?: boolean;
  /**
   * Name of an external segment (a link of this name in every node, joined to a bridge shared by
   * the run's nodes) this network's plugin uses as its parent (macvlan `master`).
   */
  segment?: string;
}

export interface StackProfile {
  name: string;
  description: string;
  references: string[];
  /** Default plugin version when the scenario does not choose one. */
  cni: string;
  runtime: string;
  substitutions: Substitution[];
  networks: NetworkDef[];
  stageFiles: StageFile[];
  file: string;
  /**
   * Where the stack came from: a profile under profiles/, a profile file named relative to the
   * scenario, or written inline in the scenario; `inline` lists the fields the scenario wrote itself.
   */
  origin?: { kind: 'profile' | 'file' | 'inline'; inline: string[] };
}

/** Runtime (libcni) behaviour that differs between releases; each field cites its source. */
export interface RuntimeProfile {
  name: string;
  description: string;
  references: string[];
  /** CNI spec versions this runtime speaks. */
  specVersions: string[];
  del: {
    /** Conflist DEL reads the cached result when the config's cniVersion >= this. */
    readsCacheFromCniVersion: string;
    /** abort: DEL fails with libcni's error; tolerate: remove the file, DEL without prevResult. */
    onCacheError: 'abort' | 'tolerate';
    /** Remove the cache file after a successful conflist DEL. */
    removeCacheAfterDel: boolean;
  };
  gc: { supported: boolean; skipUnparsableCache: boolean; legacyAttachmentsKey: boolean };
  status: { supported: boolean };
  /** Cache file content; absent means libcni < 1.2.0 (no netns). */
  cache?: {
    /** The cache records the netns path (libcni >= 1.2.0). */
    writesNetns: boolean;
  };
  file: string;
}

export interface ResolvedPlugins {
  version: string;
  /** debian:<pkg version>, tarball:<url>, dir:<path>, system:<path> */
  source: string;
  dir: string;
  sha256: Record<string, string>;
}

/** A real containerd ready to run on nodes (components/containerd.ts resolves it). */
export interface ResolvedContainerd {
  name: string;
  /** containerd's own version string (`containerd --version`), e.g. 1.6.20~ds1. */
  version: string;
  /** The libcni it was built with (from the package's Built-Using), e.g. 1.1.2; 'unknown' for a user's build. */
  libcni: string;
  /** debian:<suite> <package>=<version>, or dir:<path>. */
  source: string;
  /** Host dir holding bin/containerd, bin/containerd-shim-runc-v2, bin/ctr. */
  dir: string;
  sha256: Record<string, string>;
  /** CRI's api.proto on the host, and where it came from. */
  protoFile: string;
  protoSource: string;
  /** The libcni model runtime profile of the same generation, when known. */
  model?: string;
}

/** What runs pods on the nodes: faultline's libcni model with a runtime profile, or a real containerd. */
export type ResolvedRuntime =
  | { kind: 'model'; name: string; profile: RuntimeProfile }
  | { kind: 'containerd'; name: string; containerd: ResolvedContainerd };

export interface ResolvedStack {
  profile: StackProfile;
  runtime: ResolvedRuntime;
  plugins: ResolvedPlugins;
  /** cniVersion written into the conflists (profile's, or the scenario's override). */
  conflistCniVersion: string;
  delegation: Delegation;
}
