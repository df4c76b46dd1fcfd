// Pinned upstream files (manifests, install scripts): fetched once into faultline's per-user cache,
// named by their sha256, and refused unless the bytes match the pin. The repository holds only the URL
// and the digest; nothing upstream is copied into it. A cached file is re-hashed on every use (a file
// changed on disk is refused the same way a download would be).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FaultlineError } from '../errors.ts';
import { describeError, throwIfAborted, withLock } from '../cni-versions/cache.ts';
import { componentsCacheDir } from '../components/containerd.ts';

export interface PinnedFile {
  url: string;
  sha256: string;
}

export interface FetchedFile extends PinnedFile {
  /** The verified file in the cache. */
  file: string;
  /** Whether it came from the cache (false: downloaded now). */
  cached: boolean;
  bytes: number;
}

export interface FetchOptions {
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Most bytes a pinned file may have (manifests are a few MB at most). */
  maxBytes?: number;
}

const SHA256 = /^[0-9a-f]{64}$/;
export const MAX_PINNED_BYTES = 32 * 1024 * 1024;

/** $FAULTLINE_COMPONENTS_DIR/manifests (the per-user cache), one file per digest. */
export function manifestCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(componentsCacheDir(env), 'manifests');
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The pinned file, verified; downloaded on first use. */
export async function fetchPinned(pin: PinnedFile, o: FetchOptions = {}): Promise<FetchedFile> {
  if (!SHA256.test(pin.sha256)) throw new FaultlineError('invalid-input', `${pin.url}: sha256 must be 64 lowercase hex digits, found ${JSON.stringify(pin.sha256)}`);
  if (!/^https?:\/\//.test(pin.url)) throw new FaultlineError('invalid-input', `${pin.url}: only http(s) URLs can be pinned`);
  const dir = manifestCacheDir(o.env);
  const file = path.join(dir, pin.sha256);
  const fromCache = async (): Promise<FetchedFile | undefined> => {
    if (!existsSync(file)) return undefined;
    const data = await readFile(file);
    if (sha(data) !== pin.sha256) {
      // Changed on disk since it was verified: never used, fetched again.
      await rm(file, { force: true });
      return undefined;
    }
    return { ...pin, file, cached: true, bytes: data.length };
  };
  const hit = await fromCache();
  if (hit) return hit;
  await mkdir(dir, { recursive: true });
  return withLock(dir, `pin-${pin.sha256.slice(0, 16)}`, o.signal, async () => {
    const again = await fromCache();
    if (again) return again;
    o.onProgress?.(`fetching ${pin.url}`);
    const data = await download(pin.url, o);
    const actual = sha(data);
    if (actual !== pin.sha256) {
      throw new FaultlineError('environment', `checksum mismatch for ${pin.url}: pinned ${pin.sha256}, downloaded ${actual} (${data.length} bytes); refused, nothing was cached`, {
        hint: 'the upstream file changed or the download was tampered with: check the URL points at a tag or commit, and update the pin only after reviewing the new content',
      });
    }
    const tmp = `${file}.tmp-${process.pid}`;
    await writeFile(tmp, data, { mode: 0o644 });
    await rename(tmp, file);
    return { ...pin, file, cached: false, bytes: data.length };
  });
}

async function download(url: string, o: FetchOptions): Promise<Buffer> {
  throwIfAborted(o.signal);
  const max = o.maxBytes ?? MAX_PINNED_BYTES;
  let res: Response;
  try {
    res = await fetch(url, { signal: o.signal ?? AbortSignal.timeout(120_000), redirect: 'follow' });
  } catch (e) {
    throwIfAborted(o.signal);
    throw new FaultlineError('environment', `could not download ${url}: ${describeError(e)}`, { hint: 'check the network; pinned files are fetched once and then kept in the cache' });
  }
  if (!res.ok) throw new FaultlineError('environment', `could not download ${url}: HTTP ${res.status} ${res.statusText}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > max) throw new FaultlineError('environment', `${url} is larger than ${max} bytes; refused`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/**
 * A manifest's text with image references replaced (e.g. multus-cni:snapshot -> multus-cni:v4.0.2,
 * as the projects' own install steps do with sed). Every `from` must occur: a pin whose content
 * no longer has the image is a stale profile, not a silent no-op.
 */
export function replaceImages(text: string, images: Readonly<Record<string, string>>, what: string): string {
  let out = text;
  for (const [from, to] of Object.entries(images)) {
    if (!out.includes(from)) throw new FaultlineError('invalid-input', `${what}: the image ${from} the profile replaces does not occur in the manifest`);
    out = out.split(from).join(to);
  }
  return out;
}
