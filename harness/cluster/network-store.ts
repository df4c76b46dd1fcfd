// The cluster's network definitions: what NetworkAttachmentDefinitions (and Kube-OVN's Subnets) are
// to a real cluster. One store per cell, held outside every node (an API object, not a file in
// /etc/cni/net.d). Multi-network pods resolve their networks here at ADD and, depending on the
// delegation semantics, again at DEL. `remove-network` / `restore-network` act on it.
import type { NetworkDef } from '../model/profile.ts';
import type { NetworkConfigList } from '../model/cni.ts';
import { formatIPv4, parseCidr } from '../util/net.ts';
import { renderConflist } from './render.ts';

/** Where a definition is rendered: the node's pod subnet and its index in the cluster (0-based). */
export interface NodePlacement {
  podSubnet: string;
  index: number;
}

export class NetworkStore {
  /** Every network the profile defines, in profile order (default network first). */
  private readonly defs: NetworkDef[];
  private readonly present = new Set<string>();

  constructor(defs: readonly NetworkDef[]) {
    const primary = defs.filter((d) => !d.secondary);
    this.defs = [...primary, ...defs.filter((d) => d.secondary)];
    for (const d of this.defs) this.present.add(d.conflist.name);
  }

  /** Names of every network the profile defines, present or not. */
  known(): string[] {
    return this.defs.map((d) => d.conflist.name);
  }

  /** The pods' default network (the profile's first non-secondary one), present or not. */
  defaultName(): string {
    const d = this.defs.find((x) => !x.secondary);
    if (!d) throw new Error('the stack profile defines no default network');
    return d.conflist.name;
  }

  has(name: string): boolean {
    return this.present.has(name);
  }

  /** The definition if it is present in the store now. */
  get(name: string): NetworkDef | undefined {
    return this.present.has(name) ? this.defs.find((d) => d.conflist.name === name) : undefined;
  }

  /** The profile's definition whether present or removed (capacity and ranges for observations). */
  profileDef(name: string): NetworkDef | undefined {
    return this.defs.find((d) => d.conflist.name === name);
  }

  /** Deletes a definition; false when it was already gone. */
  remove(name: string): boolean {
    this.requireKnown(name);
    return this.present.delete(name);
  }

  /** Puts the profile's definition back; false when it was present. */
  restore(name: string): boolean {
    this.requireKnown(name);
    if (this.present.has(name)) return false;
    this.present.add(name);
    return true;
  }

  private requireKnown(name: string): void {
    if (!this.defs.some((d) => d.conflist.name === name)) {
      throw new Error(`no network named '${name}' in the stack profile (networks: ${this.known().join(', ')})`);
    }
  }
}

/**
 * A definition as the runtime on one node uses it: `subnet: usePodCidr` becomes the node's pod
 * subnet; a host-local `nodeSlice: N` gives each node its own N addresses of a shared subnet
 * (node i: the (i+1)-th block of N after the gateway .1), so two nodes never hand out one address.
 */
export function renderNetwork(def: NetworkDef, at: NodePlacement, cniVersion: string): NetworkConfigList {
  const list = renderConflist(def, at.podSubnet, cniVersion);
  for (const plugin of list.plugins) {
    const ipam = plugin.ipam as Record<string, unknown> | undefined;
    if (!ipam || ipam.nodeSlice === undefined) continue;
    const size = Number(ipam.nodeSlice);
    const subnet = typeof ipam.subnet === 'string' ? parseCidr(ipam.subnet) : undefined;
    delete ipam.nodeSlice;
    if (!subnet || !Number.isInteger(size) || size < 1) throw new Error(`network ${def.conflist.name}: nodeSlice needs a subnet and a positive integer size`);
    const first = subnet.base + 2 + at.index * size;
    const last = first + size - 1;
    if (last >= subnet.base + 2 ** (32 - subnet.prefix) - 1) {
      throw new Error(`network ${def.conflist.name}: ${ipam.subnet} has no slice of ${size} addresses for node #${at.index + 1}`);
    }
    ipam.rangeStart = formatIPv4(first);
    ipam.rangeEnd = formatIPv4(last);
  }
  return list;
}

/**
 * The cell's network definitions and how they are placed on nodes: the store, whether the stack has
 * secondary networks (pods then attach as Multus attaches them), and each node's placement.
 */
export interface ClusterNetworks {
  readonly store: NetworkStore;
  /** The stack defines secondary networks (definitions live in the store, not in net.d). */
  readonly multi: boolean;
  placement(node: string): NodePlacement;
}
