// The upstream-tarball source against a loopback HTTP server serving tarballs this test builds.
import { execa, execaSync } from 'execa';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FaultlineError } from '../errors.ts';
import { REPO_ROOT } from '../version.ts';
import { readManifest } from './cache.ts';
import { listInstalled, resolvePlugins } from './index.ts';
import { upstreamArch } from './tarball.ts';

const work = mkdtempSync(join(tmpdir(), 'faultline-tarball-test-'));
const arch = upstreamArch();

/** A tarball shaped like upstream's: ./host-local, ./bridge, ./LICENSE, ./README.md. */
function buildTarball(name: string, marker: string): Buffer {
  const dir = join(work, `src-${name}`);
  mkdirSync(dir, { recursive: true });
  for (const plugin of ['host-local', 'bridge', 'loopback']) {
    writeFileSync(
      join(dir, plugin),
      `#!/bin/sh\n# ${marker}\nif [ "$CNI_COMMAND" = VERSION ]; then echo '{"cniVersion":"1.0.0","supportedVersions":["0.3.1","0.4.0","1.0.0"]}'; fi\n`,
    );
    chmodSync(join(dir, plugin), 0o755);
  }
  writeFileSync(join(dir, 'LICENSE'), 'Apache-2.0\n');
  writeFileSync(join(dir, 'README.md'), 'plugins\n');
  const out = join(work, `${name}.tgz`);
  execaSync('tar', ['-czf', out, '-C', dir, '.']);
  return readFileSync(out);
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

interface Route {
  body: Buffer | string;
  /** Send half, signal, then hang (until the client goes away). */
  stall?: boolean;
}

const routes = new Map<string, Route>();
const hits = new Map<string, number>();
let stalled: () => void = () => {};
let server: Server;
let base = '';

function tarPath(version: string) {
  return `/v${version}/cni-plugins-linux-${arch}-v${version}.tgz`;
}

function publish(version: string, tgz: Buffer, opts: { sum?: string; stall?: boolean; noSum?: boolean } = {}) {
  routes.set(tarPath(version), { body: tgz, stall: opts.stall ?? false });
  if (!opts.noSum) routes.set(`${tarPath(version)}.sha256`, { body: `${opts.sum ?? sha(tgz)}  cni-plugins-linux-${arch}-v${version}.tgz\n` });
}

const template = () => `${base}/v{version}/cni-plugins-linux-{arch}-v{version}.tgz`;

beforeAll(async () => {
  server = createServer((req, res: ServerResponse) => {
    const path = req.url ?? '';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const r = routes.get(path);
    if (!r) {
      res.writeHead(404).end('not found');
      return;
    }
    const body = Buffer.from(r.body);
    res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' });
    if (r.stall) {
      res.write(body.subarray(0, body.length >> 1), () => stalled());
      return; // never ends: the client aborts or is killed
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(work, { recursive: true, force: true });
});

let cacheDir = '';
beforeEach(() => {
  cacheDir = mkdtempSync(join(work, 'cache-'));
});

const entriesOf = (dir: string) => readdirSync(dir).filter((n) => !n.startsWith('.locks'));

describe('tarball source', () => {
  it('downloads, verifies and caches the plugins with a manifest', async () => {
    const tgz = buildTarball('ok', 'v1.4.0');
    publish('1.4.0', tgz);
    const progress: string[] = [];
    const t0 = Date.now();
    const r = await resolvePlugins('1.4.0', { cacheDir, source: 'tarball', urlTemplate: template(), onProgress: (m) => progress.push(m) });
    const url = `${base}${tarPath('1.4.0')}`;
    expect(r).toMatchObject({ version: '1.4.0', source: `tarball:${url}`, dir: join(cacheDir, '1.4.0') });
    expect(Object.keys(r.sha256).sort()).toEqual(['bridge', 'host-local', 'loopback']); // LICENSE, README left out
    expect(r.sha256['host-local']).toBe(sha(readFileSync(join(r.dir, 'host-local'))));
    const out = execaSync(join(r.dir, 'host-local'), { env: { CNI_COMMAND: 'VERSION', PATH: '/usr/bin:/bin' }, extendEnv: false }).stdout;
    expect(JSON.parse(out).supportedVersions).toContain('1.0.0');
    const m = await readManifest(cacheDir, '1.4.0');
    expect(m).toMatchObject({ version: '1.4.0', kind: 'tarball', origin: { url, tarballSha256: sha(tgz) } });
    expect(Date.parse(m!.installedAt)).toBeGreaterThanOrEqual(t0);
    expect(Date.parse(m!.installedAt)).toBeLessThanOrEqual(Date.now());
    expect(progress.some((p) => p.includes(url))).toBe(true);
    expect(entriesOf(cacheDir)).toEqual(['1.4.0']); // no temp dirs left
  });

  it('takes a leading v and the template from $FAULTLINE_CNI_URL_TEMPLATE', async () => {
    publish('1.4.1', buildTarball('env', 'v1.4.1'));
    process.env.FAULTLINE_CNI_URL_TEMPLATE = template();
    try {
      const r = await resolvePlugins('v1.4.1', { cacheDir, source: 'tarball' });
      expect(r.version).toBe('1.4.1');
      expect(r.source).toBe(`tarball:${base}${tarPath('1.4.1')}`);
    } finally {
      delete process.env.FAULTLINE_CNI_URL_TEMPLATE;
    }
  });

  it('reuses the cached version from its manifest without downloading again', async () => {
    publish('1.4.2', buildTarball('reuse', 'v1.4.2'));
    const path = tarPath('1.4.2');
    const first = await resolvePlugins('1.4.2', { cacheDir, source: 'tarball', urlTemplate: template() });
    expect(hits.get(path)).toBe(1);
    const again = await resolvePlugins('1.4.2', { cacheDir, urlTemplate: template() });
    expect(again).toEqual(first);
    expect(hits.get(path)).toBe(1);
    expect(hits.get(`${path}.sha256`)).toBe(1);
  });

  it('installs again when a cached binary changed size, and on --force', async () => {
    publish('1.4.3', buildTarball('damaged', 'v1.4.3'));
    const path = tarPath('1.4.3');
    const r = await resolvePlugins('1.4.3', { cacheDir, source: 'tarball', urlTemplate: template() });
    writeFileSync(join(r.dir, 'bridge'), 'truncated');
    const progress: string[] = [];
    const again = await resolvePlugins('1.4.3', { cacheDir, urlTemplate: template(), source: 'tarball', onProgress: (m) => progress.push(m) });
    expect(hits.get(path)).toBe(2);
    expect(progress.join('\n')).toMatch(/changed on disk/);
    expect(again.sha256.bridge).toBe(r.sha256.bridge);
    await resolvePlugins('1.4.3', { cacheDir, urlTemplate: template(), source: 'tarball', force: true });
    expect(hits.get(path)).toBe(3);
  });

  it('automatic source: a version Debian cannot provide comes from the tarball', async () => {
    publish('1.4.8', buildTarball('auto', 'v1.4.8'));
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    process.env.FAULTLINE_DEBIAN_MIRROR = `http://127.0.0.1:${port}/debian`; // Debian unreachable
    try {
      const progress: string[] = [];
      const r = await resolvePlugins('1.4.8', { cacheDir, urlTemplate: template(), onProgress: (m) => progress.push(m) });
      expect(r.source).toBe(`tarball:${base}${tarPath('1.4.8')}`);
      expect(progress.join('\n')).toMatch(/could not check Debian sid for 1\.4\.8/);
    } finally {
      delete process.env.FAULTLINE_DEBIAN_MIRROR;
    }
  });

  it('refuses a tarball whose digest does not match its .sha256, leaving nothing in the cache', async () => {
    publish('1.4.4', buildTarball('bad', 'v1.4.4'), { sum: 'ab'.repeat(32) });
    const err = await resolvePlugins('1.4.4', { cacheDir, source: 'tarball', urlTemplate: template() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaultlineError);
    expect((err as FaultlineError).code).toBe('environment');
    expect((err as FaultlineError).message).toMatch(/checksum mismatch/);
    expect((err as FaultlineError).message).toContain('ab'.repeat(32));
    expect(entriesOf(cacheDir)).toEqual([]);
    expect(await listInstalled(cacheDir)).toEqual([]);
  });

  it('calls a version with no published release unknown (invalid input, listing known versions)', async () => {
    const err = await resolvePlugins('9.9.9', { cacheDir, source: 'tarball', urlTemplate: template() }).catch((e: unknown) => e);
    expect((err as FaultlineError).code).toBe('invalid-input');
    expect((err as FaultlineError).message).toMatch(/unknown CNI plugin version '9.9.9'/);
    expect((err as FaultlineError).message).toMatch(/1\.1\.1 \(Debian bookworm/);
    expect(entriesOf(cacheDir)).toEqual([]);
  });

  it('reports an unreachable server as an environment error naming the URL', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await resolvePlugins('1.4.5', {
      cacheDir,
      source: 'tarball',
      urlTemplate: `http://127.0.0.1:${port}/v{version}/p-{arch}.tgz`,
    }).catch((e: unknown) => e);
    expect((err as FaultlineError).code).toBe('environment');
    expect((err as FaultlineError).message).toContain(`http://127.0.0.1:${port}/v1.4.5/p-${arch}.tgz.sha256`);
    expect((err as FaultlineError).message).toMatch(/ECONNREFUSED/);
  });

  it('an install aborted mid-download leaves no entry and no temp dir', async () => {
    publish('1.4.6', buildTarball('abort', 'v1.4.6'), { stall: true });
    const ac = new AbortController();
    stalled = () => ac.abort(new FaultlineError('interrupted', 'interrupted by SIGINT'));
    const err = await resolvePlugins('1.4.6', { cacheDir, source: 'tarball', urlTemplate: template(), signal: ac.signal }).catch(
      (e: unknown) => e,
    );
    stalled = () => {};
    expect((err as FaultlineError).code).toBe('interrupted');
    expect(entriesOf(cacheDir)).toEqual([]);
    expect(await readManifest(cacheDir, '1.4.6')).toBeUndefined();
  });

  it('an install killed mid-download leaves nothing complete-looking, and the next install cleans up', async () => {
    publish('1.4.7', buildTarball('killed', 'v1.4.7'), { stall: true });
    const script = join(work, 'install-child.mts');
    writeFileSync(
      script,
      `import { resolvePlugins } from ${JSON.stringify(join(REPO_ROOT, 'harness/cni-versions/index.ts'))};\n` +
        `await resolvePlugins('1.4.7', { cacheDir: process.argv[2], source: 'tarball', urlTemplate: process.argv[3] });\n`,
    );
    const child = execa(process.execPath, ['--import', 'tsx', script, cacheDir, template()], { cwd: REPO_ROOT, stdio: 'ignore', reject: false });
    const ended = child.then((r) => r);
    await Promise.race([
      new Promise<void>((resolve) => (stalled = resolve)),
      ended.then((r) => Promise.reject(new Error(`child exited early (${r.exitCode ?? r.signal})`))),
    ]);
    stalled = () => {};
    child.kill('SIGKILL');
    expect((await ended).signal).toBe('SIGKILL');

    const left = entriesOf(cacheDir);
    expect(left.some((n) => n.startsWith('.tmp-1.4.7-'))).toBe(true); // the half-done work is there...
    expect(left).not.toContain('1.4.7'); // ...but never under the version's name
    expect(await listInstalled(cacheDir)).toEqual([]);

    publish('1.4.7', buildTarball('killed', 'v1.4.7'));
    const r = await resolvePlugins('1.4.7', { cacheDir, source: 'tarball', urlTemplate: template() });
    expect(r.version).toBe('1.4.7');
    expect(entriesOf(cacheDir)).toEqual(['1.4.7']);
    expect(statSync(join(cacheDir, '1.4.7', 'manifest.json')).isFile()).toBe(true);
  });
});
