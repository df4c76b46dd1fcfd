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

/** What a build from upstream source through the Go module proxy was made of (components/go-build.ts). */
export interface GoBuildRecord {
  module: string;
  /** The proxy's canonical version (a tag or a pseudo-version). */
  version: string;
  /** What the scenario asked for (a tag, or a commit the proxy resolved). */
  requested: string;
  /** go.sum's h1: hash of the module (its source), and of its go.mod. */
  sum: string;
  goModSum: string;
  /** The version's commit and time, where the proxy's .info names them. */
  commit?: string;
  time?: string;
  /** go env GOVERSION of the build, e.g. go1.26.8. */
  go: string;
  goos: string;
  goarch: string;
  proxy: string;
  /** Each go build: its packages, CGO, ldflags, tags. */
  steps: { packages: string[]; cgo: boolean; ldflags: string; tags: string[]; buildmode?: string; flags: string }[];
  /** Selected versions of modules that decide behaviour (e.g. github.com/containernetworking/cni). */
  requires: Record<string, string>;
  sha256: Record<string, string>;
  /** buildCacheWasEmpty: the build compiled everything, the standard library included (a cold build). */
  timing: { downloadMs: number; depsMs: number; buildMs: number; totalMs: number; buildCacheWasEmpty?: boolean };
  builtAt: string;
}

export interface ResolvedPlugins {
  version: string;
  /** debian:<pkg version>, tarball:<url>, dir:<path>, system:<path>, go:<module>@<version> */
  source: string;
  dir: string;
  sha256: Record<string, string>;
  /** For go: sources, what the build was made of. */
  build?: GoBuildRecord;
}

/** Multus's thin plugin binaries (multus, thin_entrypoint, install_multus), ready to run on nodes. */
export interface ResolvedMultus {
  /** The version, e.g. v4.0.2 (a dir: build: what its thin_entrypoint says, or 'unknown'). */
  version: string;
  /** go:<module>@<version>, or dir:<path>. */
  source: string;
  /** Host dir holding the binaries. */
  dir: string;
  sha256: Record<string, string>;
  /** The flags this release's thin_entrypoint accepts (from its -help), without dashes. */
  thinFlags: string[];
  /** The thin entrypoint's args in the release's own deployments/multus-daemonset.yml. */
  daemonsetArgs: string[];
  build?: GoBuildRecord;
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
  /** For containerd-go: builds, what the build was made of. */
  build?: GoBuildRecord;
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
  /** Multus's thin plugin on every node (cluster.stack.multus), when the stack has it. */
  multus?: { component: ResolvedMultus; cleanupConfigOnExit: boolean };
}
