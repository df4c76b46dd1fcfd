// A host-local reservation is leaked when its owner (container id + ifname) is not a live
// attachment, or when its file cannot be read.
import * as s from '../schema/dsl.ts';
import { defineAssertion, fail, pass } from './registry.ts';
import { nodeParam, selectNodes } from './node-filter.ts';
import type { Evidence } from '../model/verdict.ts';
import { lastOwnerText } from './owners.ts';

export const noLeakedReservations = defineAssertion({
  name: 'no-leaked-reservations',
  description: 'Every host-local reservation belongs to a live attachment.',
  runsOn: 'any',
  params: s.object({ node: nodeParam, network: s.opt(s.string({ description: 'Only this network (default: all).' })) }),
  evaluate(ctx, snapshot, p) {
    const evidence: Evidence[] = [];
    let total = 0;
    for (const n of selectNodes(snapshot, p.node)) {
      const live = new Set(n.attachments.map((a) => `${a.containerId}/${a.ifName}`));
      for (const r of n.reservations) {
        if (p.network && r.network !== p.network) continue;
        total++;
        if (r.unreadable) {
          const last = lastOwnerText(ctx, n.node, r.ip, r.network);
          evidence.push({ summary: `${n.node}: ${r.file} is unreadable (${r.unreadable})${last.text}`, node: n.node, file: r.file, detail: `unreadable (${r.unreadable})`, ...last.fields });
        } else if (!live.has(`${r.containerId}/${r.ifName ?? ''}`) && !(r.ifName === undefined && [...live].some((k) => k.startsWith(`${r.containerId}/`)))) {
          evidence.push({ summary: `${n.node}: ${r.file} reserved by ${r.containerId!.slice(0, 12)}/${r.ifName ?? '?'}, which is not a live attachment`, node: n.node, file: r.file, owner: r.containerId, ifName: r.ifName, detail: 'not a live attachment' });
        }
      }
    }
    return evidence.length ? fail(evidence) : pass([{ summary: `${total} reservation(s), all owned by live attachments` }]);
  },
});
