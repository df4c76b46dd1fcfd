// At least `min` free addresses in every host-local range of every node (the leak's early warning,
// before ADD starts failing).
import * as s from '../scenario/schema-dsl.ts';
import { defineAssertion, fail, pass, unknown } from './registry.ts';
import { checkNodeName, nodeParam, selectNodes } from './node-filter.ts';
import type { Evidence } from '../runner/timeline.ts';

export const ipHeadroom = defineAssertion({
  name: 'ip-headroom',
  description: 'At least `min` free addresses per node and host-local network.',
  params: s.object({ min: s.opt(s.integer({ min: 0 }), 1), node: nodeParam, network: s.opt(s.string()) }),
  validate: (p, sc) => checkNodeName(p.node, sc.nodeNames),
  evaluate(_ctx, snapshot, p) {
    const bad: Evidence[] = [];
    const good: Evidence[] = [];
    for (const n of selectNodes(snapshot, p.node)) {
      for (const [net, h] of Object.entries(n.headroom ?? {})) {
        if (p.network && net !== p.network) continue;
        const line = `${n.node}/${net}: ${h.free} free of ${h.capacity} (${h.used} reserved)`;
        (h.free < p.min! ? bad : good).push({ summary: h.free < p.min! ? `${line}, below ${p.min}` : line, node: n.node, network: net, ...h });
      }
    }
    if (!bad.length && !good.length) return unknown('no host-local range found in the nodes\' network configs');
    return bad.length ? fail(bad) : pass(good);
  },
});
