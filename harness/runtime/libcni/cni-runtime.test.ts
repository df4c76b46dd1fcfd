// The runtime against scripted plugins: exact protocol (env, stdin), cache handling and the
// per-profile behaviour. The same paths against the real plugins are in cni-runtime.ns.test.ts.
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localCacheFs } from './cache.ts';
import { CniRuntime, parseConfList, parsePluginError, stringifyCniArgs } from './cni-runtime.ts';
import { CniPluginError, CniRuntimeError } from './errors.ts';
import { loadRuntimeProfile } from '../../profiles/runtime-profile.ts';
import type { RuntimeProfile } from '../../model/profile.ts';
import type { InvokeRequest, InvokeResult, Invoker } from './types.ts';
import type { NetworkConfigList, RuntimeConf } from '../../model/cni.ts';

interface Call {
  plugin: string;
  command: string;
  env: Record<string, string>;
  conf: Record<string, any>;
}

type Behaviour = (call: Call) => Partial<InvokeResult> | undefined;

const ALL = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

/** Scripted plugins: "ipam" makes an interface and an address, anything else passes prevResult through. */
function scripted(overrides: Record<string, Behaviour> = {}): { invoker: Invoker; calls: Call[] } {
  const calls: Call[] = [];
  const invoker: Invoker = async (req: InvokeRequest) => {
    const plugin = req.pluginPath.split('/').pop()!;
    const call: Call = { plugin, command: req.env.CNI_COMMAND!, env: req.env, conf: JSON.parse(req.stdin) };
    calls.push(call);
    const o = overrides[plugin]?.(call);
    if (o) return { exitCode: 0, stdout: '', stderr: '', durationMs: 1, ...o };
    let stdout = '';
    if (call.command === 'VERSION') stdout = JSON.stringify({ cniVersion: '1.1.0', supportedVersions: ALL });
    if (call.command === 'ADD') {
      stdout = JSON.stringify(
        plugin === 'ipam'
          ? { cniVersion: call.conf.cniVersion, interfaces: [{ name: req.env.CNI_IFNAME, sandbox: req.env.CNI_NETNS }], ips: [{ address: '10.52.0.7/24', gateway: '10.52.0.1', interface: 0 }], dns: {} }
          : call.conf.prevResult,
      );
    }
    return { exitCode: 0, stdout, stderr: '', durationMs: 1 };
  };
  return { invoker, calls };
}

const profiles: Record<string, RuntimeProfile> = {};
beforeAll(async () => {
  for (const n of ['libcni-1.1', 'libcni-1.2']) profiles[n] = await loadRuntimeProfile(n);
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'faultline-runtime-unit-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function list(cniVersion: string, extra: Partial<NetworkConfigList> = {}): NetworkConfigList {
  return parseConfList(
    JSON.stringify({
      cniVersion,
      name: 'k8s-pod-network',
      plugins: [
        { type: 'ipam', mtu: 1450 },
        { type: 'portmap', capabilities: { portMappings: true, ipRanges: false } },
        { type: 'bandwidth', capabilities: { bandwidth: true } },
      ],
      ...extra,
    }),
  );
}

const rtConf: RuntimeConf = {
  containerId: 'c0ffee',
  netns: '/run/netns/pod-a',
  ifName: 'eth0',
  args: [['IgnoreUnknown', '1'], ['K8S_POD_NAME', 'pod-a']],
  capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], ipRanges: [[{ subnet: '10.9.0.0/24' }]], dns: { servers: ['1.1.1.1'] } },
};

function runtime(profile: string, invoker: Invoker) {
  return new CniRuntime({ invoker, cacheFs: localCacheFs(), profile: profiles[profile]!, cacheDir: path.join(dir, 'cni') });
}

const cacheFileOf = (name = 'k8s-pod-network-c0ffee-eth0') => path.join(dir, 'cni', 'results', name);

describe('ADD', () => {
  it('speaks the exec protocol: env, injected name/cniVersion, prevResult chain, capability filtering', async () => {
    const { invoker, calls } = scripted();
    const result = await runtime('libcni-1.2', invoker).addNetworkList(list('0.4.0'), rtConf);
    const adds = calls.filter((c) => c.command === 'ADD');
    expect(adds.map((c) => c.plugin)).toEqual(['ipam', 'portmap', 'bandwidth']);
    expect(adds[0]!.env).toEqual({
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: 'c0ffee',
      CNI_NETNS: '/run/netns/pod-a',
      CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=pod-a',
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/opt/cni/bin',
    });
    expect(adds[0]!.conf).toEqual({ type: 'ipam', mtu: 1450, name: 'k8s-pod-network', cniVersion: '0.4.0' });
    // portmap declares portMappings (true) and ipRanges (false): only portMappings is passed.
    expect(adds[1]!.conf.runtimeConfig).toEqual({ portMappings: rtConf.capabilityArgs!.portMappings });
    expect(adds[1]!.conf.prevResult).toEqual({ cniVersion: '0.4.0', interfaces: [{ name: 'eth0', sandbox: '/run/netns/pod-a' }], ips: [{ version: '4', address: '10.52.0.7/24', gateway: '10.52.0.1', interface: 0 }], dns: {} });
    expect(adds[2]!.conf.runtimeConfig).toBeUndefined();
    expect(result.ips?.[0]?.address).toBe('10.52.0.7/24');
    // VERSION asked once per plugin, with libcni's dummy CNI_PATH.
    expect(calls.filter((c) => c.command === 'VERSION').map((c) => [c.plugin, c.env.CNI_PATH])).toEqual([['ipam', 'dummy'], ['portmap', 'dummy'], ['bandwidth', 'dummy']]);
  });

  it('writes the cniCacheV1 file with netns only for libcni >= 1.2', async () => {
    const l = list('1.0.0');
    await runtime('libcni-1.2', scripted().invoker).addNetworkList(l, rtConf);
    const v12 = JSON.parse(await readFile(cacheFileOf(), 'utf8'));
    expect(Object.keys(v12)).toEqual(['kind', 'containerId', 'config', 'ifName', 'networkName', 'netns', 'cniArgs', 'capabilityArgs', 'result']);
    expect(v12).toMatchObject({ kind: 'cniCacheV1', containerId: 'c0ffee', ifName: 'eth0', networkName: 'k8s-pod-network', netns: '/run/netns/pod-a', cniArgs: rtConf.args, capabilityArgs: rtConf.capabilityArgs });
    expect(Buffer.from(v12.config, 'base64').toString()).toBe(JSON.stringify(JSON.parse(JSON.stringify(l))));
    expect(v12.result.ips).toEqual([{ address: '10.52.0.7/24', gateway: '10.52.0.1', interface: 0 }]);
    expect((await stat(cacheFileOf())).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(cacheFileOf()))).mode & 0o777).toBe(0o700);

    await rm(cacheFileOf());
    await runtime('libcni-1.1', scripted().invoker).addNetworkList(l, rtConf);
    expect(JSON.parse(await readFile(cacheFileOf(), 'utf8')).netns).toBeUndefined();
  });

  it('throws CniPluginError with the plugin message and leaves no cache', async () => {
    const msg = 'failed to allocate for range 0: no IP addresses available in range set: 10.52.1.1-10.52.1.14';
    const { invoker } = scripted({ ipam: (c) => (c.command === 'ADD' ? { exitCode: 1, stdout: JSON.stringify({ code: 11, msg }), stderr: 'oops' } : undefined) });
    const err = await runtime('libcni-1.1', invoker).addNetworkList(list('1.0.0'), rtConf).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniPluginError);
    expect(err).toMatchObject({ plugin: 'ipam', command: 'ADD', code: 11, msg, stderr: 'oops', pluginPath: '/opt/cni/bin/ipam' });
    expect((err as Error).message).toBe(`plugin ipam ADD failed (code 11): ${msg}`);
    await expect(stat(cacheFileOf())).rejects.toThrow(/ENOENT/);
  });

  it("surfaces the plugin's own version error and adds what VERSION said", async () => {
    const { invoker, calls } = scripted({
      ipam: (c) =>
        c.command === 'VERSION'
          ? { stdout: JSON.stringify({ cniVersion: '0.4.0', supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0'] }) }
          : c.command === 'ADD'
            ? { exitCode: 1, stdout: JSON.stringify({ code: 1, msg: 'incompatible CNI versions', details: 'config is "1.0.0", plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0"]' }) }
            : undefined,
    });
    const err = await runtime('libcni-1.2', invoker).addNetworkList(list('1.0.0'), rtConf).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniPluginError);
    expect((err as CniPluginError).msg).toBe('incompatible CNI versions');
    expect((err as Error).message).toBe(
      'plugin ipam ADD failed (code 1): incompatible CNI versions; config is "1.0.0", plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0"] ' +
        '[config cniVersion 1.0.0 is not in the VERSION answer of /opt/cni/bin/ipam: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0]',
    );
    expect(calls.some((c) => c.command === 'ADD' && c.plugin === 'ipam')).toBe(true);
  });

  it('calls the crash hooks: after a plugin (no cache) and during the cache write (empty cache)', async () => {
    const r = runtime('libcni-1.1', scripted().invoker);
    const seen: string[] = [];
    await expect(
      r.addNetworkList(list('1.0.0'), rtConf, {
        afterPluginAdd: (i, type) => {
          seen.push(`${i}:${type}`);
          if (i === 1) throw new Error('crash after portmap');
        },
      }),
    ).rejects.toThrow('crash after portmap');
    expect(seen).toEqual(['0:ipam', '1:portmap']);
    await expect(stat(cacheFileOf())).rejects.toThrow(/ENOENT/);

    await expect(r.addNetworkList(list('1.0.0'), rtConf, { duringCacheWrite: (f) => { throw new Error(`crash writing ${path.basename(f)}`); } })).rejects.toThrow(
      'crash writing k8s-pod-network-c0ffee-eth0',
    );
    expect((await stat(cacheFileOf())).size).toBe(0);
  });

  it('rejects invalid runtime conf before calling plugins', async () => {
    const { invoker, calls } = scripted();
    await expect(runtime('libcni-1.2', invoker).addNetworkList(list('1.0.0'), { ...rtConf, ifName: 'an-interface-name-too-long' })).rejects.toThrow(/too long/);
    expect(calls).toEqual([]);
  });
});

describe('DEL', () => {
  it('runs plugins in reverse order with the cached result and removes the cache', async () => {
    const { invoker, calls } = scripted();
    const r = runtime('libcni-1.1', invoker);
    await r.addNetworkList(list('1.0.0'), rtConf);
    calls.length = 0;
    const outcome = await r.delNetworkList(list('1.0.0'), rtConf);
    expect(calls.map((c) => `${c.command} ${c.plugin}`)).toEqual(['DEL bandwidth', 'DEL portmap', 'DEL ipam']);
    expect(calls[0]!.conf.prevResult.ips).toEqual([{ address: '10.52.0.7/24', gateway: '10.52.0.1', interface: 0 }]);
    expect(calls[1]!.conf.runtimeConfig).toEqual({ portMappings: rtConf.capabilityArgs!.portMappings });
    expect(outcome).toMatchObject({ prevResult: 'cached', cacheRemoved: true, plugins: ['bandwidth', 'portmap', 'ipam'] });
    await expect(stat(cacheFileOf())).rejects.toThrow(/ENOENT/);
  });

  it('libcni-1.1: an empty cache file aborts DEL with libcni\'s exact error; no plugin runs', async () => {
    await mkdir(path.dirname(cacheFileOf()), { recursive: true });
    await writeFile(cacheFileOf(), '');
    const { invoker, calls } = scripted();
    const err = await runtime('libcni-1.1', invoker).delNetworkList(list('1.0.0'), rtConf).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniRuntimeError);
    expect((err as Error).message).toBe('failed to get network "k8s-pod-network" cached result: decoding version from network config: unexpected end of JSON input');
    expect((err as CniRuntimeError).kind).toBe('cache');
    expect(calls).toEqual([]);
    expect((await stat(cacheFileOf())).size).toBe(0);

    await writeFile(cacheFileOf(), 'xx');
    await expect(runtime('libcni-1.1', invoker).delNetworkList(list('0.4.0'), rtConf)).rejects.toThrow(
      'failed to get network "k8s-pod-network" cached result: decoding version from network config: invalid character \'x\' looking for beginning of value',
    );
  });

  it('libcni-1.2: an empty cache file is removed and DEL runs without prevResult', async () => {
    await mkdir(path.dirname(cacheFileOf()), { recursive: true });
    await writeFile(cacheFileOf(), '');
    const { invoker, calls } = scripted();
    const outcome = await runtime('libcni-1.2', invoker).delNetworkList(list('1.0.0'), rtConf);
    expect(calls.map((c) => c.plugin)).toEqual(['bandwidth', 'portmap', 'ipam']);
    expect(calls.every((c) => c.conf.prevResult === undefined)).toBe(true);
    expect(outcome).toMatchObject({ prevResult: 'none', noPrevResultReason: 'tolerated-error', cacheRemoved: true });
    expect(outcome.toleratedCacheError).toBe('failed to get network "k8s-pod-network" cached result: decoding version from network config: unexpected end of JSON input');
    await expect(stat(cacheFileOf())).rejects.toThrow(/ENOENT/);
  });

  it('below cniVersion 0.4.0 the cache is not read (so an empty file does not matter), but removed', async () => {
    for (const p of ['libcni-1.1', 'libcni-1.2']) {
      await mkdir(path.dirname(cacheFileOf()), { recursive: true });
      await writeFile(cacheFileOf(), '');
      const { invoker, calls } = scripted();
      const outcome = await runtime(p, invoker).delNetworkList(list('0.3.1'), rtConf);
      expect(outcome).toMatchObject({ prevResult: 'none', noPrevResultReason: 'version', cacheRemoved: true });
      expect(calls).toHaveLength(3);
    }
  });

  it('a missing cache file is not an error', async () => {
    const { invoker, calls } = scripted();
    const outcome = await runtime('libcni-1.1', invoker).delNetworkList(list('1.0.0'), rtConf);
    expect(outcome).toMatchObject({ prevResult: 'none', noPrevResultReason: 'missing', cacheRemoved: false });
    expect(calls).toHaveLength(3);
  });

  it('a failing plugin stops DEL and keeps the cache', async () => {
    const { invoker } = scripted({ portmap: (c) => (c.command === 'DEL' ? { exitCode: 1, stdout: '', stderr: 'iptables: lock held' } : undefined) });
    const r = runtime('libcni-1.2', invoker);
    await r.addNetworkList(list('1.0.0'), rtConf);
    await expect(r.delNetworkList(list('1.0.0'), rtConf)).rejects.toThrow('plugin portmap DEL failed (code 0): netplugin failed: "iptables: lock held"');
    expect((await stat(cacheFileOf())).size).toBeGreaterThan(0);
  });
});

describe('CHECK', () => {
  it('passes the cached result to each plugin in order', async () => {
    const { invoker, calls } = scripted();
    const r = runtime('libcni-1.2', invoker);
    await r.addNetworkList(list('1.0.0'), rtConf);
    calls.length = 0;
    await r.checkNetworkList(list('1.0.0'), rtConf);
    expect(calls.map((c) => `${c.command} ${c.plugin}`)).toEqual(['CHECK ipam', 'CHECK portmap', 'CHECK bandwidth']);
    expect(calls[0]!.conf.prevResult.ips[0].address).toBe('10.52.0.7/24');
  });

  it('is refused below 0.4.0 and skipped with disableCheck', async () => {
    const { invoker, calls } = scripted();
    await expect(runtime('libcni-1.2', invoker).checkNetworkList(list('0.3.1'), rtConf)).rejects.toThrow('configuration version "0.3.1" does not support the CHECK command');
    await runtime('libcni-1.2', invoker).checkNetworkList(list('1.0.0', { disableCheck: true }), rtConf);
    expect(calls).toEqual([]);
  });
});

describe('GC', () => {
  async function seed(r: CniRuntime, l: NetworkConfigList) {
    await r.addNetworkList(l, { ...rtConf, containerId: 'live' });
    await r.addNetworkList(l, { ...rtConf, containerId: 'stale' });
    await writeFile(cacheFileOf('k8s-pod-network-crashed-eth0'), '');
    await writeFile(cacheFileOf('other-net-x-eth0'), '');
  }

  it('DELs stale cached attachments, skips unparsable files, then sends GC with both keys (libcni 1.2.3)', async () => {
    const { invoker, calls } = scripted();
    const r = runtime('libcni-1.2', invoker);
    const l = list('1.1.0');
    await seed(r, l);
    calls.length = 0;
    const report = await r.gcNetworkList(l, [{ containerId: 'live', ifName: 'eth0' }]);
    expect(report.deleted).toEqual([{ containerId: 'stale', ifName: 'eth0', file: cacheFileOf('k8s-pod-network-stale-eth0') }]);
    expect(report.kept.map((k) => k.containerId)).toEqual(['live']);
    expect(report.skipped).toEqual([{ file: cacheFileOf('k8s-pod-network-crashed-eth0'), state: 'empty', reason: 'unexpected end of JSON input', removed: false }]);
    expect(report.gc.map((g) => g.plugin)).toEqual(['ipam', 'portmap', 'bandwidth']);
    expect(report.ok).toBe(true);
    const dels = calls.filter((c) => c.command === 'DEL');
    expect(dels.map((c) => c.env.CNI_CONTAINERID)).toEqual(['stale', 'stale', 'stale']);
    expect(dels[0]!.env.CNI_NETNS).toBe('/run/netns/pod-a');
    const gc = calls.filter((c) => c.command === 'GC');
    expect(gc[0]!.env).toMatchObject({ CNI_COMMAND: 'GC', CNI_CONTAINERID: '', CNI_IFNAME: '', CNI_NETNS: '' });
    expect(gc[0]!.conf['cni.dev/valid-attachments']).toEqual([{ containerID: 'live', ifname: 'eth0' }]);
    expect(gc[0]!.conf['cni.dev/attachments']).toEqual([{ containerID: 'live', ifname: 'eth0' }]);
    expect((await stat(cacheFileOf('k8s-pod-network-crashed-eth0'))).size).toBe(0);
    await expect(stat(cacheFileOf('k8s-pod-network-stale-eth0'))).rejects.toThrow(/ENOENT/);
  });

  it('does not send GC below cniVersion 1.1.0 and reports plugin GC failures', async () => {
    const { invoker, calls } = scripted({ portmap: (c) => (c.command === 'GC' ? { exitCode: 1, stdout: JSON.stringify({ code: 4, msg: 'unknown CNI_COMMAND: GC' }) } : undefined) });
    const r = runtime('libcni-1.2', invoker);
    const old = await r.gcNetworkList(list('1.0.0'), []);
    expect(old.gcNotSent).toMatch(/1\.0\.0 < 1\.1\.0/);
    expect(calls.filter((c) => c.command === 'GC')).toEqual([]);
    const report = await r.gcNetworkList(list('1.1.0'), []);
    expect(report.ok).toBe(false);
    expect(report.errors).toEqual(['failed to GC plugin portmap: unknown CNI_COMMAND: GC']);
    expect(report.gc.find((g) => g.plugin === 'portmap')).toMatchObject({ ok: false, code: 4 });
  });

  it('is refused by a runtime without GC', async () => {
    await expect(runtime('libcni-1.1', scripted().invoker).gcNetworkList(list('1.0.0'), [])).rejects.toThrow('runtime profile libcni-1.1 has no GC');
  });
});

describe('STATUS', () => {
  it('reports per plugin and surfaces codes 50/51', async () => {
    const { invoker, calls } = scripted({ portmap: (c) => (c.command === 'STATUS' ? { exitCode: 1, stdout: JSON.stringify({ code: 50, msg: 'plugin not ready' }) } : undefined) });
    const r = runtime('libcni-1.2', invoker);
    const report = await r.statusNetworkList(list('1.1.0'));
    expect(report.available).toBe(false);
    expect(report.plugins.map((p) => [p.plugin, p.ok, p.code])).toEqual([['ipam', true, undefined], ['portmap', false, 50], ['bandwidth', true, undefined]]);
    expect(report.plugins[1]!.msg).toBe('plugin not ready');
    expect(calls.find((c) => c.command === 'STATUS')!.conf).toMatchObject({ name: 'k8s-pod-network', cniVersion: '1.1.0' });
    calls.length = 0;
    expect((await r.statusNetworkList(list('1.0.0'))).skipped).toMatch(/< 1\.1\.0/);
    expect(calls).toEqual([]);
    await expect(runtime('libcni-1.1', invoker).statusNetworkList(list('1.1.0'))).rejects.toThrow('runtime profile libcni-1.1 has no STATUS');
  });
});

describe('VERSION and helpers', () => {
  it('version() returns the supported versions', async () => {
    expect(await runtime('libcni-1.2', scripted().invoker).version('/opt/cni/bin/bridge')).toEqual(ALL);
  });

  it('picks the highest common version from cniVersions on libcni >= 1.2 only', () => {
    const l = list('0.4.0', { cniVersions: ['0.4.0', '1.0.0', '1.1.0'] });
    expect(runtime('libcni-1.2', scripted().invoker).effectiveCniVersion(l)).toBe('1.1.0');
    expect(runtime('libcni-1.1', scripted().invoker).effectiveCniVersion(l)).toBe('0.4.0');
  });

  it('formats CNI_ARGS and parses plugin errors as libcni does', () => {
    expect(stringifyCniArgs([['A', '1'], ['B', 'x']])).toBe('A=1;B=x');
    expect(parsePluginError({ exitCode: 2, stdout: '', stderr: '' })).toEqual({ code: 0, msg: 'netplugin failed with no error message: exit status 2' });
    expect(parsePluginError({ exitCode: 1, stdout: '{"code":7,"msg":"invalid","details":"d"}', stderr: '' })).toEqual({ code: 7, msg: 'invalid', details: 'd' });
    expect(parsePluginError({ exitCode: 1, stdout: 'panic', stderr: '' }).msg).toMatch(/^netplugin failed but error parsing its diagnostic message "panic": /);
  });

  it('rejects a conflist without plugins', () => {
    expect(() => parseConfList('{"name":"n","cniVersion":"1.0.0"}')).toThrow(/no 'plugins' key/);
  });
});
