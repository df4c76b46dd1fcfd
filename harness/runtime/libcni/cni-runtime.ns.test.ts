// The runtime with the real plugins (Debian's containernetworking-plugins in /usr/lib/cni) inside a
// throwaway node (mount+net+uts namespaces). Needs root. The host's /var/lib/cni, /etc/cni,
// /opt/cni and `ip netns` must carry none of the names these tests use afterwards.
import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CniRuntime, parseConfList } from './cni-runtime.ts';
import { CniPluginError, CniRuntimeError } from './errors.ts';
import { loadRuntimeProfile } from '../../profiles/runtime-profile.ts';
import { createSandboxNode, type SandboxNode } from '../../../testing/sandbox-node.ts';
import { type HostSnapshot, hostLeftovers, hostSnapshot } from '../../../testing/host.ts';
import type { RuntimeProfile } from '../../model/profile.ts';
import type { InvokeRequest } from './types.ts';
import type { NetworkConfigList, RuntimeConf } from '../../model/cni.ts';

// Names only these tests use (networks, bridges, container ids, pod netns): none may reach the host.
const marks = new Set<string>();
const mark = (name: string) => (marks.add(name), name);

let node: SandboxNode;
let hostBefore: HostSnapshot;
const profiles: Record<string, RuntimeProfile> = {};
const commands: string[] = [];

beforeAll(async () => {
  hostBefore = await hostSnapshot();
  for (const n of ['libcni-1.1', 'libcni-1.2']) profiles[n] = await loadRuntimeProfile(n);
  node = await createSandboxNode();
});

afterAll(async () => {
  await node?.destroy();
  expect(marks.size).toBeGreaterThan(0);
  expect(hostLeftovers(hostBefore, await hostSnapshot(), [...marks])).toEqual([]);
});

function runtime(profile: string): CniRuntime {
  const invoker = async (req: InvokeRequest) => {
    commands.push(`${req.env.CNI_COMMAND} ${path.basename(req.pluginPath)}`);
    return node.invoker(req);
  };
  return new CniRuntime({ invoker, cacheFs: node.cacheFs, profile: profiles[profile]!, cniPath: node.pluginDir, cacheDir: node.cacheDir });
}

/** bridge + host-local + portmap, like a Canal/flannel-style chain, on its own bridge and subnet. */
function conflist(name: string, cniVersion: string, subnet: string, bridge: string): NetworkConfigList {
  mark(name);
  mark(bridge);
  return parseConfList(
    JSON.stringify(
      {
        cniVersion,
        name,
        plugins: [
          { type: 'bridge', bridge, isGateway: true, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir: path.join(node.ipamDir) } },
          { type: 'portmap', capabilities: { portMappings: true }, snat: true },
        ],
      },
      null,
      2,
    ),
  );
}

let podSeq = 0;
async function pod(containerId: string): Promise<RuntimeConf> {
  mark(containerId);
  const netns = await node.addPodNetns(mark(`pod-${++podSeq}`));
  return { containerId, netns, ifName: 'eth0', args: [['IgnoreUnknown', '1'], ['K8S_POD_NAME', containerId]] };
}

const reservations = async (net: string) => (await readdir(path.join(node.ipamDir, net)).catch(() => [] as string[])).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
const cacheFile = (net: string, rt: RuntimeConf) => path.join(node.cacheDir, 'results', `${net}-${rt.containerId}-${rt.ifName}`);

describe('real plugins in a sandbox node', () => {
  it('ADD returns the address and writes a cniCacheV1 file; CHECK passes; DEL runs in reverse and releases the address', async () => {
    const l = conflist('net-basic', '1.0.0', '10.52.1.0/28', 'br-basic');
    const rt = { ...(await pod('cbasic')), capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] } };
    const r = runtime('libcni-1.2');
    commands.length = 0;
    const result = await r.addNetworkList(l, rt);
    expect(result.cniVersion).toBe('1.0.0');
    expect(result.ips?.[0]).toMatchObject({ address: '10.52.1.2/28', gateway: '10.52.1.1' });
    expect(commands.filter((c) => c.startsWith('ADD'))).toEqual(['ADD bridge', 'ADD portmap']);
    expect(await reservations('net-basic')).toEqual(['10.52.1.2']);
    expect((await readFile(path.join(node.ipamDir, 'net-basic', '10.52.1.2'), 'utf8'))).toBe('cbasic\r\neth0');

    const file = cacheFile('net-basic', rt);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    const cached = JSON.parse(await readFile(file, 'utf8'));
    expect(Object.keys(cached)).toEqual(['kind', 'containerId', 'config', 'ifName', 'networkName', 'netns', 'cniArgs', 'capabilityArgs', 'result']);
    expect(cached).toMatchObject({ kind: 'cniCacheV1', containerId: 'cbasic', ifName: 'eth0', networkName: 'net-basic', netns: rt.netns, cniArgs: rt.args, capabilityArgs: rt.capabilityArgs });
    expect(Buffer.from(cached.config, 'base64').toString()).toBe(JSON.stringify(JSON.parse(Buffer.from(cached.config, 'base64').toString()), null, 2));
    expect(cached.result.ips[0].address).toBe('10.52.1.2/28');
    // portmap really got runtimeConfig: the DNAT rule is in the node's netns.
    expect((await node.exec(['iptables-save', '-t', 'nat'])).stdout).toContain('--to-destination 10.52.1.2:80');

    // CHECK without portMappings: with this IPv4-only pod, portmap 1.1.1's CHECK of a mapping fails here
    // with "could not check ipv6 dnat: chain CNI-DN-... not found in iptables table nat".
    await r.checkNetworkList(l, { ...rt, capabilityArgs: {} });
    await expect(r.checkNetworkList(conflist('net-basic', '0.3.1', '10.52.1.0/28', 'br-basic'), rt)).rejects.toThrow('configuration version "0.3.1" does not support the CHECK command');

    commands.length = 0;
    const outcome = await r.delNetworkList(l, rt);
    expect(commands).toEqual(['DEL portmap', 'DEL bridge']);
    expect(outcome).toMatchObject({ prevResult: 'cached', cacheRemoved: true });
    expect(await reservations('net-basic')).toEqual([]);
    expect(existsSync(file)).toBe(false);
    expect(await node.links({ master: 'br-basic' })).toEqual([]);
    expect((await node.exec(['iptables-save', '-t', 'nat'])).stdout).not.toContain('10.52.1.2:80');
  });

  it('CHECK fails with the plugin error when the pod interface is gone', async () => {
    const l = conflist('net-check', '0.4.0', '10.52.2.0/28', 'br-check');
    const rt = await pod('ccheck');
    const r = runtime('libcni-1.1');
    await r.addNetworkList(l, rt);
    const del = await node.exec(['ip', 'netns', 'exec', path.basename(rt.netns), 'ip', 'link', 'del', 'eth0']);
    expect(del.exitCode).toBe(0);
    const err = await r.checkNetworkList(l, rt).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniPluginError);
    expect((err as CniPluginError).command).toBe('CHECK');
    await r.delNetworkList(l, rt);
    expect(await reservations('net-check')).toEqual([]);
  });

  it('empty cache file, cniVersion 1.0.0: libcni-1.1 DEL fails and leaks; libcni-1.2 DEL cleans up', async () => {
    const l = conflist('net-empty', '1.0.0', '10.52.3.0/28', 'br-empty');
    const rt = await pod('cempty');
    await runtime('libcni-1.1').addNetworkList(l, rt);
    await writeFile(cacheFile('net-empty', rt), ''); // what a power cut during libcni's write leaves

    commands.length = 0;
    const err = await runtime('libcni-1.1').delNetworkList(l, rt).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniRuntimeError);
    expect((err as Error).message).toBe('failed to get network "net-empty" cached result: decoding version from network config: unexpected end of JSON input');
    expect(commands).toEqual([]);
    expect(await reservations('net-empty')).toEqual(['10.52.3.2']);
    expect(await node.links({ master: 'br-empty' })).toHaveLength(1);
    expect((await stat(cacheFile('net-empty', rt))).size).toBe(0);

    const outcome = await runtime('libcni-1.2').delNetworkList(l, rt);
    expect(outcome).toMatchObject({ prevResult: 'none', noPrevResultReason: 'tolerated-error', cacheRemoved: true });
    expect(existsSync(cacheFile('net-empty', rt))).toBe(false);
    expect(await reservations('net-empty')).toEqual([]);
    expect(await node.links({ master: 'br-empty' })).toEqual([]);
  });

  it('empty cache file, cniVersion 0.3.1: DEL succeeds on libcni-1.1 and libcni-1.2', async () => {
    for (const [i, p] of ['libcni-1.1', 'libcni-1.2'].entries()) {
      const l = conflist(`net-old${i}`, '0.3.1', `10.52.${4 + i}.0/28`, `br-old${i}`);
      const rt = await pod(`cold${i}`);
      await runtime(p).addNetworkList(l, rt);
      await writeFile(cacheFile(l.name, rt), '');
      const outcome = await runtime(p).delNetworkList(l, rt);
      expect(outcome).toMatchObject({ prevResult: 'none', noPrevResultReason: 'version', cacheRemoved: true });
      expect(await reservations(l.name)).toEqual([]);
      expect(await node.links({ master: `br-old${i}` })).toEqual([]);
    }
  });

  it('GC (libcni-1.2) DELs a cached attachment not in the valid set and skips an empty cache file', async () => {
    const l = conflist('net-gc', '1.0.0', '10.52.6.0/28', 'br-gc');
    const live = await pod('clive');
    const stale = await pod('cstale');
    const r = runtime('libcni-1.2');
    await r.addNetworkList(l, live);
    await r.addNetworkList(l, stale);
    const crashed = cacheFile('net-gc', { containerId: 'ccrashed', netns: '', ifName: 'eth0' });
    await writeFile(crashed, '');
    expect(await reservations('net-gc')).toEqual(['10.52.6.2', '10.52.6.3']);

    const report = await r.gcNetworkList(l, [{ containerId: 'clive', ifName: 'eth0' }]);
    expect(report.deleted.map((d) => d.containerId)).toEqual(['cstale']);
    expect(report.kept.map((d) => d.containerId)).toEqual(['clive']);
    expect(report.skipped).toEqual([{ file: crashed, state: 'empty', reason: 'unexpected end of JSON input', removed: false }]);
    expect(report.gc).toEqual([]);
    expect(report.gcNotSent).toMatch(/1\.0\.0 < 1\.1\.0/);
    expect(await reservations('net-gc')).toEqual(['10.52.6.2']);
    expect(existsSync(crashed)).toBe(true);
    expect(existsSync(cacheFile('net-gc', stale))).toBe(false);
    await r.delNetworkList(l, live);
  });

  it("a full host-local range fails ADD with host-local's exact message", async () => {
    const l = conflist('net-full', '1.0.0', '10.52.9.0/30', 'br-full');
    const r = runtime('libcni-1.1');
    const first = await pod('cfull1');
    await r.addNetworkList(l, first);
    const err = await r.addNetworkList(l, await pod('cfull2')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniPluginError);
    const pe = err as CniPluginError;
    expect(pe.plugin).toBe('bridge');
    expect(pe.msg).toBe('failed to allocate for range 0: no IP addresses available in range set: 10.52.9.1-10.52.9.2');
    expect(pe.message).toBe(`plugin bridge ADD failed (code ${pe.code}): failed to allocate for range 0: no IP addresses available in range set: 10.52.9.1-10.52.9.2`);
    await r.delNetworkList(l, first);
  });

  it('crash hooks: after bridge no cache is written (reservation leaks); during the write an empty file stays', async () => {
    const l = conflist('net-crash', '1.0.0', '10.52.10.0/28', 'br-crash');
    const r = runtime('libcni-1.1');
    const a = await pod('ccrash1');
    await expect(r.addNetworkList(l, a, { afterPluginAdd: (i) => { if (i === 0) throw new Error('power cut after bridge'); } })).rejects.toThrow('power cut after bridge');
    expect(existsSync(cacheFile('net-crash', a))).toBe(false);
    expect(await reservations('net-crash')).toEqual(['10.52.10.2']);

    const b = await pod('ccrash2');
    await expect(r.addNetworkList(l, b, { duringCacheWrite: () => { throw new Error('power cut in cache write'); } })).rejects.toThrow('power cut in cache write');
    expect((await stat(cacheFile('net-crash', b))).size).toBe(0);
    await expect(r.delNetworkList(l, b)).rejects.toThrow('failed to get network "net-crash" cached result: decoding version from network config: unexpected end of JSON input');
  });

  it("a 1.1.0 config on 1.1.1 plugins fails with the plugin's own version error", async () => {
    const l = conflist('net-v110', '1.1.0', '10.52.11.0/28', 'br-v110');
    const err = await runtime('libcni-1.2').addNetworkList(l, await pod('cv110')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniPluginError);
    const pe = err as CniPluginError;
    expect(pe).toMatchObject({ code: 1, msg: 'incompatible CNI versions', pluginPath: '/usr/lib/cni/bridge' });
    expect(pe.message).toContain('incompatible CNI versions; config is "1.1.0", plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0" "1.0.0"]');
    expect(pe.message).toContain('not in the VERSION answer of /usr/lib/cni/bridge: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0');
    expect(await runtime('libcni-1.2').version('/usr/lib/cni/bridge')).toEqual(['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0']);
  });
});
