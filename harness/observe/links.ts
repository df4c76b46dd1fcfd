// Links of a node's network namespace, which pod network namespace each veth's peer lives in, and
// the links inside every named network namespace of the node (pod sandboxes): what a plugin leaves
// in a pod is observed too.
import type { Node } from '../backends/types.ts';
import type { LinkInfo } from '../model/snapshot.ts';

interface IpLink {
  ifname: string;
  flags?: string[];
  master?: string;
  link?: string;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string };
}

interface IpNetns {
  name: string;
  id?: number;
}

/** Marks the start of one namespace's `ip link` output in the combined listing. */
const SECTION = '@@faultline-netns ';

function toLink(l: IpLink, ns: string, peerOf: (id: number) => string | undefined): LinkInfo {
  const info: LinkInfo = { name: l.ifname, kind: l.linkinfo?.info_kind ?? 'device', up: (l.flags ?? []).includes('UP'), ns };
  if (l.master) info.master = l.master;
  if (l.link && l.link_netnsid === undefined) info.parent = l.link;
  const peer = l.link_netnsid === undefined ? undefined : peerOf(l.link_netnsid);
  if (peer) info.peer = peer;
  return info;
}

/**
 * Links in the node's own namespace (a veth's `peer` is the name of the netns its other end is in)
 * and in each of its named network namespaces (`ns` is the namespace's name there).
 */
export async function readLinks(node: Node): Promise<{ links: LinkInfo[]; netns: string[] }> {
  const [links, nsList] = await Promise.all([node.exec(['ip', '-j', '-d', 'link', 'show']), node.exec(['ip', '-j', 'netns', 'list'])]);
  if (links.exitCode !== 0) throw new Error(`ip link on ${node.name}: ${links.stderr.trim()}`);
  const namespaces: IpNetns[] = nsList.exitCode === 0 && nsList.stdout.trim() ? JSON.parse(nsList.stdout) : [];
  const byId = new Map(namespaces.filter((n) => n.id !== undefined).map((n) => [n.id!, n.name]));
  const parsed: IpLink[] = links.stdout.trim() ? JSON.parse(links.stdout) : [];
  const out = parsed.filter((l) => l.ifname !== 'lo').map((l) => toLink(l, 'node', (id) => byId.get(id) ?? `netnsid:${id}`));
  const names = namespaces.map((n) => n.name).sort();
  out.push(...(await readPodLinks(node, names)));
  return { netns: names, links: out };
}

/**
 * The links inside each named namespace, in one exec: `ip -n <name>` per namespace, the names
 * passed as arguments (never built into the script). A namespace that vanished meanwhile has none.
 */
async function readPodLinks(node: Node, names: readonly string[]): Promise<LinkInfo[]> {
  if (!names.length) return [];
  const script = `for n do printf '\\n${SECTION}%s\\n' "$n"; ip -n "$n" -j -d link show 2>/dev/null; done; true`;
  const r = await node.exec(['sh', '-c', script, 'sh', ...names]);
  if (r.exitCode !== 0) throw new Error(`ip -n <netns> link on ${node.name}: ${r.stderr.trim()}`);
  const out: LinkInfo[] = [];
  for (const section of r.stdout.split(`\n${SECTION}`).slice(1)) {
    const nl = section.indexOf('\n');
    const ns = (nl < 0 ? section : section.slice(0, nl)).trim();
    const body = nl < 0 ? '' : section.slice(nl + 1).trim();
    if (!ns || !body) continue;
    let parsed: IpLink[];
    try {
      parsed = JSON.parse(body) as IpLink[];
    } catch {
      continue; // the namespace went away while ip listed it
    }
    // A peer in another namespace is seen by id only from inside a pod: not a name to keep.
    out.push(...parsed.filter((l) => l.ifname !== 'lo').map((l) => toLink(l, ns, () => undefined)));
  }
  return out;
}
