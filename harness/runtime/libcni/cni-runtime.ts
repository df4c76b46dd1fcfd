// The container-runtime side of CNI (what libcni is for containerd): the exec protocol, conflist
// chaining with prevResult, DEL in reverse order, CHECK, GC, STATUS, VERSION and the result cache.
// Behaviour that differs between libcni releases comes from the RuntimeProfile (profiles/runtime/).
// Plugins run through the Invoker (inside a node's namespaces); the cache lives behind the CacheFs.
import { cacheFilePath, decodeCachedResult, DEFAULT_CACHE_DIR, encodeCacheFile, parseCacheFile, resultsDir, writeCacheFile } from './cache.ts';
import { cniVersionAtLeast, highestCniVersion, parseCniVersion } from './cni-version.ts';
import { CniPluginError, CniRuntimeError, type VersionMismatch } from './errors.ts';
import { convertResult } from './result.ts';
import { goJsonMarshal } from './go-json.ts';
import type { CacheFs, CniErrorBody, CrashPoints, InvokeResult, Invoker } from './types.ts';
import type { CniResult, NetworkConfigList, RuntimeConf } from '../../model/cni.ts';
import type { RuntimeProfile } from '../../model/profile.ts';

export const DEFAULT_CNI_PATH = '/opt/cni/bin';

export interface CniRuntimeOptions {
  invoker: Invoker;
  cacheFs: CacheFs;
  profile: RuntimeProfile;
  /** Plugin directories as the node sees them, ':'-separated; plugins are taken from the first. Default /opt/cni/bin. */
  cniPath?: string;
  /** Default /var/lib/cni. */
  cacheDir?: string;
  /**
   * Ask each plugin for VERSION (once per path) before ADD and attach a mismatch to the plugin's own
   * error. The plugin is still executed, so its own message (e.g. "incompatible CNI versions") is what
   * a scenario sees. Default true.
   */
  checkVersions?: boolean;
}

/** How a DEL went (it throws when it failed). */
export interface DelOutcome {
  network: string;
  cacheFile: string;
  /** Whether the plugins got the cached result as prevResult. */
  prevResult: 'cached' | 'none';
  /** Why there was none: 'version' (cniVersion below the profile's threshold), 'missing', 'tolerated-error', 'empty-result'. */
  noPrevResultReason?: 'version' | 'missing' | 'tolerated-error' | 'empty-result';
  /** The cache error libcni tolerated (libcni >= 1.2: the file was removed and DEL ran anyway). */
  toleratedCacheError?: string;
  cacheRemoved: boolean;
  /** Plugin types in the order they got DEL. */
  plugins: string[];
}

export interface GcAttachmentRef {
  containerId: string;
  ifName: string;
}

export interface GcReport {
  network: string;
  cniVersion: string;
  /** Cached attachments of this network not in the valid set, DELed successfully. */
  deleted: (GcAttachmentRef & { file: string })[];
  deleteFailed: (GcAttachmentRef & { file: string; error: string })[];
  /** Cached attachments of this network that are in the valid set. */
  kept: (GcAttachmentRef & { file: string })[];
  /** Cache files that could not be parsed; libcni skips them (they stay), unless the profile says otherwise. */
  skipped: { file: string; state: 'empty' | 'corrupt'; reason: string; removed: boolean }[];
  /** Plugins that got CNI_COMMAND=GC. */
  gc: { plugin: string; pluginPath: string; ok: boolean; code?: number; error?: string }[];
  /** Why GC was not sent to the plugins (cniVersion < 1.1.0, disableGC). */
  gcNotSent?: string;
  /** The errors libcni would join into GCNetworkList's return value. */
  errors: string[];
  ok: boolean;
}

export interface StatusReport {
  network: string;
  cniVersion: string;
  /** Set when no plugin was asked (cniVersion < 1.1.0: libcni returns success without asking). */
  skipped?: string;
  plugins: { plugin: string; pluginPath: string; ok: boolean; code?: number; msg?: string; details?: string; error?: CniPluginError }[];
  /** Every plugin answered STATUS successfully (or nothing was asked). */
  available: boolean;
}

const ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

// The conflist bytes libcni keeps (NetworkConfigList.Bytes) and caches base64-encoded.
const listBytes = new WeakMap<NetworkConfigList, string>();

/** Parses conflist text the way a runtime loads /etc/cni/net.d/*.conflist, keeping the bytes for the cache. */
export function parseConfList(text: string): NetworkConfigList {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CniRuntimeError(`error parsing configuration list: ${(e as Error).message}`, { kind: 'config' });
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new CniRuntimeError('error parsing configuration list: not a JSON object', { kind: 'config' });
  const rec = v as Record<string, unknown>;
  if (typeof rec.name !== 'string' || !rec.name) throw new CniRuntimeError('error parsing configuration list: no name', { kind: 'config' });
  if (!Array.isArray(rec.plugins) || rec.plugins.length === 0) throw new CniRuntimeError(`error parsing configuration list: no 'plugins' key`, { kind: 'config' });
  const list = v as NetworkConfigList;
  listBytes.set(list, text);
  return list;
}

/**
 * A file of a CNI config dir as libcni loads it: a .conflist is a list (ConfListFromBytes); a .conf or
 * .json is one plugin's config (ConfFromBytes: it needs a "type") wrapped as a list of one
 * (ConfListFromConf), whose cached bytes are the wrapper libcni marshals.
 */
export function parseNetworkConfigFile(text: string, fileName: string): NetworkConfigList {
  if (fileName.endsWith('.conflist')) return parseConfList(text);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CniRuntimeError(`error parsing configuration: ${(e as Error).message}`, { kind: 'config' });
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new CniRuntimeError('error parsing configuration: not a JSON object', { kind: 'config' });
  const conf = v as Record<string, unknown>;
  if (typeof conf.type !== 'string' || !conf.type) throw new CniRuntimeError(`error parsing configuration: missing 'type'`, { kind: 'config' });
  const list: NetworkConfigList = { cniVersion: String(conf.cniVersion ?? ''), name: String(conf.name ?? ''), plugins: [conf] };
  listBytes.set(list, goJsonMarshal({ cniVersion: conf.cniVersion, name: conf.name, plugins: [conf] }));
  return list;
}

/** Sets the bytes to cache for a list built in code (otherwise its compact JSON is cached). */
export function setConfListBytes(list: NetworkConfigList, bytes: string): void {
  listBytes.set(list, bytes);
}

export function confListBytes(list: NetworkConfigList): string {
  return listBytes.get(list) ?? JSON.stringify(list);
}

/** CNI_ARGS as libcni writes it: K=V;K=V. */
export function stringifyCniArgs(args: readonly (readonly [string, string])[] | undefined): string {
  return (args ?? []).map(([k, v]) => `${k}=${v}`).join(';');
}

/** libcni's interpretation of a failed plugin's stdout (invoke.RawExec.pluginErr). */
export function parsePluginError(r: Pick<InvokeResult, 'exitCode' | 'stdout' | 'stderr'>): CniErrorBody {
  const stdout = r.stdout;
  if (stdout.trim() === '') {
    if (r.stderr.trim() === '') return { code: 0, msg: `netplugin failed with no error message: exit status ${r.exitCode}` };
    return { code: 0, msg: `netplugin failed: ${JSON.stringify(r.stderr)}` };
  }
  try {
    const v = JSON.parse(stdout) as Partial<CniErrorBody>;
    return {
      ...(typeof v.cniVersion === 'string' ? { cniVersion: v.cniVersion } : {}),
      code: typeof v.code === 'number' ? v.code : 0,
      msg: typeof v.msg === 'string' ? v.msg : '',
      ...(typeof v.details === 'string' && v.details ? { details: v.details } : {}),
    };
  } catch (e) {
    return { code: 0, msg: `netplugin failed but error parsing its diagnostic message ${JSON.stringify(stdout)}: ${(e as Error).message}` };
  }
}

function pluginType(list: NetworkConfigList, index: number): string {
  const t = list.plugins[index]?.type;
  if (typeof t !== 'string' || !t) {
    throw new CniRuntimeError(`network "${list.name}": plugin ${index} has no "type"`, { kind: 'config', network: list.name });
  }
  return t;
}

export class CniRuntime {
  readonly profile: RuntimeProfile;
  readonly cniPath: string;
  readonly cacheDir: string;
  /** Plugins that succeeded on a config version their VERSION answer did not list. */
  readonly warnings: string[] = [];
  private readonly invoker: Invoker;
  private readonly cacheFs: CacheFs;
  private readonly checkVersions: boolean;
  private readonly versions = new Map<string, Promise<string[] | undefined>>();

  constructor(opts: CniRuntimeOptions) {
    this.invoker = opts.invoker;
    this.cacheFs = opts.cacheFs;
    this.profile = opts.profile;
    this.cniPath = opts.cniPath ?? DEFAULT_CNI_PATH;
    this.cacheDir = opts.cacheDir ?? DEFAULT_CACHE_DIR;
    this.checkVersions = opts.checkVersions ?? true;
  }

  /** Where a plugin type's binary is, as the node sees it. */
  pluginPath(type: string): string {
    const dir = this.cniPath.split(':').find((d) => d) ?? DEFAULT_CNI_PATH;
    return `${dir.replace(/\/+$/, '')}/${type}`;
  }

  cacheFile(list: NetworkConfigList, rt: Pick<RuntimeConf, 'containerId' | 'ifName'>): string {
    return cacheFilePath(this.cacheDir, list.name, rt.containerId, rt.ifName);
  }

  /**
   * The cniVersion the runtime uses for this list. libcni >= 1.2 (spec 1.1.0) honours a `cniVersions`
   * array: the highest version both sides speak.
   */
  effectiveCniVersion(list: NetworkConfigList): string {
    const offered = list.cniVersions;
    if (this.profile.specVersions.includes('1.1.0') && Array.isArray(offered)) {
      const common = offered.filter((v): v is string => typeof v === 'string' && this.profile.specVersions.includes(v));
      const best = highestCniVersion(common);
      if (best) return best;
    }
    if (typeof list.cniVersion !== 'string' || !parseCniVersion(list.cniVersion)) {
      throw new CniRuntimeError(`network "${list.name}": invalid cniVersion ${JSON.stringify(list.cniVersion)}`, { kind: 'config', network: list.name });
    }
    return list.cniVersion;
  }

  /** CNI_COMMAND=VERSION: the spec versions the plugin says it supports. */
  async version(pluginPath: string): Promise<string[]> {
    const stdin = JSON.stringify({ cniVersion: highestCniVersion(this.profile.specVersions) ?? '1.0.0' });
    const env = this.env('VERSION', undefined, 'dummy');
    const r = await this.invoke(pluginPath, env, stdin, 'VERSION');
    const type = pluginPath.split('/').pop() ?? pluginPath;
    if (r.exitCode !== 0) throw this.pluginError(type, pluginPath, 'VERSION', r);
    let v: { cniVersion?: string; supportedVersions?: unknown };
    try {
      v = JSON.parse(r.stdout);
    } catch (e) {
      throw new CniRuntimeError(`plugin ${type} VERSION answered invalid JSON: ${(e as Error).message}`, { kind: 'invoke', operation: 'VERSION' });
    }
    if (Array.isArray(v.supportedVersions)) return v.supportedVersions.filter((x): x is string => typeof x === 'string');
    // Plugins of spec 0.1.0 answer without the list.
    return [v.cniVersion || '0.1.0'];
  }

  /** Forget the VERSION answers (after the node's plugin binaries changed). */
  forgetVersions(): void {
    this.versions.clear();
  }

  async addNetworkList(list: NetworkConfigList, rt: RuntimeConf, crash?: CrashPoints): Promise<CniResult> {
    const cniVersion = this.effectiveCniVersion(list);
    this.validateRuntimeConf(list, rt);
    const file = this.cacheFile(list, rt);
    let prev: CniResult | undefined;
    let last: CniResult | undefined;
    for (let i = 0; i < list.plugins.length; i++) {
      const type = pluginType(list, i);
      const path = this.pluginPath(type);
      const mismatch = await this.versionMismatch(path, cniVersion);
      const stdin = this.pluginConfig(list, i, cniVersion, prev, rt);
      const r = await this.invoke(path, this.env('ADD', rt), stdin, 'ADD', list.name);
      if (r.exitCode !== 0) throw this.pluginError(type, path, 'ADD', r, list.name, mismatch);
      if (mismatch) this.warnings.push(`plugin ${type} (${path}) accepted cniVersion ${cniVersion} although its VERSION answer lists only ${mismatch.supportedVersions.join(', ')}`);
      let result: CniResult;
      try {
        result = JSON.parse(r.stdout) as CniResult;
        if (!result || typeof result !== 'object' || Array.isArray(result)) throw new Error('not a JSON object');
      } catch (e) {
        throw new CniRuntimeError(`plugin ${type} ADD returned an invalid result: ${(e as Error).message}: ${JSON.stringify(r.stdout.slice(0, 200))}`, { kind: 'invoke', operation: 'ADD', network: list.name });
      }
      if (!result.cniVersion) result = { ...result, cniVersion };
      last = result;
      await crash?.afterPluginAdd?.(i, type);
      prev = this.convert(result, cniVersion, list.name, 'ADD');
    }
    const content = encodeCacheFile({
      containerId: rt.containerId,
      config: confListBytes(list),
      ifName: rt.ifName,
      networkName: list.name,
      ...(this.profile.cache?.writesNetns ? { netns: rt.netns } : {}),
      ...(rt.args ? { cniArgs: rt.args } : {}),
      ...(rt.capabilityArgs ? { capabilityArgs: rt.capabilityArgs } : {}),
      ...(last ? { result: last } : {}),
    });
    await writeCacheFile(this.cacheFs, file, content, crash, (e) =>
      new CniRuntimeError(`failed to set network "${list.name}" cached result: ${(e as Error).message}`, { kind: 'cache', operation: 'ADD', network: list.name, cacheFile: file, cause: e }));
    return last ?? { cniVersion };
  }

  async delNetworkList(list: NetworkConfigList, rt: RuntimeConf): Promise<DelOutcome> {
    const cniVersion = this.effectiveCniVersion(list);
    const file = this.cacheFile(list, rt);
    const outcome: DelOutcome = { network: list.name, cacheFile: file, prevResult: 'none', cacheRemoved: false, plugins: [] };
    let prev: CniResult | undefined;
    if (!cniVersionAtLeast(cniVersion, this.profile.del.readsCacheFromCniVersion)) {
      outcome.noPrevResultReason = 'version';
    } else {
      const data = await this.readCache(file);
      if (data === undefined) {
        outcome.noPrevResultReason = 'missing';
      } else {
        const decoded = decodeCachedResult(data, cniVersion);
        if ('error' in decoded) {
          const message = `failed to get network "${list.name}" cached result: ${decoded.error}`;
          if (this.profile.del.onCacheError === 'abort') {
            throw new CniRuntimeError(message, { kind: 'cache', operation: 'DEL', network: list.name, cacheFile: file });
          }
          outcome.toleratedCacheError = message;
          outcome.noPrevResultReason = 'tolerated-error';
          outcome.cacheRemoved = await this.removeCache(file);
        } else if (decoded.result) {
          prev = decoded.result;
          outcome.prevResult = 'cached';
        } else {
          outcome.noPrevResultReason = 'empty-result';
        }
      }
    }
    for (let i = list.plugins.length - 1; i >= 0; i--) {
      const type = pluginType(list, i);
      const path = this.pluginPath(type);
      const stdin = this.pluginConfig(list, i, cniVersion, prev, rt);
      const r = await this.invoke(path, this.env('DEL', rt), stdin, 'DEL', list.name);
      outcome.plugins.push(type);
      if (r.exitCode !== 0) throw this.pluginError(type, path, 'DEL', r, list.name);
    }
    if (this.profile.del.removeCacheAfterDel) {
      if (await this.removeCache(file)) outcome.cacheRemoved = true;
    }
    return outcome;
  }

  async checkNetworkList(list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
    const cniVersion = this.effectiveCniVersion(list);
    if (!cniVersionAtLeast(cniVersion, '0.4.0')) {
      throw new CniRuntimeError(`configuration version ${JSON.stringify(cniVersion)} does not support the CHECK command`, { kind: 'unsupported', operation: 'CHECK', network: list.name });
    }
    if (list.disableCheck) return;
    const file = this.cacheFile(list, rt);
    let prev: CniResult | undefined;
    const data = await this.readCache(file);
    if (data !== undefined) {
      const decoded = decodeCachedResult(data, cniVersion);
      if ('error' in decoded) {
        throw new CniRuntimeError(`failed to get network "${list.name}" cached result: ${decoded.error}`, { kind: 'cache', operation: 'CHECK', network: list.name, cacheFile: file });
      }
      prev = decoded.result;
    }
    for (let i = 0; i < list.plugins.length; i++) {
      const type = pluginType(list, i);
      const path = this.pluginPath(type);
      const r = await this.invoke(path, this.env('CHECK', rt), this.pluginConfig(list, i, cniVersion, prev, rt), 'CHECK', list.name);
      if (r.exitCode !== 0) throw this.pluginError(type, path, 'CHECK', r, list.name);
    }
  }

  /**
   * libcni 1.2's GCNetworkList: DEL every cached attachment of this network that is not in the valid
   * set (unparsable cache files are skipped), then CNI_COMMAND=GC to each plugin when cniVersion >= 1.1.0.
   */
  async gcNetworkList(list: NetworkConfigList, validAttachments: GcAttachmentRef[]): Promise<GcReport> {
    if (!this.profile.gc.supported) {
      throw new CniRuntimeError(`runtime profile ${this.profile.name} has no GC (CNI spec 1.1.0 / libcni 1.2.0 added it)`, { kind: 'unsupported', operation: 'GC', network: list.name });
    }
    const cniVersion = this.effectiveCniVersion(list);
    const report: GcReport = { network: list.name, cniVersion, deleted: [], deleteFailed: [], kept: [], skipped: [], gc: [], errors: [], ok: true };
    if (list.disableGC) {
      report.gcNotSent = 'disableGC is set in the network config';
      return report;
    }
    const valid = new Set(validAttachments.map((a) => `${a.containerId}\u0000${a.ifName}`));
    const dir = resultsDir(this.cacheDir);
    let names: string[] = [];
    try {
      names = (await this.cacheFs.list(dir)).map((n) => n.split('/').pop()!).sort();
    } catch {
      names = []; // libcni: no cache directory, nothing to do
    }
    for (const name of names) {
      const file = `${dir}/${name}`;
      const data = await this.readCache(file);
      if (data === undefined) continue;
      const entry = parseCacheFile(file, data);
      if (entry.state !== 'valid' || !entry.info) {
        // Unknown network: libcni cannot tell whose it is. Report the ones named for this network.
        if (!name.startsWith(`${list.name}-`)) continue;
        let removed = false;
        if (!this.profile.gc.skipUnparsableCache) removed = await this.removeCache(file);
        report.skipped.push({ file, state: entry.state === 'empty' ? 'empty' : 'corrupt', reason: entry.error ?? entry.state, removed });
        continue;
      }
      const info = entry.info;
      if (info.networkName !== list.name) continue;
      const ref = { containerId: info.containerId, ifName: info.ifName, file };
      if (valid.has(`${info.containerId}\u0000${info.ifName}`)) {
        report.kept.push(ref);
        continue;
      }
      const rt: RuntimeConf = {
        containerId: info.containerId,
        netns: info.netns ?? '',
        ifName: info.ifName,
        ...(info.cniArgs ? { args: info.cniArgs } : {}),
        ...(info.capabilityArgs ? { capabilityArgs: info.capabilityArgs } : {}),
      };
      try {
        await this.delNetworkList(list, rt);
        report.deleted.push(ref);
      } catch (e) {
        const error = `failed to delete stale attachment ${info.containerId} ${info.ifName}: ${(e as Error).message}`;
        report.deleteFailed.push({ ...ref, error });
        report.errors.push(error);
      }
    }
    if (!cniVersionAtLeast(cniVersion, '1.1.0')) {
      report.gcNotSent = `cniVersion ${cniVersion} < 1.1.0: plugins do not know GC`;
    } else {
      const attachments = validAttachments.map((a) => ({ containerID: a.containerId, ifname: a.ifName }));
      for (let i = 0; i < list.plugins.length; i++) {
        const type = pluginType(list, i);
        const path = this.pluginPath(type);
        const conf: Record<string, unknown> = { ...list.plugins[i], name: list.name, cniVersion, 'cni.dev/valid-attachments': attachments };
        if (this.profile.gc.legacyAttachmentsKey) conf['cni.dev/attachments'] = attachments;
        const r = await this.invoke(path, this.env('GC', undefined), JSON.stringify(conf), 'GC', list.name);
        if (r.exitCode === 0) {
          report.gc.push({ plugin: type, pluginPath: path, ok: true });
        } else {
          const err = this.pluginError(type, path, 'GC', r, list.name);
          report.gc.push({ plugin: type, pluginPath: path, ok: false, code: err.code, error: err.message });
          report.errors.push(`failed to GC plugin ${type}: ${err.msg}${err.details ? `; ${err.details}` : ''}`);
        }
      }
    }
    report.ok = report.errors.length === 0;
    return report;
  }

  /** STATUS (spec 1.1.0) to each plugin; 50 (unavailable) and 51 (unavailable, connectivity may be limited) surface as codes. */
  async statusNetworkList(list: NetworkConfigList): Promise<StatusReport> {
    if (!this.profile.status.supported) {
      throw new CniRuntimeError(`runtime profile ${this.profile.name} has no STATUS (CNI spec 1.1.0 / libcni 1.2.0 added it)`, { kind: 'unsupported', operation: 'STATUS', network: list.name });
    }
    const cniVersion = this.effectiveCniVersion(list);
    const report: StatusReport = { network: list.name, cniVersion, plugins: [], available: true };
    if (!cniVersionAtLeast(cniVersion, '1.1.0')) {
      report.skipped = `cniVersion ${cniVersion} < 1.1.0: libcni does not ask the plugins`;
      return report;
    }
    for (let i = 0; i < list.plugins.length; i++) {
      const type = pluginType(list, i);
      const path = this.pluginPath(type);
      const conf = { ...list.plugins[i], name: list.name, cniVersion };
      const r = await this.invoke(path, this.env('STATUS', undefined), JSON.stringify(conf), 'STATUS', list.name);
      if (r.exitCode === 0) {
        report.plugins.push({ plugin: type, pluginPath: path, ok: true });
      } else {
        const err = this.pluginError(type, path, 'STATUS', r, list.name);
        report.plugins.push({ plugin: type, pluginPath: path, ok: false, code: err.code, msg: err.msg, ...(err.details ? { details: err.details } : {}), error: err });
        report.available = false;
      }
    }
    return report;
  }

  // ---- internals

  private validateRuntimeConf(list: NetworkConfigList, rt: RuntimeConf): void {
    const fail = (m: string) => {
      throw new CniRuntimeError(`network "${list.name}": ${m}`, { kind: 'config', operation: 'ADD', network: list.name });
    };
    if (!rt.containerId) fail('missing containerID');
    if (!ID_RE.test(rt.containerId)) fail(`invalid characters in containerID ${JSON.stringify(rt.containerId)}`);
    if (!ID_RE.test(list.name)) fail(`invalid characters in network name ${JSON.stringify(list.name)}`);
    if (!rt.ifName) fail('missing interface name');
    if (rt.ifName.length > 15) fail(`interface name ${JSON.stringify(rt.ifName)} is too long (max 15)`);
    if (rt.ifName === '.' || rt.ifName === '..' || /[/:\s]/.test(rt.ifName)) fail(`invalid interface name ${JSON.stringify(rt.ifName)}`);
  }

  /** The plugin's stdin: its config with name, cniVersion, prevResult and the runtimeConfig for its declared capabilities. */
  private pluginConfig(list: NetworkConfigList, index: number, cniVersion: string, prev: CniResult | undefined, rt: RuntimeConf): string {
    const plugin = list.plugins[index]!;
    const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion };
    if (prev) conf.prevResult = prev;
    const caps = plugin.capabilities;
    if (caps && typeof caps === 'object' && rt.capabilityArgs) {
      const rc: Record<string, unknown> = {};
      for (const [cap, enabled] of Object.entries(caps as Record<string, unknown>)) {
        if (enabled === true && cap in rt.capabilityArgs) rc[cap] = rt.capabilityArgs[cap];
      }
      if (Object.keys(rc).length) conf.runtimeConfig = rc;
    }
    return JSON.stringify(conf);
  }

  private env(command: string, rt: RuntimeConf | undefined, path?: string): Record<string, string> {
    return {
      CNI_COMMAND: command,
      CNI_CONTAINERID: rt?.containerId ?? '',
      CNI_NETNS: rt?.netns ?? '',
      CNI_ARGS: stringifyCniArgs(rt?.args),
      CNI_IFNAME: rt?.ifName ?? '',
      CNI_PATH: path ?? this.cniPath,
    };
  }

  private async invoke(pluginPath: string, env: Record<string, string>, stdin: string, command: string, network?: string): Promise<InvokeResult> {
    try {
      return await this.invoker({ pluginPath, env, stdin });
    } catch (e) {
      throw new CniRuntimeError(`could not execute ${pluginPath} (${command}): ${(e as Error).message}`, { kind: 'invoke', operation: command, ...(network ? { network } : {}), cause: e });
    }
  }

  private pluginError(type: string, path: string, command: string, r: InvokeResult, network?: string, versionMismatch?: VersionMismatch): CniPluginError {
    const body = parsePluginError(r);
    return new CniPluginError({
      plugin: type,
      pluginPath: path,
      command,
      ...(network !== undefined ? { network } : {}),
      code: body.code,
      msg: body.msg,
      ...(body.details ? { details: body.details } : {}),
      stdout: r.stdout,
      stderr: r.stderr,
      exitCode: r.exitCode,
      ...(versionMismatch ? { versionMismatch } : {}),
    });
  }

  private async versionMismatch(path: string, cniVersion: string): Promise<VersionMismatch | undefined> {
    if (!this.checkVersions) return undefined;
    let p = this.versions.get(path);
    if (!p) {
      // A plugin that cannot answer VERSION is left to fail (or not) on ADD by itself.
      p = this.version(path).catch(() => undefined);
      this.versions.set(path, p);
    }
    const supported = await p;
    if (!supported || supported.includes(cniVersion)) return undefined;
    return { configVersion: cniVersion, supportedVersions: supported };
  }

  private convert(result: CniResult, cniVersion: string, network: string, command: string): CniResult {
    try {
      return convertResult(result, cniVersion);
    } catch (e) {
      throw new CniRuntimeError(`failed to convert result to config version ${JSON.stringify(cniVersion)}: ${(e as Error).message}`, { kind: 'invoke', operation: command, network });
    }
  }

  /** The file's bytes; undefined when it cannot be read (libcni: "the cached result may not exist on-disk"). */
  private async readCache(file: string): Promise<Buffer | undefined> {
    try {
      return await this.cacheFs.readFile(file);
    } catch {
      return undefined;
    }
  }

  private async removeCache(file: string): Promise<boolean> {
    try {
      await this.cacheFs.removeFile(file);
      return true;
    } catch {
      return false;
    }
  }
}
