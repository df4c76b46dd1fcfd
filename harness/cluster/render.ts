// A network definition as one node's runtime uses it (what a CNI daemon writes into /etc/cni/net.d).
import type { NetworkDef } from '../model/profile.ts';
import type { NetworkConfigList } from '../model/cni.ts';

/** The conflist as a node's CNI daemon writes it: node subnet in place of usePodCidr, the cell's cniVersion. */
export function renderConflist(net: NetworkDef, nodeSubnet: string, cniVersion: string): NetworkConfigList {
  const list = structuredClone(net.conflist);
  list.cniVersion = cniVersion;
  for (const plugin of list.plugins) {
    const ipam = plugin.ipam as Record<string, unknown> | undefined;
    if (ipam && ipam.subnet === 'usePodCidr') ipam.subnet = nodeSubnet;
  }
  return list;
}
