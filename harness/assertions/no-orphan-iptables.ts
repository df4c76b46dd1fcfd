// Chains CNI plugins made in a node (bridge's ipMasq CNI-<hash>, portmap's CNI-DN-/CNI-SN-<hash>, in
// nat and filter) whose owner container id (from the rules' `id: "<cid>"` comments) is not a live
// attachment: the DEL that should have removed them never reached the plugin.
import * as s from '../schema/dsl.ts';
import { defineAssertion, fail, pass, unknown } from './registry.ts';
import { nodeParam, selectNodes } from './node-filter.ts';
import type { Evidence } from '../model/verdict.ts';
import { ownerText } from './owners.ts';

export const noOrphanIptables = defineAssertion({
  name: 'no-orphan-iptables',
  description: 'Every CNI iptables chain with an owner belongs to a live attachment.',
  params: s.object({ node: nodeParam }),
  evaluate(ctx, snapshot, p) {
    const evidence: Evidence[] = [];
    let owned = 0;
    let observed = 0;
    for (const n of selectNodes(snapshot, p.node)) {
      if (!n.iptables) continue; // powered off: no kernel state to judge
      observed++;
      const live = new Set(n.attachments.map((a) => a.containerId));
      for (const c of n.iptables) {
        if (!c.owners.length) continue; // shared chains (CNI-HOSTPORT-*, CNI-FORWARD) have no owner
        owned++;
        for (const owner of c.owners) {
          if (live.has(owner)) continue;
          evidence.push({ summary: `${n.node}: ${c.table} chain ${c.chain} (${c.rules} rule(s)) belongs to ${owner.slice(0, 12)}, which is not a live attachment: ${ownerText(ctx, n.node, owner)}`, node: n.node, table: c.table, chain: c.chain, owner });
        }
      }
    }
    if (!observed) return unknown('no running node to read iptables from');
    return evidence.length ? fail(evidence) : pass([{ summary: `${owned} CNI chain(s) with an owner, all owned by live attachments` }]);
  },
});
