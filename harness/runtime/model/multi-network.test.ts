import { describe, expect, it } from 'vitest';
import type { Node } from '../../backends/types.ts';
import type { NetworkDef, ResolvedStack } from '../../model/profile.ts';
import { NetworkStore, renderNetwork } from '../../cluster/network-store.ts';
import { MissingDefinitionError, MultiNetwork, cacheFile, eipDelegate, natRules, networkOf } from './multi-network.ts';
import { loadStackProfile } from '../../profiles/stack-profile.ts';

const profile = await loadStackProfile('kubeovn/nat-gw-v1.12');
const external = profile.networks.find((n) => n.conflist.name === 'external')!;

/** A node with an in-memory disk (only what the delegate cache uses). */
function memNode(name = 'node-1'): Node & { files: Map<string, string> } {
  const files = new Map<string, string>();
  return {
    name,
    spec: { name, pluginDir: '/x', podSubnet: '10.60.0.0/26' },
    files,
    writeFile: async (p: string, d: string | Uint8Array) => void files.set(p, String(d)),
    readFile: async (p: string) => Buffer.from(files.get(p) ?? ''),
    stat: async (p: string) => (files.has(p) ? { size: files.get(p)!.length, mtimeMs: 0, isDirectory: false, isFile: true } : undefined),
    removeFile: async (p: string) => void files.delete(p),
  } as unknown as Node & { files: Map<string, string> };
}

function multi(delegation: ResolvedStack['delegation']) {
  const store = new NetworkStore(profile.networks);
  const stack = { profile, conflistCniVersion: '0.3.1', delegation } as unknown as ResolvedStack;
  return { store, m: new MultiNetwork(store, stack, (node) => ({ podSubnet: node.spec.podSubnet, index: 0 })) };
}

const gw = { networks: ['external'], role: 'nat-gateway' };

describe('network definitions', () => {
  it('gives each node its own slice of the external subnet', () => {
    const ipam = (i: number) => renderNetwork(external, { podSubnet: '10.60.0.0/26', index: i }, '0.3.1').plugins[0]!.ipam;
    expect(ipam(0)).toEqual({ type: 'host-local', subnet: '172.31.250.0/24', rangeStart: '172.31.250.2', rangeEnd: '172.31.250.11' });
    expect(ipam(1)).toMatchObject({ rangeStart: '172.31.250.12', rangeEnd: '172.31.250.21' });
    expect(() => ipam(25)).toThrow(/no slice of 10 addresses for node #26/);
  });

  it('the default network takes the node subnet', () => {
    const def = profile.networks.find((n) => !n.secondary) as NetworkDef;
    expect(renderNetwork(def, { podSubnet: '10.60.0.64/26', index: 1 }, '0.4.0')).toMatchObject({ cniVersion: '0.4.0', plugins: [{ ipam: { subnet: '10.60.0.64/26' } }] });
  });

  it('removes and restores definitions by name', () => {
    const store = new NetworkStore(profile.networks);
    expect(store.known()).toEqual(['vpc-subnet', 'external']);
    expect(store.remove('vpc-subnet')).toBe(true);
    expect(store.remove('vpc-subnet')).toBe(false);
    expect(store.get('vpc-subnet')).toBeUndefined();
    expect(store.profileDef('vpc-subnet')).toBeDefined();
    expect(store.restore('vpc-subnet')).toBe(true);
    expect(store.has('vpc-subnet')).toBe(true);
    expect(() => store.remove('storage')).toThrow(/no network named 'storage'/);
  });
});

describe('delegation semantics', () => {
  it('a gateway has eth0, net1 and an IPAM-only elastic-address delegate', () => {
    const { m } = multi('definition-at-del');
    const d = m.resolve(memNode(), gw, 'ADD');
    expect(d.map((x) => `${x.name}/${x.ifName}/${x.role}`)).toEqual(['vpc-subnet/eth0/interface', 'external/net1/interface', 'external/eip0/eip']);
    expect(d[2]!.conflist.plugins).toEqual([{ type: 'host-local', ipam: d[1]!.conflist.plugins[0]!.ipam }]);
    expect(() => eipDelegate({ ...d[0]!, conflist: { ...d[0]!.conflist, plugins: [{ type: 'bridge' }] } })).toThrow(/no IPAM/);
  });

  it('definition-at-del: DEL reads the store, and a missing definition stops the teardown', async () => {
    const { store, m } = multi('definition-at-del');
    const node = memNode();
    const added = m.resolve(node, gw, 'ADD');
    await m.saveDelegates(node, 'c1', 'gw-n1-0', added);
    expect(node.files.size).toBe(0); // nothing cached
    expect((await m.delegatesForDel(node, gw, 'c1')).from).toBe('store');
    store.remove('vpc-subnet');
    const err = await m.delegatesForDel(node, gw, 'c1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingDefinitionError);
    expect((err as Error).message).toBe('teardown stopped: definition of network "vpc-subnet" not found (delegation definition-at-del: every network\'s definition is read at deletion; nothing of the pod is released)');
    expect(() => m.resolve(node, gw, 'ADD')).toThrow('cannot attach: definition of network "vpc-subnet" not found');
  });

  it('cached-delegates: DEL uses what ADD cached under /var/lib/cni/multus, then the file goes', async () => {
    const { store, m } = multi('cached-delegates');
    const node = memNode();
    const added = m.resolve(node, gw, 'ADD');
    await m.saveDelegates(node, 'c1', 'gw-n1-0', added);
    expect([...node.files.keys()]).toEqual(['/var/lib/cni/multus/c1']);
    store.remove('vpc-subnet');
    store.remove('external');
    const del = await m.delegatesForDel(node, gw, 'c1');
    expect(del.from).toBe('cache');
    expect(del.delegates).toEqual(added);
    await m.forget(node, 'c1');
    expect(node.files.size).toBe(0);
    // Without a cache file it falls back to the store.
    await expect(m.delegatesForDel(node, gw, 'c1')).rejects.toThrow(MissingDefinitionError);
  });

  it('refuses container ids that are not file names', () => {
    expect(() => cacheFile('../x')).toThrow(/invalid container id/);
  });
});

describe('NAT gateway rules', () => {
  it('SNAT from the LAN to the elastic address, DNAT tcp/8080 on it to the LAN address', () => {
    expect(networkOf('10.60.0.5/26')).toBe('10.60.0.0/26');
    const rules = natRules({ lanCidr: '10.60.0.5/26', lanIp: '10.60.0.5', eip: '172.31.250.3', externalIf: 'net1' });
    expect(rules).toContain('-A EIP-SNAT -s 10.60.0.0/26 -o net1 -m comment --comment "eip 172.31.250.3" -j SNAT --to-source 172.31.250.3');
    expect(rules).toContain('-A EIP-DNAT -i net1 -d 172.31.250.3/32 -p tcp -m tcp --dport 8080 -m comment --comment "eip 172.31.250.3" -j DNAT --to-destination 10.60.0.5:80');
    expect(rules.startsWith('*nat\n')).toBe(true);
    expect(rules.trimEnd().endsWith('COMMIT')).toBe(true);
  });
});
