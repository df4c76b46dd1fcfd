// Interfaces between the CNI runtime (our libcni) and wherever it runs. The runtime never touches the
// host directly: it executes plugins through an Invoker and keeps its cache through a CacheFs, both
// provided by a node.

export interface InvokeRequest {
  /** Absolute path of the plugin binary, as the node sees it (e.g. /opt/cni/bin/bridge). */
  pluginPath: string;
  env: Record<string, string>;
  stdin: string;
}

export interface InvokeResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export type Invoker = (req: InvokeRequest) => Promise<InvokeResult>;

export interface CacheFs {
  readFile(path: string): Promise<Buffer>;
  writeFile(path: string, data: string | Uint8Array, mode?: number): Promise<void>;
  removeFile(path: string): Promise<void>;
  list(dir: string): Promise<string[]>;
  /** Create the directory with this mode if missing. */
  mkdir(path: string, mode: number): Promise<void>;
}

/** The CNI error object (spec: code, msg, details). */
export interface CniErrorBody {
  cniVersion?: string;
  code: number;
  msg: string;
  details?: string;
}




/** Hooks that let a fault kill the runtime at a chosen point (crash-during-add). */
export interface CrashPoints {
  /** Called after plugin i of a conflist ADD succeeded; throw to crash. */
  afterPluginAdd?(index: number, pluginType: string): void | Promise<void>;
  /** Called when the cache file has been created empty, before its content is written; throw to crash. */
  duringCacheWrite?(path: string): void | Promise<void>;
}
