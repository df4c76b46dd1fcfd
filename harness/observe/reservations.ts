// host-local's on-disk store: one file per reserved IP, named by the IP, holding
// "<containerID>\r\n<ifname>" (older releases: the container id alone); last_reserved_ip.<n>; lock.
import type { Node } from '../backends/types.ts';
import type { Reservation } from '../model/snapshot.ts';
import { parseIPv4 } from '../util/net.ts';

export const HOST_LOCAL_ROOT = '/var/lib/cni/networks';

export function parseReservation(content: string): { containerId?: string; ifName?: string; unreadable?: string } {
  if (content.length === 0) return { unreadable: 'empty file' };
  const [id, ifName] = content.split(/\r?\n/);
  const containerId = id?.trim();
  if (!containerId || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(containerId)) return { unreadable: `unexpected content ${JSON.stringify(content.slice(0, 40))}` };
  return ifName?.trim() ? { containerId, ifName: ifName.trim() } : { containerId };
}

/** Every reservation of every host-local network under a data dir on the node. */
export async function readReservations(node: Node, root = HOST_LOCAL_ROOT): Promise<Reservation[]> {
  const out: Reservation[] = [];
  for (const network of (await node.list(root)).sort()) {
    const dir = `${root}/${network}`;
    const names = (await node.list(dir)).filter((n) => parseIPv4(n) !== undefined).sort(compareIPs);
    for (const ip of names) {
      const file = `${dir}/${ip}`;
      const [buf, st] = await Promise.all([node.readFile(file).catch(() => undefined), node.stat(file)]);
      if (!st) continue; // released between list and read
      const parsed = buf === undefined ? { unreadable: 'could not be read' } : parseReservation(buf.toString('utf8'));
      out.push({ network, ip, file, mtimeMs: st.mtimeMs, ...parsed });
    }
  }
  return out;
}

function compareIPs(a: string, b: string): number {
  return (parseIPv4(a) ?? 0) - (parseIPv4(b) ?? 0);
}
