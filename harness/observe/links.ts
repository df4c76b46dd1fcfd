// Links of a node's network namespace, and which pod network namespace each veth's peer lives in.
import type { Node } from '../backends/types.ts';
import type { LinkInfo } from '../model/snapshot.ts';

interface IpLink {
  ifname: string;
  flags?: string[];
  master?: string;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string };
}

interface IpNetns {
  name: string;
  id?: number;
}

/** Links in the node's own namespace; a veth's `peer` is the name of the netns its other end is in. */
export async function readLinks(node: Node): Promise<{ links: LinkInfo[]; netns: string[] }> {
  const [links, nsList] = await Promise.all([node.exec(['ip', '-j', '-d', 'link', 'show']), node.exec(['ip', '-j', 'netns', 'list'])]);
  if (links.exitCode !== 0) throw new Error(`ip link on ${node.name}: ${links.stderr.trim()}`);
  const namespaces: IpNetns[] = nsList.exitCode === 0 && nsList.stdout.trim() ? JSON.parse(nsList.stdout) : [];
  const byId = new Map(namespaces.filter((n) => n.id !== undefined).map((n) => [n.id!, n.name]));
  const parsed: IpLink[] = links.stdout.trim() ? JSON.parse(links.stdout) : [];
  return {
    netns: namespaces.map((n) => n.name).sort(),
    links: parsed
      .filter((l) => l.ifname !== 'lo')
      .map((l) => {
        const info: LinkInfo = { name: l.ifname, kind: l.linkinfo?.info_kind ?? 'device', up: (l.flags ?? []).includes('UP'), ns: 'node' };
        if (l.master) info.master = l.master;
        if (l.link_netnsid !== undefined) info.peer = byId.get(l.link_netnsid) ?? `netnsid:${l.link_netnsid}`;
        return info;
      }),
  };
}
