// Errors of the CNI runtime. They are outcomes a scenario observes (a DEL that fails, an ADD that
// finds the range full), not harness failures, so they are not FaultlineErrors: the runner decides.
// `kind` says what went wrong; `unsupported` and `config` mean the scenario asked for something the
// runtime profile or the network config cannot do.

export type CniRuntimeErrorKind =
  | 'plugin' // a plugin exited non-zero (CniPluginError)
  | 'cache' // the cached result could not be read (libcni's "failed to get network ... cached result")
  | 'unsupported' // the runtime profile or the config version lacks the operation
  | 'config' // the network config or runtime conf is invalid
  | 'invoke'; // the plugin could not be executed or answered garbage

export interface CniRuntimeErrorOptions {
  kind: CniRuntimeErrorKind;
  network?: string;
  /** ADD, DEL, CHECK, GC, STATUS, VERSION. */
  operation?: string;
  cacheFile?: string;
  cause?: unknown;
}

export class CniRuntimeError extends Error {
  readonly kind: CniRuntimeErrorKind;
  readonly network?: string;
  readonly operation?: string;
  readonly cacheFile?: string;

  constructor(message: string, opts: CniRuntimeErrorOptions) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CniRuntimeError';
    this.kind = opts.kind;
    if (opts.network !== undefined) this.network = opts.network;
    if (opts.operation !== undefined) this.operation = opts.operation;
    if (opts.cacheFile !== undefined) this.cacheFile = opts.cacheFile;
  }
}

/** What the runtime knew about the plugin's VERSION answer when the plugin failed. */
export interface VersionMismatch {
  configVersion: string;
  supportedVersions: string[];
}

export interface CniPluginErrorInit {
  /** Plugin type (bridge, host-local...). */
  plugin: string;
  pluginPath: string;
  /** CNI_COMMAND. */
  command: string;
  network?: string;
  /** CNI error code (spec: 1 incompatible version ... 11 try again later, 50/51 STATUS); 0 when the plugin gave none. */
  code: number;
  msg: string;
  details?: string;
  stdout: string;
  stderr: string;
  exitCode: number;
  versionMismatch?: VersionMismatch;
}

export class CniPluginError extends CniRuntimeError {
  readonly plugin: string;
  readonly pluginPath: string;
  readonly command: string;
  readonly code: number;
  readonly msg: string;
  readonly details?: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  readonly versionMismatch?: VersionMismatch;

  constructor(init: CniPluginErrorInit) {
    let message = `plugin ${init.plugin} ${init.command} failed (code ${init.code}): ${init.msg}`;
    if (init.details) message += `; ${init.details}`;
    if (init.versionMismatch) {
      const vm = init.versionMismatch;
      message += ` [config cniVersion ${vm.configVersion} is not in the VERSION answer of ${init.pluginPath}: ${vm.supportedVersions.join(', ')}]`;
    }
    super(message, { kind: 'plugin', operation: init.command, ...(init.network !== undefined ? { network: init.network } : {}) });
    this.name = 'CniPluginError';
    this.plugin = init.plugin;
    this.pluginPath = init.pluginPath;
    this.command = init.command;
    this.code = init.code;
    this.msg = init.msg;
    if (init.details !== undefined) this.details = init.details;
    this.stdout = init.stdout;
    this.stderr = init.stderr;
    this.exitCode = init.exitCode;
    if (init.versionMismatch) this.versionMismatch = init.versionMismatch;
  }
}
