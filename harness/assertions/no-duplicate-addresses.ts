// No address of a network is held by two live attachments, across every node (host-local on a range
// shared by nodes would hand one out twice).
import * as s from '../schema/dsl.ts';
import { defineAssertion, fail, pass } from './registry.ts';
import { nodeParam, selectNodes } from './node-filter.ts';
import { checkNetworkName, networkParam } from './reservation-accounting.ts';
import type { Evidence } from '../model/verdict.ts';

export const noDuplicateAddresses = defineAssertion({
  name: 'no-duplicate-addresses',
  description: 'No address of a network is held by two live attachments (on any nodes).',
  cheap: true,
  params: s.object({ node: nodeParam, network: networkParam }),
  validate: (p, sc) => checkNetworkName(p.network, sc.networkNames),
  evaluate(_ctx, snapshot, p) {
    const holders = new Map<string, string[]>();
    let total = 0;
    for (const n of selectNodes(snapshot, p.node)) {
      for (const a of n.attachments) {
        if (p.network && a.network !== p.network) continue;
        for (const ip of a.ips) {
          total++;
          const key = `${a.network} ${ip}`;
          const list = holders.get(key) ?? [];
          list.push(`${n.node}/${a.pod}/${a.ifName}`);
          holders.set(key, list);
        }
      }
    }
    const bad: Evidence[] = [];
    for (const [key, list] of holders) {
      if (list.length < 2) continue;
      const [network, ip] = key.split(' ');
      bad.push({ summary: `${network}: ${ip} is held by ${list.length} live attachments: ${list.join(', ')}`, network, ip, holders: list });
    }
    return bad.length ? fail(bad) : pass([{ summary: `${total} address(es) held by live attachments, none twice` }]);
  },
});
