// Free addresses per host-local network, from the ranges in the node's own network configs.
import type { Node } from '../backends/types.ts';
import type { NodeSnapshot, Reservation } from '../model/snapshot.ts';
import { parseCidr, parseIPv4 } from '../util/net.ts';
import { readNetworkConfig } from '../runtime/libcni/node-io.ts';

interface RangeLike {
  subnet?: string;
  rangeStart?: string;
  rangeEnd?: string;
  gateway?: string;
}

/** Addresses host-local can hand out in one range: network and broadcast excluded, gateway skipped. */
export function rangeCapacity(r: RangeLike): number | undefined {
  const c = r.subnet ? parseCidr(r.subnet) : undefined;
  if (!c) return undefined;
  const size = 2 ** (32 - c.prefix);
  const first = r.rangeStart ? parseIPv4(r.rangeStart)! : c.base + 1;
  const last = r.rangeEnd ? parseIPv4(r.rangeEnd)! : c.base + size - 2;
  const gw = r.gateway ? parseIPv4(r.gateway)! : c.base + 1;
  let n = last - first + 1;
  if (gw >= first && gw <= last) n -= 1;
  return Math.max(0, n);
}

function ipamRanges(ipam: Record<string, unknown>): RangeLike[] {
  if (Array.isArray(ipam.ranges)) return (ipam.ranges as RangeLike[][]).flat();
  return [ipam as RangeLike];
}

export async function readHeadroom(node: Node, reservations: Reservation[]): Promise<NonNullable<NodeSnapshot['headroom']>> {
  const out: NonNullable<NodeSnapshot['headroom']> = {};
  const files = (await node.list('/etc/cni/net.d')).filter((f) => /\.(conflist|conf)$/.test(f)).sort();
  for (const f of files) {
    let list;
    try {
      list = await readNetworkConfig(node, `/etc/cni/net.d/${f}`);
    } catch {
      continue; // unreadable configs are the config observation's business
    }
    for (const plugin of list.plugins) {
      const ipam = plugin.ipam as Record<string, unknown> | undefined;
      if (!ipam || ipam.type !== 'host-local') continue;
      const caps = ipamRanges(ipam).map(rangeCapacity);
      if (caps.some((c) => c === undefined)) continue;
      const capacity = caps.reduce((a, b) => a! + b!, 0)!;
      const used = reservations.filter((r) => r.network === list.name).length;
      out[list.name] = { capacity, used, free: Math.max(0, capacity - used) };
    }
  }
  return out;
}
