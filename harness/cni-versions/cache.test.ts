// The cache layout and the sources that need no network: dir, system; errors; Debian helpers.
import { execaSync } from 'execa';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FaultlineError } from '../errors.ts';
import { cleanStaleTemps, cniCacheDir, commitEntry, listEntries, makeTempDir, readManifest, withLock, type Manifest } from './cache.ts';
import { debianMirror, upstreamVersion } from './debian.ts';
import { SYSTEM_CNI_DIR, listInstalled, removeInstalled, resolvePlugins } from './index.ts';

const work = mkdtempSync(join(tmpdir(), 'faultline-cache-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const freshCache = () => mkdtempSync(join(work, `cache${n++}-`));

function fakePlugins(names = ['host-local', 'bridge']): string {
  const dir = mkdtempSync(join(work, 'plugins-'));
  for (const p of names) {
    writeFileSync(join(dir, p), `#!/bin/sh\necho ${p}\n`);
    chmodSync(join(dir, p), 0o755);
  }
  writeFileSync(join(dir, 'notes.txt'), 'not a plugin (not executable)\n');
  return dir;
}

const errOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as FaultlineError);

describe('cache location', () => {
  it('prefers $FAULTLINE_CACHE_DIR, then $XDG_CACHE_HOME, then ~/.cache', () => {
    expect(cniCacheDir({ FAULTLINE_CACHE_DIR: '/x/y', XDG_CACHE_HOME: '/xdg' })).toBe('/x/y');
    expect(cniCacheDir({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/faultline/cni');
    expect(cniCacheDir({ XDG_CACHE_HOME: 'relative' })).toMatch(/\/\.cache\/faultline\/cni$/);
    expect(cniCacheDir({})).toMatch(/\/\.cache\/faultline\/cni$/);
  });
});

describe('entries', () => {
  it('an entry counts only with a valid manifest under its version name', async () => {
    const cache = freshCache();
    mkdirSync(join(cache, '1.0.0'));
    writeFileSync(join(cache, '1.0.0', 'host-local'), 'x');
    mkdirSync(join(cache, '1.0.1'));
    writeFileSync(join(cache, '1.0.1', 'manifest.json'), '{"schema":1,'); // cut short
    mkdirSync(join(cache, '.tmp-1.0.2-1-deadbeef'));
    writeFileSync(join(cache, '.tmp-1.0.2-1-deadbeef', 'manifest.json'), '{}');
    expect(await listEntries(cache)).toEqual([]);
    expect(await readManifest(cache, '1.0.1')).toBeUndefined();
  });

  it('commit writes the manifest, then renames into place, replacing an older entry', async () => {
    const cache = freshCache();
    const base = { schema: 1, version: '2.0.0', kind: 'dir', origin: {}, dir: '', installedAt: new Date().toISOString() } as const;
    for (const content of ['one', 'two!']) {
      const temp = await makeTempDir(cache, '2.0.0');
      writeFileSync(join(temp, 'host-local'), content);
      const m: Manifest = { ...base, source: `dir:${content}`, sha256: { 'host-local': 'h' }, sizes: { 'host-local': content.length } };
      await commitEntry(cache, temp, m);
    }
    expect(readdirSync(cache).sort()).toEqual(['2.0.0']);
    expect((await readManifest(cache, '2.0.0'))?.source).toBe('dir:two!');
    expect((await readManifest(cache, '2.0.0'))?.dir).toBe(join(cache, '2.0.0'));
  });

  it('cleans temp dirs of dead processes, keeps those of live ones', async () => {
    const cache = freshCache();
    const deadPid = Number(execaSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout);
    mkdirSync(join(cache, `.tmp-3.0.0-${deadPid}-0badc0de`));
    const mine = await makeTempDir(cache, '3.0.1');
    const removed = await cleanStaleTemps(cache);
    expect(removed).toEqual([`.tmp-3.0.0-${deadPid}-0badc0de`]);
    expect(existsSync(mine)).toBe(true);
  });

  it('a lock serialises holders, whichever comes first', async () => {
    const cache = freshCache();
    const order: string[] = [];
    const hold = (name: string, ms: number) =>
      withLock(cache, 'v', undefined, async () => {
        order.push(`${name}+`);
        await new Promise((r) => setTimeout(r, ms));
        order.push(`${name}-`);
        return name;
      });
    expect(await Promise.all([hold('a', 100), hold('b', 10)])).toEqual(['a', 'b']);
    // Either may win; the other enters only after the first has left.
    const first = order[0]![0]!;
    const second = first === 'a' ? 'b' : 'a';
    expect(order).toEqual([`${first}+`, `${first}-`, `${second}+`, `${second}-`]);
  });

  it('a lock slot a power cut left empty counts as free', async () => {
    const cache = freshCache();
    mkdirSync(join(cache, '.locks', 'w'), { recursive: true });
    writeFileSync(join(cache, '.locks', 'w', 'slot-3'), '');
    expect(await withLock(cache, 'w', undefined, async () => 'got it')).toBe('got it');
    // Taken as slot 4, released as slot 5; the older slots are gone.
    expect(readdirSync(join(cache, '.locks', 'w')).sort()).toEqual(['slot-4', 'slot-5']);
  });
});

describe('resolvePlugins without network', () => {
  it('rejects names that are not versions, listing the known ones', async () => {
    const cache = freshCache();
    for (const bad of ['foo', '1.2', '../1.0.0', '1.0.0/..', '']) {
      const e = await errOf(resolvePlugins(bad, { cacheDir: cache }));
      expect(e, bad).toBeInstanceOf(FaultlineError);
      expect(e!.code).toBe('invalid-input');
      expect(e!.message).toMatch(/known versions:/);
      expect(e!.message).toMatch(/0\.9\.0 \(Debian bullseye/);
      expect(e!.message).toMatch(/sid \/ latest/);
    }
    expect(readdirSync(cache)).toEqual([]);
  });

  it('caches a copy of a directory under a version (--from-dir), then reuses it', async () => {
    const cache = freshCache();
    const src = fakePlugins();
    const r = await resolvePlugins('1.2.3', { cacheDir: cache, source: 'dir', fromDir: src });
    expect(r).toMatchObject({ version: '1.2.3', source: `dir:${src}`, dir: join(cache, '1.2.3') });
    expect(Object.keys(r.sha256).sort()).toEqual(['bridge', 'host-local']);
    rmSync(src, { recursive: true }); // the copy does not depend on the original
    expect(await resolvePlugins('1.2.3', { cacheDir: cache })).toEqual(r);
    expect(execaSync(join(r.dir, 'host-local')).stdout.trim()).toBe('host-local');
    expect((await listInstalled(cache)).map((m) => m.version)).toEqual(['1.2.3']);
    expect(await removeInstalled('1.2.3', cache)).toBe(true);
    expect(await listInstalled(cache)).toEqual([]);
  });

  it('refuses a directory without host-local', async () => {
    const cache = freshCache();
    const e = await errOf(resolvePlugins('1.2.4', { cacheDir: cache, source: 'dir', fromDir: fakePlugins(['bridge']) }));
    expect(e!.message).toMatch(/no host-local/);
    expect(readdirSync(cache).filter((x) => x !== '.locks')).toEqual([]);
  });

  it('uses dir:/path in place, hashing it', async () => {
    const src = fakePlugins();
    const r = await resolvePlugins(`dir:${src}`, { cacheDir: freshCache() });
    expect(r).toMatchObject({ version: `dir:${src}`, source: `dir:${src}`, dir: src });
    expect(r.sha256['host-local']).toMatch(/^[0-9a-f]{64}$/);
    const e = await errOf(resolvePlugins(`dir:${join(src, 'nope')}`, { cacheDir: freshCache() }));
    expect(e!.code).toBe('invalid-input');
  });

  it('records the system plugins with their Debian version, without copying', async () => {
    // scripts/setup.mjs installs containernetworking-plugins: its absence is a broken setup, not a skip.
    expect(existsSync(join(SYSTEM_CNI_DIR, 'host-local')), `${SYSTEM_CNI_DIR}/host-local missing: run node scripts/setup.mjs`).toBe(true);
    const cache = freshCache();
    const r = await resolvePlugins('system', { cacheDir: cache });
    expect(r.dir).toBe(SYSTEM_CNI_DIR);
    expect(r.source).toBe(`system:${SYSTEM_CNI_DIR}`);
    const pkg = execaSync('dpkg-query', ['-W', '-f=${Version}', 'containernetworking-plugins']).stdout;
    expect(r.version).toBe(upstreamVersion(pkg));
    expect(readdirSync(join(cache, 'system'))).toEqual(['manifest.json']);
    expect((await readManifest(cache, 'system'))?.origin).toMatchObject({ packageVersion: pkg });
  });

  it('says which Debian URL failed when the mirror is unreachable', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    await new Promise((r) => srv.close(r));
    process.env.FAULTLINE_DEBIAN_MIRROR = `http://127.0.0.1:${port}/debian`;
    try {
      const cache = freshCache();
      const e = await errOf(resolvePlugins('1.1.1', { cacheDir: cache }));
      expect(e!.code).toBe('environment');
      expect(e!.message).toContain(`http://127.0.0.1:${port}/debian/dists/bookworm/InRelease`);
      expect(e!.message).toMatch(/refused|Could not connect/);
      expect(await listInstalled(cache)).toEqual([]);
    } finally {
      delete process.env.FAULTLINE_DEBIAN_MIRROR;
    }
  });
});

describe('Debian helpers', () => {
  it('takes the upstream version out of a Debian version', () => {
    expect(upstreamVersion('1.1.1+ds1-3+b5')).toBe('1.1.1');
    expect(upstreamVersion('0.9.0-1+b6')).toBe('0.9.0');
    expect(upstreamVersion('1.9.1+ds1-1')).toBe('1.9.1');
    expect(upstreamVersion('1:2.0.0~rc1+dfsg-2')).toBe('2.0.0-rc1');
  });

  it("reuses the mirror of the system's own Debian sources", () => {
    const etc = mkdtempSync(join(work, 'etc-'));
    mkdirSync(join(etc, 'sources.list.d'));
    expect(debianMirror({}, etc)).toBe('http://deb.debian.org/debian');
    writeFileSync(
      join(etc, 'sources.list.d', 'debian.sources'),
      'Types: deb\n# http://snapshot.example/x\nURIs: http://mirror.example.org/debian-security\nSuites: bookworm-security\n\n' +
        'Types: deb\nURIs: http://ftp.example.org/debian/\nSuites: bookworm bookworm-updates\nComponents: main\n',
    );
    expect(debianMirror({}, etc)).toBe('http://ftp.example.org/debian');
    writeFileSync(join(etc, 'sources.list'), '# deb http://commented.example/debian bookworm main\ndeb [arch=amd64] http://one.example/debian bookworm main\n');
    expect(debianMirror({}, etc)).toBe('http://one.example/debian');
    expect(debianMirror({ FAULTLINE_DEBIAN_MIRROR: 'http://env.example/debian/' }, etc)).toBe('http://env.example/debian');
  });
});
