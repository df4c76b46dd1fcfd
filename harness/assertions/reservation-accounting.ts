// The accounting invariant: every host-local reservation belongs to a live attachment and every live
// attachment's address is reserved for it, per node and network. Kube-OVN's form of this broke when
// IP CRs outlived their pods (kubeovn/kube-ovn#4747): usingIPs counted addresses
// nobody used. Containers with an ADD or DEL under way (snapshot.inFlight) are not judged, so the
// check holds mid-churn.
import * as s from '../schema/dsl.ts';
import { defineAssertion, fail, pass } from './registry.ts';
import { nodeParam, selectNodes } from './node-filter.ts';
import type { Evidence } from '../model/verdict.ts';
import { lastOwnerText, ownerText } from './owners.ts';

export const networkParam = s.opt(s.string({ minLength: 1, description: 'Only this network (default: every network).' }));

export function checkNetworkName(network: string | undefined, names: string[]): string | undefined {
  if (network === undefined || names.includes(network)) return undefined;
  return `unknown network '${network}'; the stack profile defines ${names.length ? names.join(', ') : 'no network'}`;
}

export const reservationAccounting = defineAssertion({
  name: 'reservation-accounting',
  description: 'Reservations equal live attachments per node and network: none without an owner, none missing.',
  cheap: true,
  params: s.object({ node: nodeParam, network: networkParam }),
  validate: (p, sc) => checkNetworkName(p.network, sc.networkNames),
  evaluate(ctx, snapshot, p) {
    const bad: Evidence[] = [];
    const counts: Evidence[] = [];
    for (const n of selectNodes(snapshot, p.node)) {
      const busy = new Set(n.inFlight ?? []);
      const live = n.attachments.filter((a) => !busy.has(a.containerId) && (!p.network || a.network === p.network));
      const byOwner = new Set(live.map((a) => `${a.network}/${a.containerId}/${a.ifName}`));
      const liveIds = new Set(live.map((a) => `${a.network}/${a.containerId}`));
      const reservations = n.reservations.filter((r) => !p.network || r.network === p.network);
      const held = new Set<string>();
      const perNet = new Map<string, { reservations: number; attachments: number; judged: number }>();
      const tally = (net: string) => perNet.get(net) ?? perNet.set(net, { reservations: 0, attachments: 0, judged: 0 }).get(net)!;
      for (const r of reservations) {
        tally(r.network).reservations++;
        // host-local writes a reservation in two steps (create, then write): an empty file is
        // ambiguous while an operation is under way on the node, and judged once none is.
        if (r.unreadable === 'empty file' && busy.size) continue;
        if (r.unreadable) {
          const last = lastOwnerText(ctx, n.node, r.ip, r.network);
          bad.push({ summary: `${n.node}/${r.network}: ${r.file} is unreadable (${r.unreadable})${last.text}`, node: n.node, network: r.network, file: r.file, ...last.fields });
          continue;
        }
        if (busy.has(r.containerId!)) continue;
        tally(r.network).judged++;
        held.add(`${r.network}/${r.containerId}/${r.ifName ?? ''}/${r.ip}`);
        const owned = r.ifName === undefined ? liveIds.has(`${r.network}/${r.containerId}`) : byOwner.has(`${r.network}/${r.containerId}/${r.ifName}`);
        if (!owned) {
          bad.push({
            summary: `${n.node}/${r.network}: ${r.ip} reserved by ${r.containerId!.slice(0, 12)}/${r.ifName ?? '?'}, which is not a live attachment: ${ownerText(ctx, n.node, r.containerId)}`,
            node: n.node,
            network: r.network,
            file: r.file,
            owner: r.containerId,
            ifName: r.ifName,
          });
        }
      }
      // Networks with host-local state on this node: every live address there must be reserved.
      const hostLocal = new Set([...Object.keys(n.headroom ?? {}), ...reservations.map((r) => r.network)]);
      for (const a of live) {
        tally(a.network).attachments++;
        if (!hostLocal.has(a.network)) continue;
        for (const ip of a.ips) {
          if (held.has(`${a.network}/${a.containerId}/${a.ifName}/${ip}`)) continue;
          // host-local before 0.7 wrote the container id alone.
          if (n.reservations.some((r) => r.network === a.network && r.ip === ip && r.containerId === a.containerId && r.ifName === undefined)) continue;
          bad.push({ summary: `${n.node}/${a.network}: pod ${a.pod} (${a.ifName}) has ${ip}, which host-local has not reserved for it`, node: n.node, network: a.network, pod: a.pod, ip });
        }
      }
      for (const [net, c] of perNet) {
        counts.push({ summary: `${n.node}/${net}: ${c.reservations} reservation(s), ${c.attachments} live attachment(s)${busy.size ? `, ${busy.size} container(s) mid-operation not judged` : ''}`, node: n.node, network: net, ...c });
      }
    }
    return bad.length ? fail([...bad, ...counts]) : pass(counts.length ? counts : [{ summary: 'no reservation and no attachment' }]);
  },
});
