// At least `min` free addresses in every host-local range of every node (the leak's early warning,
// before ADD starts failing).
import * as s from '../schema/dsl.ts';
import { defineAssertion, fail, pass, unknown } from './registry.ts';
import { hostLocalRanges, nodeParam } from './node-filter.ts';
import type { Evidence } from '../model/verdict.ts';

export const ipHeadroom = defineAssertion({
  name: 'ip-headroom',
  description: 'At least `min` free addresses per node and host-local network.',
  params: s.object({ min: s.opt(s.integer({ min: 0 }), 1), node: nodeParam, network: s.opt(s.string()) }),
  evaluate(_ctx, snapshot, p) {
    const bad: Evidence[] = [];
    const good: Evidence[] = [];
    for (const r of hostLocalRanges(snapshot, p.node, p.network)) {
      const line = `${r.node}/${r.network}: ${r.free} free of ${r.capacity} (${r.used} reserved)`;
      const h = { capacity: r.capacity, used: r.used, free: r.free };
      (r.free < p.min! ? bad : good).push({ summary: r.free < p.min! ? `${line}, below ${p.min}` : line, node: r.node, network: r.network, ...h });
    }
    if (!bad.length && !good.length) return unknown('no host-local range found in the nodes\' network configs');
    return bad.length ? fail(bad) : pass(good);
  },
});
