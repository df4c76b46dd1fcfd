// libcni's result cache, in its exact layout and format:
//   <cacheDir>/results/<networkName>-<containerID>-<ifName>   (dir 0700, file 0600)
//   {"kind":"cniCacheV1","containerId":..,"config":<base64 of the conflist bytes>,"ifName":..,
//    "networkName":..,"netns":.. (libcni >= 1.2.0),"cniArgs":..,"capabilityArgs":..,"result":..}
// Field order is the Go struct's; empty netns/cniArgs/capabilityArgs/result are omitted (omitempty);
// map contents (result, capabilityArgs) have sorted keys. libcni writes the file with a plain
// os.WriteFile (create/truncate, then write): a crash in between leaves an empty file.
import type { CacheEntry } from '../../model/snapshot.ts';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { goDecodeCniVersion, goJsonMarshal, goJsonString, goJsonSyntaxError } from './go-json.ts';
import { convertResult } from './result.ts';
import type { CacheFs, CrashPoints } from './types.ts';
import type { CniResult } from '../../model/cni.ts';

export const CACHE_KIND = 'cniCacheV1';
export const DEFAULT_CACHE_DIR = '/var/lib/cni';
export const CACHE_DIR_MODE = 0o700;
export const CACHE_FILE_MODE = 0o600;

export function resultsDir(cacheDir: string): string {
  return path.posix.join(cacheDir, 'results');
}

export function cacheFilePath(cacheDir: string, networkName: string, containerId: string, ifName: string): string {
  if (!networkName || !containerId || !ifName) {
    throw new Error(`cache file path requires network name (${JSON.stringify(networkName)}), container ID (${JSON.stringify(containerId)}), and interface name (${JSON.stringify(ifName)})`);
  }
  return path.posix.join(resultsDir(cacheDir), `${networkName}-${containerId}-${ifName}`);
}

/** The decoded content of a cniCacheV1 file. */
export interface CachedInfo {
  kind: string;
  containerId: string;
  /** base64 of the network config bytes, as Go encodes a []byte. */
  config: string;
  ifName: string;
  networkName: string;
  netns?: string;
  cniArgs?: [string, string][];
  capabilityArgs?: Record<string, unknown>;
  result?: Record<string, unknown>;
}

export interface CacheWriteInput {
  containerId: string;
  /** The network config bytes (a conflist's file content). */
  config: string | Uint8Array;
  ifName: string;
  networkName: string;
  /** Written only when set (libcni >= 1.2.0 writes it). */
  netns?: string;
  cniArgs?: [string, string][];
  capabilityArgs?: Record<string, unknown>;
  result?: CniResult;
}

/** The file content libcni would write, byte for byte (modulo Go's float formatting of exotic numbers). */
export function encodeCacheFile(input: CacheWriteInput): string {
  const configB64 = Buffer.from(typeof input.config === 'string' ? Buffer.from(input.config, 'utf8') : input.config).toString('base64');
  const parts: string[] = [
    `"kind":${goJsonString(CACHE_KIND)}`,
    `"containerId":${goJsonString(input.containerId)}`,
    `"config":${goJsonString(configB64)}`,
    `"ifName":${goJsonString(input.ifName)}`,
    `"networkName":${goJsonString(input.networkName)}`,
  ];
  if (input.netns) parts.push(`"netns":${goJsonString(input.netns)}`);
  if (input.cniArgs && input.cniArgs.length) parts.push(`"cniArgs":${goJsonMarshal(input.cniArgs)}`);
  if (input.capabilityArgs && Object.keys(input.capabilityArgs).length) parts.push(`"capabilityArgs":${goJsonMarshal(input.capabilityArgs)}`);
  if (input.result && Object.keys(input.result).length) parts.push(`"result":${goJsonMarshal(input.result)}`);
  return `{${parts.join(',')}}`;
}

/**
 * libcni's non-atomic write: the file is created (or truncated) empty, `crash.duringCacheWrite` runs,
 * then the content is written. A throw from the hook leaves the empty file behind and propagates
 * unchanged; filesystem errors go through `wrapFsError` when given.
 */
export async function writeCacheFile(cacheFs: CacheFs, file: string, content: string, crash?: CrashPoints, wrapFsError?: (e: unknown) => unknown): Promise<void> {
  const fs = async (op: () => Promise<void>) => {
    try {
      await op();
    } catch (e) {
      throw wrapFsError ? wrapFsError(e) : e;
    }
  };
  await fs(() => cacheFs.mkdir(path.posix.dirname(file), CACHE_DIR_MODE));
  await fs(() => cacheFs.writeFile(file, '', CACHE_FILE_MODE));
  await crash?.duringCacheWrite?.(file);
  await fs(() => cacheFs.writeFile(file, content, CACHE_FILE_MODE));
}

/** One file of <cacheDir>/results as the observation layer reports it (the timeline's type). */
export type { CacheEntry };

/**
 * Classifies a cache file the way libcni's GetCachedAttachments decides what it can use: valid only
 * when it is JSON of kind cniCacheV1 with ifName and networkName.
 */
export function parseCacheFile(file: string, data: Uint8Array): CacheEntry & { info?: CachedInfo } {
  if (data.length === 0) return { file, state: 'empty', error: 'unexpected end of JSON input' };
  const syntax = goJsonSyntaxError(data);
  if (syntax) return { file, state: 'corrupt', error: syntax };
  const v: unknown = JSON.parse(Buffer.from(data).toString('utf8'));
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { file, state: 'corrupt', error: `not a JSON object` };
  const rec = v as Record<string, unknown>;
  const str = (k: string) => (typeof rec[k] === 'string' ? (rec[k] as string) : undefined);
  const ids = {
    ...(str('containerId') !== undefined ? { containerId: str('containerId')! } : {}),
    ...(str('ifName') !== undefined ? { ifName: str('ifName')! } : {}),
    ...(str('networkName') !== undefined ? { networkName: str('networkName')! } : {}),
  };
  if (rec.kind !== CACHE_KIND) return { file, state: 'corrupt', ...ids, error: `kind is ${JSON.stringify(rec.kind ?? null)}, not ${JSON.stringify(CACHE_KIND)}` };
  if (!ids.ifName || !ids.networkName) return { file, state: 'corrupt', ...ids, error: 'missing ifName or networkName' };
  return { file, state: 'valid', ...ids, info: rec as unknown as CachedInfo };
}

/** Every file under <cacheDir>/results, sorted by name (as libcni lists them); [] when there is no such directory. */
export async function readCacheEntries(cacheFs: CacheFs, cacheDir: string = DEFAULT_CACHE_DIR): Promise<CacheEntry[]> {
  const dir = resultsDir(cacheDir);
  let names: string[];
  try {
    names = await cacheFs.list(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: CacheEntry[] = [];
  for (const name of [...names].map((n) => path.posix.basename(n)).sort()) {
    const file = path.posix.join(dir, name);
    let data: Buffer;
    try {
      data = await cacheFs.readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed meanwhile
      out.push({ file, state: 'corrupt', error: `unreadable: ${(e as Error).message}` });
      continue;
    }
    const { info: _info, ...entry } = parseCacheFile(file, data);
    out.push(entry);
  }
  return out;
}

/**
 * libcni's getCachedResult for a file's bytes: the cached result converted to `cniVersion`, or the
 * error text libcni wraps as `failed to get network "<net>" cached result: <error>`.
 * A cniCacheV1 file gives its `result`; anything else is tried as a bare (pre-cniCacheV1) result, whose
 * version decoding fails with "decoding version from network config: <json error>".
 */
export function decodeCachedResult(data: Uint8Array, cniVersion: string): { result: CniResult | undefined } | { error: string } {
  let raw: unknown;
  let isV1 = false;
  if (!goJsonSyntaxError(data)) {
    const v: unknown = JSON.parse(Buffer.from(data).toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v) && (v as Record<string, unknown>).kind === CACHE_KIND) {
      isV1 = true;
      raw = (v as Record<string, unknown>).result;
    }
  }
  let bytes: Uint8Array = data;
  if (isV1) {
    if (raw === undefined || raw === null) return { result: undefined };
    bytes = Buffer.from(JSON.stringify(raw));
  }
  const dv = goDecodeCniVersion(bytes);
  if ('error' in dv) return { error: `decoding version from network config: ${dv.error}` };
  const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as CniResult | null;
  if (parsed === null) return { result: undefined };
  const result: CniResult = { ...parsed, cniVersion: dv.version || '0.1.0' };
  try {
    return { result: convertResult(result, cniVersion) };
  } catch (e) {
    return { error: `failed to convert cached result to config version ${JSON.stringify(cniVersion)}: ${(e as Error).message}` };
  }
}

/** A CacheFs on this machine's filesystem (absolute paths); for tests and for nodes whose disk is a host directory. */
export function localCacheFs(): CacheFs {
  return {
    readFile: (p) => readFile(p),
    writeFile: (p, d, mode) => writeFile(p, d, mode === undefined ? {} : { mode }),
    removeFile: (p) => rm(p),
    list: async (d) => {
      try {
        return await readdir(d);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw e;
      }
    },
    mkdir: async (p, mode) => {
      await mkdir(p, { recursive: true, mode });
    },
  };
}
