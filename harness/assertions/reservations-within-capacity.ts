// Per node and network, host-local's reservations never exceed the range's capacity (Kube-OVN's
// external subnet reported more addresses in use than its CIDR holds, kubeovn/kube-ovn#4747).
import * as s from '../schema/dsl.ts';
import { defineAssertion, fail, pass, unknown } from './registry.ts';
import { hostLocalRanges, nodeParam } from './node-filter.ts';
import { checkNetworkName, networkParam } from './reservation-accounting.ts';
import type { Evidence } from '../model/verdict.ts';

export const reservationsWithinCapacity = defineAssertion({
  name: 'reservations-within-capacity',
  description: 'Per node and network, reservations are at most the range capacity.',
  cheap: true,
  params: s.object({ node: nodeParam, network: networkParam }),
  validate: (p, sc) => checkNetworkName(p.network, sc.networkNames),
  evaluate(_ctx, snapshot, p) {
    const bad: Evidence[] = [];
    const good: Evidence[] = [];
    for (const r of hostLocalRanges(snapshot, p.node, p.network)) {
      const used = r.reservations;
      const line = `${r.node}/${r.network}: ${used} reservation(s), capacity ${r.capacity}`;
      (used > r.capacity ? bad : good).push({ summary: used > r.capacity ? `${line}: ${used - r.capacity} more than the range holds` : line, node: r.node, network: r.network, used, capacity: r.capacity });
    }
    if (!bad.length && !good.length) return unknown(`no range capacity known${p.network ? ` for network ${p.network}` : ''}`);
    return bad.length ? fail(bad) : pass(good);
  },
});
