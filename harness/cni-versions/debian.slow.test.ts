// Real plugin versions from Debian's mirror, through the private apt configuration.
import { execaSync } from 'execa';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from './cache.ts';
import { listInstalled, resolvePlugins } from './index.ts';
import { networkSkipReason, titled } from '../../testing/network.ts';

// Made only when the tests run: a skipped file runs no hooks, so it must create nothing.
let cacheDir: string;

/** The system's apt and dpkg state, which the private configuration must leave alone. */
function systemAptState(): string {
  const paths = ['/etc/apt/sources.list', '/var/lib/dpkg/status', '/var/cache/apt/pkgcache.bin', '/var/cache/apt/srcpkgcache.bin'];
  for (const d of ['/etc/apt/sources.list.d', '/var/lib/apt/lists', '/var/cache/apt/archives']) {
    if (existsSync(d)) for (const f of readdirSync(d)) paths.push(join(d, f));
  }
  return paths
    .filter((p) => existsSync(p))
    .map((p) => `${p} ${statSync(p).mtimeMs} ${statSync(p).size}`)
    .join('\n');
}

function versionOf(dir: string): { cniVersion: string; supportedVersions: string[] } {
  const out = execaSync(join(dir, 'host-local'), { env: { CNI_COMMAND: 'VERSION' }, extendEnv: false, input: '' }).stdout;
  return JSON.parse(out);
}

const offline = await networkSkipReason('the Debian source tests', ['1.1.1', '0.9.0', 'sid'], 'cold');

describe.skipIf(offline)(titled('Debian source (network: the Debian mirror)', offline), () => {
  beforeAll(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'faultline-debian-test-'));
  });
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));
  const before = systemAptState();

  it('installs 1.1.1 from bookworm: real binaries, exact package version recorded', async () => {
    const progress: string[] = [];
    const r = await resolvePlugins('1.1.1', { cacheDir, onProgress: (m) => progress.push(m) });
    expect(r.version).toBe('1.1.1');
    expect(r.source).toMatch(/^debian:1\.1\.1\+ds1-\d+/);
    expect(r.dir).toBe(join(cacheDir, '1.1.1'));
    expect(Object.keys(r.sha256)).toEqual(expect.arrayContaining(['host-local', 'bridge', 'portmap', 'bandwidth', 'loopback']));
    expect(versionOf(r.dir).supportedVersions).toEqual(['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0']);
    const m = await readManifest(cacheDir, '1.1.1');
    expect(m?.origin).toMatchObject({ suite: 'bookworm', package: 'containernetworking-plugins' });
    expect(String(m?.origin.url)).toMatch(/\/pool\/main\/.*containernetworking-plugins_1\.1\.1.*\.deb$/);
    expect(progress.some((p) => p.startsWith('downloading '))).toBe(true);
  });

  it('installs 0.9.0 from bullseye: speaks CNI up to 0.4.0 only', async () => {
    const r = await resolvePlugins('0.9.0', { cacheDir });
    expect(r.source).toMatch(/^debian:0\.9\.0-1(\+b\d+)?$/);
    const v = versionOf(r.dir);
    expect(v.supportedVersions).toContain('0.4.0');
    expect(v.supportedVersions).not.toContain('1.0.0');
    // The plugins 0.9.0 and 1.1.1 are different builds.
    const other = await resolvePlugins('1.1.1', { cacheDir });
    expect(r.sha256['host-local']).not.toBe(other.sha256['host-local']);
  });

  it('resolves sid to what Debian unstable carries now, cached under the exact upstream version', async () => {
    const r = await resolvePlugins('sid', { cacheDir, movingMaxAgeMs: 0 });
    expect(r.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.source.startsWith(`debian:${r.version}`)).toBe(true);
    expect(r.dir).toBe(join(cacheDir, r.version));
    const m = await readManifest(cacheDir, r.version);
    expect(m?.origin).toMatchObject({ suite: 'sid' });
    const alias = JSON.parse(readFileSync(join(cacheDir, '.aliases', 'sid.json'), 'utf8'));
    expect(alias).toMatchObject({ version: r.version, packageVersion: m?.origin.packageVersion });
    expect(versionOf(r.dir).supportedVersions).toContain('1.0.0');
    // `latest` is the same suite: answered from the recorded resolution, no index fetch.
    const progress: string[] = [];
    expect(await resolvePlugins('latest', { cacheDir, onProgress: (p) => progress.push(p) })).toEqual(r);
    expect(progress).toEqual([]);
    expect((await listInstalled(cacheDir)).map((e) => e.version)).toEqual(expect.arrayContaining(['0.9.0', '1.1.1', r.version]));
  });

  it("leaves the system's apt and dpkg state untouched", () => {
    expect(systemAptState()).toBe(before);
  });
});
