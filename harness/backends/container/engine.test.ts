// Which engine the container backend picks, and the private podman's configuration: no engine or
// podman needed (a unix socket answering /_ping stands in for a Docker engine; scripts for binaries).
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PODMAN_INSTALL, containersConf, planEngine, runcWrapper, storageConf } from './engine.ts';

const work = mkdtempSync(join(tmpdir(), 'faultline-engine-test-'));
const engineSocket = join(work, 'engine.sock');
const nowhere = join(work, 'no-such.sock');
let server: Server;

beforeAll(async () => {
  server = createServer((req, res) => res.writeHead(req.url === '/_ping' ? 200 : 404).end('OK'));
  await new Promise<void>((r) => server.listen(engineSocket, r));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(work, { recursive: true, force: true });
});

/** A dir of stand-in executables. */
function bins(...names: string[]): string {
  const dir = mkdtempSync(join(work, 'bin-'));
  for (const n of names) {
    writeFileSync(join(dir, n), '#!/bin/sh\nexit 0\n');
    chmodSync(join(dir, n), 0o755);
  }
  return dir;
}

describe('planEngine', () => {
  it('uses the engine DOCKER_HOST names when it answers', async () => {
    expect(await planEngine({ DOCKER_HOST: `unix://${engineSocket}`, PATH: '' }, { extraDirs: [], defaultSocket: nowhere })).toEqual({ kind: 'external', socketPath: engineSocket, source: 'DOCKER_HOST' });
  });

  it('refuses a DOCKER_HOST that does not answer, or is not a local socket, and says what to do', async () => {
    const dead = await planEngine({ DOCKER_HOST: `unix://${nowhere}`, PATH: bins('podman', 'runc', 'conmon') }, { extraDirs: [], defaultSocket: engineSocket });
    expect(dead).toMatchObject({ kind: 'none', reason: expect.stringContaining(`DOCKER_HOST=unix://${nowhere} does not answer`), fix: expect.stringMatching(/unset DOCKER_HOST/) });
    const tcp = await planEngine({ DOCKER_HOST: 'tcp://10.0.0.1:2375', PATH: '' }, { extraDirs: [], defaultSocket: nowhere });
    expect(tcp).toMatchObject({ kind: 'none', reason: expect.stringContaining('is not a unix socket') });
  });

  it('takes a Docker engine on the default socket before starting podman', async () => {
    expect(await planEngine({ PATH: bins('podman', 'runc', 'conmon') }, { extraDirs: [], defaultSocket: engineSocket })).toEqual({ kind: 'external', socketPath: engineSocket, source: 'the default socket' });
  });

  it('otherwise plans the private podman, with its dir in the per-user cache', async () => {
    const dir = bins('podman', 'runc', 'conmon');
    const plan = await planEngine({ PATH: dir, FAULTLINE_CONTAINER_DIR: join(work, 'c') }, { extraDirs: [], defaultSocket: nowhere });
    expect(plan).toEqual({ kind: 'private-podman', podman: join(dir, 'podman'), runc: join(dir, 'runc'), conmon: join(dir, 'conmon'), dir: join(work, 'c', 'podman') });
  });

  it('without an engine or podman: the fix installs podman without its /etc/cni conflist', async () => {
    const plan = await planEngine({ PATH: bins('runc') }, { extraDirs: [], defaultSocket: nowhere });
    expect(plan.kind).toBe('none');
    if (plan.kind !== 'none') return;
    expect(plan.reason).toMatch(/podman, conmon not installed/);
    expect(plan.fix).toContain(PODMAN_INSTALL);
    expect(PODMAN_INSTALL).toContain('-o Dpkg::Options::=--path-exclude=/etc/cni -o Dpkg::Options::=--path-exclude=/etc/cni/*');
  });
});

describe('the private podman configuration', () => {
  const dir = '/state/podman';
  const conf = containersConf(dir, `${dir}/bin/runc`);
  const hard = (name: string) => {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name))!;
    const v = line.slice(name.length).trim().split(/\s+/)[1]!;
    return v === 'unlimited' ? Infinity : Number(v);
  };

  it('keeps podman away from the host: CNI backend with a private config dir, file locks, runc state, storage', () => {
    expect(conf).toContain('network_backend = "cni"');
    expect(conf).toContain(`network_config_dir = "${dir}/networks"`);
    expect(conf).toContain('lock_type = "file"');
    expect(conf).toContain(`tmp_dir = "${dir}/run/libpod"`);
    expect(conf).toContain(`volume_path = "${dir}/storage/volumes"`);
    expect(conf).toContain(`runc = ["${dir}/bin/runc"]`);
    expect(conf).toContain('cgroup_manager = "cgroupfs"');
    expect(conf).toContain('exit_command_delay = 5');
    expect(runcWrapper('/usr/sbin/runc', dir)).toBe(`#!/bin/sh\nexec '/usr/sbin/runc' --root '${dir}/run/runc' "$@"\n`);
    expect(storageConf(dir)).toContain(`graphroot = "${dir}/storage"`);
    expect(storageConf(dir)).toContain(`runroot = "${dir}/run/storage"`);
  });

  it('asks for no more open files and processes than this process may have', () => {
    const m = /default_ulimits = \["nofile=(\d+):(\d+)", "nproc=(\d+):(\d+)"\]/.exec(conf);
    expect(m).not.toBeNull();
    const [nofile, , nproc] = m!.slice(1).map(Number) as [number, number, number, number];
    expect(nofile).toBeLessThanOrEqual(hard('Max open files'));
    expect(nproc).toBeLessThanOrEqual(hard('Max processes'));
  });

  it('refuses paths a shell wrapper cannot quote', () => {
    expect(() => runcWrapper("/opt/it's/runc", dir)).toThrow(/quotes/);
  });

  it('is valid TOML', async () => {
    const { parse } = await import('smol-toml');
    expect(parse(conf)).toMatchObject({ network: { network_backend: 'cni' }, engine: { runtime: 'runc' } });
    expect(parse(storageConf(dir))).toMatchObject({ storage: { driver: 'overlay' } });
  });
});
