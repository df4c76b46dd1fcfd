// The kind backend on this machine, for real: the real kind binary (Debian sid's, provisioned into the
// cache), its offline decoding of the configs faultline generates (a decode error located at the
// stack file's line), kind's own choice of engine, and the refusal when no engine answers or no node
// image is there: exit 3, the exact reason and the fix, nothing left behind.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../errors.ts';
import { resolveKubeTool, toolVersion, type ResolvedKubeTool } from '../../components/kube-tools.ts';
import { parseYamlWithPositions } from '../../schema/yaml.ts';
import { REPO_ROOT } from '../../version.ts';
import { faultline, tempDir } from '../../../testing/cli.ts';
import { checkKindConfig, decodeWithKind, generateKindConfig } from './kind-config.ts';
import { detectProvider } from './engine.ts';
import { KindBackend, defaultNodeImage, kindContainerNames, registryOf } from './kind-backend.ts';

let kind: ResolvedKubeTool;
let kubectl: ResolvedKubeTool;
let work: { dir: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  kind = await resolveKubeTool('kind', { env: { ...process.env, FAULTLINE_KIND: 'debian' } });
  kubectl = await resolveKubeTool('kubectl', { env: { ...process.env, FAULTLINE_KUBECTL: 'debian' } });
  work = await tempDir('faultline-kind-test-');
}, 120_000);
afterAll(() => work?.cleanup());

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A dir holding executable scripts named like engine CLIs (`docker -v` etc.). */
function fakeBin(name: string, scripts: Record<string, string>): string {
  const dir = path.join(work.dir, name);
  mkdirSync(dir, { recursive: true });
  for (const [bin, body] of Object.entries(scripts)) {
    writeFileSync(path.join(dir, bin), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(dir, bin), 0o755);
  }
  return dir;
}

describe('kind and kubectl, provisioned', () => {
  it('are the real binaries from Debian sid, with their version and sha256', async () => {
    expect(kind.source).toMatch(/^debian:sid kind=\d+\.\d+\.\d+/);
    expect(kind.version).toMatch(/^v\d+\.\d+\.\d+/);
    expect(kind.sha256).toBe(sha256(kind.path));
    expect(await toolVersion('kind', kind.path)).toBe(kind.version);
    expect(kubectl.source).toMatch(/^debian:sid kubectl=/);
    expect(kubectl.version).toMatch(/^v1\.\d+\.\d+/);
    expect(kubectl.sha256).toBe(sha256(kubectl.path));
    // The default node image is the binary's own (kind's defaults.Image).
    expect(defaultNodeImage(kind.path)).toMatch(/^kindest\/node:v1\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
  });

  it('FAULTLINE_KIND names another binary; what is not kind is refused with the reason', async () => {
    const own = await resolveKubeTool('kind', { env: { ...process.env, FAULTLINE_KIND: kind.path } });
    expect(own).toMatchObject({ version: kind.version, sha256: kind.sha256, source: `FAULTLINE_KIND=${kind.path}` });
    const notKind = fakeBin('not-kind', { kind: 'echo "this is the npm package of that name" >&2; exit 1' });
    await expect(resolveKubeTool('kind', { env: { ...process.env, FAULTLINE_KIND: path.join(notKind, 'kind') } })).rejects.toThrow(/is not a working kind binary.*npm package of that name/);
    await expect(resolveKubeTool('kind', { env: { ...process.env, FAULTLINE_KIND: 'kind' } })).rejects.toThrow(/expected an absolute path to the kind binary, 'path'/);
    await expect(resolveKubeTool('kind', { env: { PATH: notKind.replace('not-kind', 'nowhere'), FAULTLINE_KIND: 'path' } })).rejects.toThrow(/there is no kind on PATH/);
  });
});

describe('the generated kind config, decoded by the real binary', () => {
  const stackFile = () => path.join(work.dir, 'stack.yaml');
  const stackText = ['name: kind/x', 'config:', '  networking:', '    kubeProxyMode: ipvs', '    kubeProxyModez: ipvs', ''].join('\n');

  it('one control plane and N-1 workers, the pod subnet, disableDefaultCNI and the node image decode', async () => {
    const c = generateKindConfig({ clusterName: 'fl-test-0', nodes: 3, nodeImage: 'kindest/node:v1.30.4', podSubnet: '10.16.0.0/16', disableDefaultCNI: true, extra: { networking: { kubeProxyMode: 'ipvs' } } });
    const parsed = parseYamlWithPositions(c.yaml, 'c.yaml');
    expect(parsed.ok && parsed.value).toMatchObject({
      kind: 'Cluster',
      apiVersion: 'kind.x-k8s.io/v1alpha4',
      networking: { podSubnet: '10.16.0.0/16', disableDefaultCNI: true, kubeProxyMode: 'ipvs' },
      nodes: [{ role: 'control-plane', image: 'kindest/node:v1.30.4' }, { role: 'worker', image: 'kindest/node:v1.30.4' }, { role: 'worker', image: 'kindest/node:v1.30.4' }],
    });
    const r = await decodeWithKind(kind.path, c, 'fl-test-0');
    expect(r.ok, r.output).toBe(true);
    expect(kindContainerNames('fl-test-0', 3)).toEqual(['fl-test-0-control-plane', 'fl-test-0-worker', 'fl-test-0-worker2']);
  });

  it("kind's decode error names the stack file's line and key, not the generated file's", async () => {
    writeFileSync(stackFile(), stackText);
    const parsed = parseYamlWithPositions(stackText, stackFile());
    if (!parsed.ok) throw new Error('fixture');
    const extra = (parsed.value as { config: Record<string, unknown> }).config;
    const c = generateKindConfig({ clusterName: 'fl-test-1', nodes: 2, podSubnet: '10.52.0.0/16', disableDefaultCNI: false, extra, sources: { extra: { file: stackFile(), positions: parsed.positions, path: ['config'] } } });
    const err = await checkKindConfig(kind.path, c, 'fl-test-1', { file: 'scenario.yaml' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidInputError);
    const problems = (err as InvalidInputError).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]!.location).toEqual({ file: stackFile(), line: 5, column: 5 });
    expect(problems[0]!.message).toMatch(/^config\.networking\.kubeProxyModez: kind cannot decode this value: field kubeProxyModez not found in type v1alpha4\.Networking/);
  });
});

describe('the engine, chosen as kind chooses it', () => {
  it('no docker and no podman: none, with the fix', async () => {
    const plan = await detectProvider({ env: { PATH: fakeBin('empty', {}) } });
    expect(plan).toMatchObject({ ok: false, reason: expect.stringContaining('neither `docker -v` nor `podman -v` answers') });
  });

  it('docker when `docker -v` says "Docker version" (even if podman is there), podman otherwise', async () => {
    const both = fakeBin('both', { docker: 'echo "Docker version 28.2.2, build e6534b4"', podman: 'echo "podman version 4.3.1"' });
    expect(await detectProvider({ env: { PATH: both } })).toMatchObject({ ok: true, provider: 'docker', cli: path.join(both, 'docker') });
    const aliased = fakeBin('aliased', { docker: 'echo "podman version 4.3.1"', podman: 'echo "podman version 4.3.1"' });
    expect(await detectProvider({ env: { PATH: aliased } })).toMatchObject({ ok: true, provider: 'podman', why: expect.stringContaining('no docker CLI') });
    expect(await detectProvider({ env: { PATH: both, KIND_EXPERIMENTAL_PROVIDER: 'podman' } })).toMatchObject({ ok: true, provider: 'podman', why: 'KIND_EXPERIMENTAL_PROVIDER' });
    expect(await detectProvider({ env: { PATH: both, KIND_EXPERIMENTAL_PROVIDER: 'nerdctl' } })).toMatchObject({ ok: false, reason: expect.stringContaining("docker and podman providers only") });
  });

  it("the registry of a node image is where kind's pull would go", () => {
    expect(registryOf('kindest/node:v1.30.4')).toEqual({ host: 'registry-1.docker.io', port: 443 });
    expect(registryOf('docker.io/kindest/node:v1')).toEqual({ host: 'registry-1.docker.io', port: 443 });
    expect(registryOf('127.0.0.1:9/kindest/node:v1')).toEqual({ host: '127.0.0.1', port: 9 });
    expect(registryOf('ghcr.io/x/y:z')).toEqual({ host: 'ghcr.io', port: 443 });
  });
});

describe('kind cannot run here: refused before anything is created', () => {
  const scenario = path.join(REPO_ROOT, 'scenarios', 'kind', 'multus-self-nesting-kind.yaml');
  const kubeHome = path.join(os.homedir(), '.kube', 'config');
  const before = () => (existsSync(kubeHome) ? sha256(kubeHome) : 'absent');

  it('a docker CLI whose engine does not answer: exit 3, the reason and the fix, nothing left', async () => {
    const state = path.join(work.dir, 'state-docker');
    const out = path.join(work.dir, 'out-docker');
    const docker = fakeBin('docker-no-engine', { docker: 'case "$1" in -v) echo "Docker version 28.2.2, build e6534b4";; *) echo "Cannot connect to the Docker daemon at unix:///nonexistent/docker.sock. Is the docker daemon running?" >&2; exit 1;; esac' });
    const kube = before();
    const t0 = performance.now();
    const r = await faultline(['run', scenario, '--out', out], { PATH: `${docker}:/usr/sbin:/usr/bin:/sbin:/bin`, FAULTLINE_STATE_DIR: state, HOME: process.env.HOME ?? '/root', FAULTLINE_KIND: kind.path, FAULTLINE_KUBECTL: kubectl.path });
    const ms = performance.now() - t0;
    process.stderr.write(`kind refusal (docker without engine): ${Math.round(ms)} ms\n`);
    expect(r.exitCode, r.all).toBe(3);
    expect(r.all).toContain('the kind backend cannot run here');
    expect(r.all).toContain('kind would use docker (`docker -v` says "Docker version 28.2.2, build e6534b4"), but its engine does not answer: Cannot connect to the Docker daemon');
    expect(r.all).toContain('fix: start the Docker engine');
    expect(before()).toBe(kube);
    expect(existsSync(path.join(state, 'runs')) ? readdirSync(path.join(state, 'runs')) : []).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });

  it('no engine at all: exit 3 with the fix', async () => {
    const state = path.join(work.dir, 'state-none');
    const r = await faultline(['run', scenario], { PATH: fakeBin('nothing', { node: `exec ${process.execPath} "$@"` }), FAULTLINE_STATE_DIR: state, FAULTLINE_KIND: kind.path, FAULTLINE_KUBECTL: kubectl.path });
    expect(r.exitCode, r.all).toBe(3);
    expect(r.all).toContain('no container engine for kind: neither `docker -v` nor `podman -v` answers');
    expect(r.all).toContain('fix: install Docker');
    expect(existsSync(path.join(state, 'runs')) ? readdirSync(path.join(state, 'runs')) : []).toEqual([]);
  });

  it('podman answers but the node image is neither there nor reachable: exit 3 naming the image and the registry, nothing in podman', async () => {
    const podman = (await execa('sh', ['-c', 'command -v podman'], { reject: false })).stdout.trim();
    if (!podman) throw new Error('podman is not installed (apt-get install podman): this test needs it');
    // A private podman storage (nothing of the host's), and an image on a registry at a closed loopback port.
    const pd = path.join(work.dir, 'podman');
    mkdirSync(path.join(pd, 'run'), { recursive: true });
    writeFileSync(path.join(pd, 'storage.conf'), `[storage]\ndriver = "vfs"\ngraphroot = "${pd}/storage"\nrunroot = "${pd}/run"\n`);
    writeFileSync(path.join(pd, 'containers.conf'), `[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "none"\ntmp_dir = "${pd}/tmp"\nruntime = "runc"\n[network]\nnetwork_backend = "cni"\nnetwork_config_dir = "${pd}/net"\n`);
    const env = { PATH: `${path.dirname(podman)}:/usr/sbin:/usr/bin:/sbin:/bin`, KIND_EXPERIMENTAL_PROVIDER: 'podman', CONTAINERS_STORAGE_CONF: path.join(pd, 'storage.conf'), CONTAINERS_CONF: path.join(pd, 'containers.conf'), HOME: pd };
    const text = readFileSync(scenario, 'utf8').replace('  stack:\n', "  kind:\n    nodeImage: 127.0.0.1:9/kindest/node:v0.0.0\n  stack:\n");
    const file = path.join(work.dir, 'multus-loopback-image.yaml');
    writeFileSync(file, text);
    const state = path.join(work.dir, 'state-podman');
    const t0 = performance.now();
    const r = await faultline(['run', file, '--out', path.join(work.dir, 'out-podman')], { ...env, FAULTLINE_STATE_DIR: state, FAULTLINE_KIND: kind.path, FAULTLINE_KUBECTL: kubectl.path });
    process.stderr.write(`kind refusal (podman, no node image): ${Math.round(performance.now() - t0)} ms\n`);
    expect(r.exitCode, r.all).toBe(3);
    expect(r.all).toContain("no node image: 127.0.0.1:9/kindest/node:v0.0.0 is not in the podman engine's image store, and its registry 127.0.0.1:9 cannot be reached (ECONNREFUSED)");
    expect(r.all).toContain('fix: pull or load it where the registry is reachable');
    const ps = await execa(podman, ['ps', '-a', '--format', '{{.Names}}'], { env, extendEnv: false });
    const vols = await execa(podman, ['volume', 'ls', '--quiet'], { env, extendEnv: false });
    const nets = await execa(podman, ['network', 'ls', '--format', '{{.Name}}'], { env, extendEnv: false });
    expect([ps.stdout.trim(), vols.stdout.trim(), nets.stdout.trim().split('\n').filter((n) => n !== 'podman').join(',')]).toEqual(['', '', '']);
    expect(existsSync(path.join(state, 'runs')) ? readdirSync(path.join(state, 'runs')) : []).toEqual([]);
  }, 60_000);

  it('doctor lists the kind backend with what is missing', async () => {
    const checks = await new KindBackend().check({ env: { PATH: fakeBin('empty2', {}), FAULTLINE_KIND: kind.path, FAULTLINE_KUBECTL: kubectl.path } });
    expect(checks.find((c) => c.name === 'kind')).toMatchObject({ ok: true, detail: expect.stringContaining(kind.version) });
    expect(checks.find((c) => c.name === 'kind-engine')).toMatchObject({ ok: false, fix: expect.stringContaining('install Docker') });
  });
});
