// Multi-network pods as Multus attaches them: the default network on eth0, secondary networks by
// name on net1, net2..., each a delegate call through the runtime. Definitions come from the cell's
// NetworkStore. What the runtime reads at DEL is the delegation semantics (kubeovn/kube-ovn#4747):
//
//   definition-at-del  every network's definition is read again when the pod is deleted; if one is
//                      missing, the teardown of the whole pod stops and nothing is released. This is
//                      what Kube-OVN's pod handler did (kubeovn/kube-ovn#4747: `subnet ... not found`,
//                      IP CRs left behind; fixed by PR #5364), and what Multus does for a network
//                      whose delegate it did not cache.
//   cached-delegates   the definitions are captured at ADD in a per-pod file on the node,
//                      /var/lib/cni/multus/<containerId> (as Multus caches delegates under
//                      /var/lib/cni/multus), and DEL uses that file; the store is read only when the
//                      file is missing.
//
// A NAT-gateway pod (role nat-gateway) also reserves an elastic address on its first secondary
// network (an IPAM-only delegate with ifname eip0, as Kube-OVN's IptablesEIP takes an address of the
// external subnet), puts it on net1 and installs SNAT/DNAT for it in its own network namespace.
import type { Node } from '../../backends/types.ts';
import type { ResolvedStack } from '../../model/profile.ts';
import type { NetworkConfigList } from '../../model/cni.ts';
import { NetworkStore, renderNetwork, type NodePlacement } from '../../cluster/network-store.ts';
import { formatIPv4, parseIPv4 } from '../../util/net.ts';

import type { Delegation } from '../../model/profile.ts';

/** The directory of the per-pod delegate cache on a node. */
export const DELEGATE_CACHE_DIR = '/var/lib/cni/multus';
/** The ifname of a NAT gateway's elastic-address reservation. */
export const EIP_IFNAME = 'eip0';

/** One delegate call of a pod: a network on an interface. */
export interface Delegate {
  /** The network's name (the conflist name). */
  name: string;
  ifName: string;
  conflist: NetworkConfigList;
  /** 'eip': an IPAM-only reservation of the gateway's elastic address. */
  role?: 'interface' | 'eip';
}

interface DelegateCacheFile {
  kind: 'faultline-multus-delegates';
  containerId: string;
  pod: string;
  delegates: Delegate[];
}

/** A definition the runtime needed and the store does not have: the pod's ADD or teardown stops. */
export class MissingDefinitionError extends Error {
  constructor(readonly network: string, readonly at: 'ADD' | 'DEL', detail: string) {
    super(`${at === 'ADD' ? 'cannot attach' : 'teardown stopped'}: definition of network "${network}" not found${detail}`);
    this.name = 'MissingDefinitionError';
  }
}

export class MultiNetwork {
  constructor(
    readonly store: NetworkStore,
    private readonly stack: ResolvedStack,
    /** Where a node sits (pod subnet, index) for rendering definitions. */
    readonly placement: (node: Node) => NodePlacement,
  ) {}

  get delegation(): Delegation {
    return this.stack.delegation;
  }

  /** The delegates of a pod from the store, in attach order; throws MissingDefinitionError. */
  resolve(node: Node, pod: { networks: readonly string[]; role: string }, at: 'ADD' | 'DEL'): Delegate[] {
    const names = [this.store.defaultName(), ...pod.networks];
    const out: Delegate[] = [];
    names.forEach((name, i) => {
      const def = this.store.get(name);
      if (!def) {
        const why = at === 'DEL' ? ` (delegation ${this.delegation}: every network's definition is read at deletion; nothing of the pod is released)` : '';
        throw new MissingDefinitionError(name, at, why);
      }
      const conflist = renderNetwork(def, this.placement(node), this.stack.conflistCniVersion);
      out.push({ name, ifName: i === 0 ? 'eth0' : `net${i}`, conflist, role: 'interface' });
    });
    if (pod.role === 'nat-gateway' && out[1]) out.push(eipDelegate(out[1]));
    return out;
  }

  /** cached-delegates: capture what ADD resolved, before the first delegate runs. */
  async saveDelegates(node: Node, containerId: string, pod: string, delegates: Delegate[]): Promise<void> {
    if (this.delegation !== 'cached-delegates') return;
    const file: DelegateCacheFile = { kind: 'faultline-multus-delegates', containerId, pod, delegates };
    await node.writeFile(cacheFile(containerId), JSON.stringify(file) + '\n', 0o600);
  }

  /**
   * The delegates DEL runs, per the delegation semantics. Throws MissingDefinitionError when a
   * definition it must read is gone.
   */
  async delegatesForDel(node: Node, pod: { networks: readonly string[]; role: string }, containerId: string): Promise<{ delegates: Delegate[]; from: 'cache' | 'store' }> {
    if (this.delegation === 'cached-delegates') {
      const cached = await readDelegateCache(node, containerId);
      if (cached) return { delegates: cached, from: 'cache' };
    }
    return { delegates: this.resolve(node, pod, 'DEL'), from: 'store' };
  }

  /** After a complete DEL: the pod's cache file goes. */
  async forget(node: Node, containerId: string): Promise<void> {
    if (this.delegation !== 'cached-delegates') return;
    await node.removeFile(cacheFile(containerId));
  }
}

export function cacheFile(containerId: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(containerId)) throw new Error(`invalid container id ${JSON.stringify(containerId)}`);
  return `${DELEGATE_CACHE_DIR}/${containerId}`;
}

/** The cached delegates of a container, or undefined when there is no usable file. */
export async function readDelegateCache(node: Node, containerId: string): Promise<Delegate[] | undefined> {
  const file = cacheFile(containerId);
  if (!(await node.stat(file))) return undefined;
  try {
    const parsed = JSON.parse((await node.readFile(file)).toString('utf8')) as DelegateCacheFile;
    if (parsed.kind !== 'faultline-multus-delegates' || !Array.isArray(parsed.delegates)) return undefined;
    return parsed.delegates;
  } catch {
    return undefined;
  }
}

/** The IPAM-only delegate reserving a gateway's elastic address on its first secondary network. */
export function eipDelegate(secondary: Delegate): Delegate {
  const main = secondary.conflist.plugins.find((p) => p.ipam) as Record<string, unknown> | undefined;
  const ipam = main?.ipam as Record<string, unknown> | undefined;
  if (!ipam || typeof ipam.type !== 'string') throw new Error(`network ${secondary.name} has no IPAM to take an elastic address from`);
  return {
    name: secondary.name,
    ifName: EIP_IFNAME,
    role: 'eip',
    conflist: { cniVersion: secondary.conflist.cniVersion, name: secondary.conflist.name, plugins: [{ type: ipam.type, ipam: structuredClone(ipam) }] },
  };
}

/** Chain names of a gateway's NAT rules (inside the pod's own netns). */
export const NAT_CHAINS = { snat: 'EIP-SNAT', dnat: 'EIP-DNAT' } as const;

/**
 * iptables-restore input for a NAT gateway: traffic from its LAN (eth0's subnet) leaves net1 with the
 * elastic address; tcp/8080 to the elastic address goes to port 80 of eth0's address.
 */
export function natRules(opts: { lanCidr: string; lanIp: string; eip: string; externalIf: string }): string {
  const lan = networkOf(opts.lanCidr);
  return [
    '*nat',
    `:${NAT_CHAINS.snat} - [0:0]`,
    `:${NAT_CHAINS.dnat} - [0:0]`,
    `-A PREROUTING -j ${NAT_CHAINS.dnat}`,
    `-A POSTROUTING -j ${NAT_CHAINS.snat}`,
    `-A ${NAT_CHAINS.snat} -s ${lan} -o ${opts.externalIf} -m comment --comment "eip ${opts.eip}" -j SNAT --to-source ${opts.eip}`,
    `-A ${NAT_CHAINS.dnat} -i ${opts.externalIf} -d ${opts.eip}/32 -p tcp -m tcp --dport 8080 -m comment --comment "eip ${opts.eip}" -j DNAT --to-destination ${opts.lanIp}:80`,
    'COMMIT',
    '',
  ].join('\n');
}

/** The network of an interface address: 10.52.0.5/24 -> 10.52.0.0/24. */
export function networkOf(address: string): string {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(address);
  const ip = m ? parseIPv4(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) throw new Error(`not an interface address: ${address}`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return `${formatIPv4((ip & mask) >>> 0)}/${prefix}`;
}

/** Puts the elastic address on the external interface and installs the NAT rules, in the pod's netns. */
export async function setupNatGateway(node: Node, netns: string, opts: { lanCidr: string; lanIp: string; eip: string; externalIf: string }): Promise<void> {
  const addr = await node.exec(['ip', 'addr', 'add', `${opts.eip}/32`, 'dev', opts.externalIf], { netns });
  if (addr.exitCode !== 0) throw new Error(`nat-gateway: ip addr add ${opts.eip}/32 dev ${opts.externalIf}: ${addr.stderr.trim()}`);
  const ipt = await node.exec(['iptables-restore', '-w', '5', '--noflush'], { netns, stdin: natRules(opts) });
  if (ipt.exitCode !== 0) throw new Error(`nat-gateway: iptables-restore: ${ipt.stderr.trim()}`);
}
