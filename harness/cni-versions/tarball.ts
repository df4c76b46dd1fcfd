// The upstream release tarball (cni-plugins-linux-<arch>-v<version>.tgz) with the .sha256 file
// published beside it. The tarball is refused unless its digest matches.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FaultlineError } from '../errors.ts';
import { describeError, throwIfAborted } from './cache.ts';
import { runTool } from './run.ts';

export const DEFAULT_URL_TEMPLATE =
  'https://github.com/containernetworking/plugins/releases/download/v{version}/cni-plugins-linux-{arch}-v{version}.tgz';

/** Upstream's name for this machine's architecture. */
export function upstreamArch(arch: string = process.arch): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', mips64el: 'mips64le' };
  const a = map[arch];
  if (!a) throw new FaultlineError('prerequisite', `no upstream CNI plugin builds for architecture ${arch}`);
  return a;
}

export function tarballUrl(version: string, template?: string, env: NodeJS.ProcessEnv = process.env): string {
  const t = template ?? env.FAULTLINE_CNI_URL_TEMPLATE ?? DEFAULT_URL_TEMPLATE;
  return t.replaceAll('{version}', version).replaceAll('{arch}', upstreamArch());
}

export interface FetchProgress {
  signal?: AbortSignal | undefined;
  onProgress?: ((message: string) => void) | undefined;
}

async function get(url: string, p: FetchProgress): Promise<Response> {
  throwIfAborted(p.signal);
  let res: Response;
  try {
    res = await fetch(url, { signal: p.signal ?? null, redirect: 'follow' });
  } catch (e) {
    throwIfAborted(p.signal);
    throw new FaultlineError('environment', `could not download ${url}: ${describeError(e)}`, {
      hint: 'check the network, or set $FAULTLINE_CNI_URL_TEMPLATE to a mirror you can reach, or use --source debian|dir',
    });
  }
  if (!res.ok) {
    throw new FaultlineError('environment', `could not download ${url}: HTTP ${res.status} ${res.statusText}`, {
      hint: res.status === 404 ? 'is this a released plugin version? (see the upstream releases page)' : undefined,
    });
  }
  return res;
}

/** The first 64-hex token of a .sha256 file ("<hex>  <name>"). */
export function parseSha256File(text: string): string | undefined {
  return /\b([0-9a-fA-F]{64})\b/.exec(text)?.[1]?.toLowerCase();
}

/** Downloads, verifies and unpacks the tarball's plugins into `dest`. */
export async function fetchTarballPlugins(url: string, dest: string, p: FetchProgress): Promise<{ url: string; sha256: string; size: number }> {
  const sumUrl = `${url}.sha256`;
  const sumRes = await get(sumUrl, p);
  const expected = parseSha256File(await sumRes.text());
  if (!expected) throw new FaultlineError('environment', `${sumUrl} holds no sha256 digest`);

  const work = join(dest, '.download');
  await mkdir(work, { recursive: true });
  const file = join(work, 'plugins.tgz');
  p.onProgress?.(`downloading ${url}`);
  const res = await get(url, p);
  const total = Number(res.headers.get('content-length') ?? 0);
  const hash = createHash('sha256');
  let seen = 0;
  let lastReport = Date.now();
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    seen += chunk.length;
    if (Date.now() - lastReport > 1000) {
      lastReport = Date.now();
      p.onProgress?.(`downloading ${url}: ${(seen / 1e6).toFixed(1)}${total ? ` of ${(total / 1e6).toFixed(1)}` : ''} MB`);
    }
  });
  try {
    await pipeline(body, createWriteStream(file), p.signal ? { signal: p.signal } : {});
  } catch (e) {
    throwIfAborted(p.signal);
    throw new FaultlineError('environment', `download of ${url} failed: ${describeError(e)}`);
  }
  const actual = hash.digest('hex');
  if (actual !== expected) {
    throw new FaultlineError('environment', `checksum mismatch for ${url}: ${sumUrl} says ${expected}, the download is ${actual}; refused`, {
      hint: 'the download or the mirror is corrupt or tampered with; nothing was installed',
    });
  }
  p.onProgress?.(`unpacking ${url.split('/').pop()}`);
  const root = join(work, 'root');
  await mkdir(root);
  // GNU tar refuses members with '..' and strips leading '/'; only top-level regular files are taken.
  const x = await runTool('tar', ['-xzf', file, '-C', root, '--no-same-owner', '--no-same-permissions'], { signal: p.signal, providedBy: 'tar' });
  if (x.code !== 0) throw new FaultlineError('environment', `could not unpack ${url}: ${x.stderr.trim()}`);
  let taken = 0;
  for (const e of await readdir(root, { withFileTypes: true })) {
    if (!e.isFile() || /^(LICENSE|README)/i.test(e.name)) continue;
    const st = await stat(join(root, e.name));
    if (!(st.mode & 0o111)) continue;
    await rename(join(root, e.name), join(dest, e.name));
    taken++;
  }
  if (taken === 0) throw new FaultlineError('environment', `${url} holds no plugin binaries`);
  await rm(work, { recursive: true, force: true });
  return { url, sha256: actual, size: seen };
}
