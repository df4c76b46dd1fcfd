import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CommandIO } from '../command.ts';
import { type Check, doctorCommand, doctorCommandWith, formatChecks, runDoctor } from './doctor.ts';

const work = mkdtempSync(join(tmpdir(), 'faultline-doctor-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const byName = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.name, c]));

function script(dir: string, name: string, body: string): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

describe('runDoctor', () => {
  it('lists every prerequisite; on this machine (set up by scripts/setup.mjs) the required ones are there', async () => {
    const checks = await runDoctor({ env: { ...process.env, FAULTLINE_CACHE_DIR: join(work, 'cache') } });
    const c = byName(checks);
    for (const name of ['root', 'node', 'unshare', 'nsenter', 'setpriv', 'ip', 'iptables', 'namespaces', 'overlayfs', 'cni-plugins', 'cni-cache']) {
      expect(c[name]?.required, name).toBe(true);
    }
    for (const name of ['container-engine', 'container-image', 'kind', 'kubectl']) expect(c[name]?.required, name).toBe(false);
    expect(checks.filter((x) => !x.required).every((x) => x.status !== 'missing')).toBe(true);
    if (process.getuid?.() === 0) {
      expect(checks.filter((x) => x.status === 'missing')).toEqual([]);
    } else {
      expect(c.root?.status).toBe('missing');
    }
    expect(c['cni-cache']?.detail).toContain(join(work, 'cache'));
  });

  it('names the package to install for each missing binary, and fails the namespace checks without unshare', async () => {
    const empty = join(work, 'empty-bin');
    mkdirSync(empty, { recursive: true });
    const c = byName(await runDoctor({ env: { PATH: empty, FAULTLINE_CACHE_DIR: join(work, 'cache') }, extraDirs: [] }));
    expect(c.unshare).toMatchObject({ status: 'missing', fix: 'apt-get install util-linux' });
    expect(c.setpriv).toMatchObject({ status: 'missing', fix: 'apt-get install util-linux' });
    expect(c.ip).toMatchObject({ status: 'missing', fix: 'apt-get install iproute2' });
    expect(c.iptables).toMatchObject({ status: 'missing', fix: 'apt-get install iptables' });
    expect(c.namespaces?.status).toBe('missing');
    expect(c.overlayfs?.status).toBe('missing');
    expect(c['kind-engine']).toMatchObject({ status: 'optional', fix: expect.stringContaining('install Docker') });
    expect(c['container-engine']?.status).toBe('optional');
  });

  it('flags non-root, an old Node.js and missing system plugins', async () => {
    const c = byName(await runDoctor({ uid: 1000, nodeVersion: '20.4.0', systemCniDir: join(work, 'no-cni') }));
    expect(c.root).toMatchObject({ status: 'missing', fix: expect.stringMatching(/root/) });
    expect(c.node).toMatchObject({ status: 'missing', detail: expect.stringContaining('>= 20.5') });
    expect(c['cni-plugins']).toMatchObject({ status: 'missing', fix: 'apt-get install containernetworking-plugins' });
    expect(byName(await runDoctor({ nodeVersion: '22.0.0' })).node?.status).toBe('ok');
  });

  it('accepts only the real kind binary, not something else called kind', async () => {
    const real = script(join(work, 'kind-real'), 'kind', 'echo "kind v0.27.0 go1.23.4 linux/amd64"');
    const other = script(join(work, 'kind-other'), 'kind', 'echo "usage: kind <types>"; exit 1');
    const ok = byName(await runDoctor({ env: { ...process.env, FAULTLINE_KIND: real } })).kind;
    expect(ok).toMatchObject({ status: 'ok', detail: expect.stringContaining(`v0.27.0 (FAULTLINE_KIND=${real})`) });
    const bad = byName(await runDoctor({ env: { ...process.env, FAULTLINE_KIND: other } })).kind;
    expect(bad).toMatchObject({ status: 'optional', detail: expect.stringContaining('is not a working kind binary') });
    expect(bad?.fix).toMatch(/npm package/);
  });

  it('shows the container backend: the engine found or to be started, the image, each with its fix (optional lines)', async () => {
    const sock = join(work, 'engine.sock');
    const srv = createServer((req, res) => res.writeHead(req.url === '/_ping' ? 200 : 404).end('OK'));
    await new Promise<void>((r) => srv.listen(sock, r));
    try {
      const up = byName(await runDoctor({ env: { ...process.env, DOCKER_HOST: `unix://${sock}` } }))['container-engine'];
      expect(up).toMatchObject({ status: 'ok', required: false, detail: expect.stringContaining(`Docker-API engine at ${sock} (DOCKER_HOST)`) });
    } finally {
      await new Promise((r) => srv.close(r));
    }
    const down = byName(await runDoctor({ env: { ...process.env, DOCKER_HOST: `unix://${sock}` } }));
    expect(down['container-engine']).toMatchObject({ status: 'optional', detail: expect.stringContaining('(container backend)'), fix: expect.stringMatching(/unset DOCKER_HOST/) });
    expect(down['container-image']?.detail).toMatch(/localhost\/faultline-node:[0-9a-f]{16} (built|not built)/);
  });
});

describe('doctorCommand', () => {
  function io(): CommandIO & { lines: string[] } {
    const lines: string[] = [];
    return { lines, out: (l) => lines.push(l), err: (l) => lines.push(l), signal: new AbortController().signal };
  }

  it('prints one line per check with ok/missing/optional, and exits 3 when something required is missing', async () => {
    const empty = join(work, 'empty-bin2');
    mkdirSync(empty, { recursive: true });
    const a = io();
    const code = await doctorCommandWith({ env: { PATH: empty }, extraDirs: [] }).run({}, [], a);
    expect(code).toBe(3);
    expect(a.lines.some((l) => /^missing\s+unshare\s/.test(l))).toBe(true);
    expect(a.lines.some((l) => /fix: apt-get install util-linux/.test(l))).toBe(true);
    expect(a.lines.at(-1)).toMatch(/required prerequisite\(s\) missing/);
  });

  it('as root: exits 0 when everything required is there', async (ctx) => {
    ctx.skip(process.getuid?.() !== 0, 'needs root: faultline requires it, so doctor cannot pass without it');
    const a = io();
    expect(await doctorCommand.run({}, [], a)).toBe(0);
    // One line per check: node, each backend's own checks, and 3 more (cni-plugins, cni-cache, go).
    const { getBackend, availableBackends } = await import('../../backends/index.ts');
    const own = (await Promise.all(availableBackends().map((b) => getBackend(b).check()))).flat().length;
    expect(a.lines.filter((l) => /^(ok|missing|optional)\s/.test(l)).length).toBe(1 + own + 3);
  });

  it("--backend container makes that backend's checks required: no engine and no podman to start is exit 3 with the fix", async () => {
    const empty = join(work, 'empty-bin3');
    mkdirSync(empty, { recursive: true });
    const a = io();
    const env = { PATH: empty, DOCKER_HOST: `unix://${join(work, 'nothing.sock')}` };
    expect(await doctorCommandWith({ env, extraDirs: [] }).run({ backend: 'container' }, [], a)).toBe(3);
    expect(a.lines.some((l) => /^missing\s+container-engine\s+DOCKER_HOST=unix:\/\/\S+ does not answer/.test(l))).toBe(true);
    expect(a.lines.some((l) => /fix: start that engine, or unset DOCKER_HOST to let faultline start podman/.test(l))).toBe(true);
    // The local backend's checks are optional then.
    expect(a.lines.some((l) => /^optional\s+unshare\s/.test(l))).toBe(true);
    await expect(doctorCommandWith({ env, extraDirs: [] }).run({ backend: 'nope' }, [], io())).rejects.toMatchObject({ code: 'usage' });
  });

  it('--backend container with no Docker engine and no podman: the fix installs podman without its /etc/cni conflist', async (ctx) => {
    ctx.skip(existsSync('/var/run/docker.sock'), 'a Docker engine may answer on the default socket here');
    const empty = join(work, 'empty-bin4');
    mkdirSync(empty, { recursive: true });
    const a = io();
    expect(await doctorCommandWith({ env: { PATH: empty }, extraDirs: [] }).run({ backend: 'container' }, [], a)).toBe(3);
    expect(a.lines.some((l) => /^missing\s+container-engine\s+no Docker-API engine .* podman, runc, conmon not installed/.test(l))).toBe(true);
    expect(a.lines).toContainEqual(expect.stringContaining('fix: apt-get install -o Dpkg::Options::=--path-exclude=/etc/cni -o Dpkg::Options::=--path-exclude=/etc/cni/* podman runc catatonit'));
  });

  it('formats fixes on their own line under the check', () => {
    const lines = formatChecks([
      { name: 'a', status: 'ok', required: true, detail: 'fine' },
      { name: 'bee', status: 'missing', required: true, detail: 'gone', fix: 'get it' },
    ]);
    expect(lines).toEqual(['ok       a    fine', 'missing  bee  gone', '              fix: get it']);
  });
});

describe('the local backend’s checks', () => {
  it('are the ones doctor shows, including perl for its exec agent', async () => {
    const { LOCAL_BACKEND_BINARIES } = await import('../../backends/local/checks.ts');
    const shown = new Set((await runDoctor()).map((c) => c.name));
    for (const { bin } of LOCAL_BACKEND_BINARIES) expect(shown.has(bin), bin).toBe(true);
    expect(LOCAL_BACKEND_BINARIES.find((b) => b.bin === 'perl')?.pkg).toBe('perl-base');
  });
});
