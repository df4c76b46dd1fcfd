// CNI-made iptables chains in a node's namespace (nat and filter), with their owner container ids
// taken from the rules' comments (bridge/portmap write `id: "<containerID>"`).
import type { Node } from '../backends/types.ts';
import type { IptablesChain } from '../model/snapshot.ts';

const CNI_CHAIN = /^(CNI-|CNI_)/;

export function parseIptablesSave(table: string, text: string): IptablesChain[] {
  const chains = new Map<string, IptablesChain>();
  for (const line of text.split('\n')) {
    const decl = /^:(\S+) /.exec(line);
    if (decl && CNI_CHAIN.test(decl[1]!)) chains.set(decl[1]!, { table, chain: decl[1]!, owners: [], rules: 0 });
    const rule = /^-A (\S+) (.*)$/.exec(line);
    if (!rule) continue;
    const chain = chains.get(rule[1]!);
    // Rules in built-in chains that jump to a CNI chain also name the owner.
    const target = /-j (CNI-\S+)/.exec(rule[2]!)?.[1];
    const owner = /id: \\?"([0-9a-f]{6,})\\?"/.exec(rule[2]!)?.[1];
    const into = chain ?? (target ? chains.get(target) : undefined);
    if (chain) chain.rules++;
    if (into && owner && !into.owners.includes(owner)) into.owners.push(owner);
  }
  return [...chains.values()];
}

export async function readIptablesChains(node: Node): Promise<IptablesChain[]> {
  const out: IptablesChain[] = [];
  for (const table of ['nat', 'filter']) {
    const r = await node.exec(['iptables-save', '-t', table]);
    if (r.exitCode !== 0) continue; // no such table loaded in this namespace yet
    out.push(...parseIptablesSave(table, r.stdout));
  }
  return out;
}
