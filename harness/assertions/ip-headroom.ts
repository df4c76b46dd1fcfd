// At least `min` free addresses in every host-local range of every node (the leak's early warning,
// before ADD starts failing).
import * as s from '../schema/dsl.ts';
import { defineAssertion, fail, pass, unknown } from './registry.ts';
import { hostLocalRanges, nodeParam } from './node-filter.ts';
import type { Evidence } from '../model/verdict.ts';
import { FaultlineError } from '../errors.ts';

export const ipHeadroom = defineAssertion({
  name: 'ip-headroom',
  description: 'At least `min` free addresses per node and host-local network.',
  params: s.object({ min: s.opt(s.integer({ min: 0, max: 1 << 24, description: 'Free addresses each range must keep; at most what the range holds.' }), 1), node: nodeParam, network: s.opt(s.string()) }),
  // A min above what a range can ever hold could never pass: a mistake, not a finding.
  validate(p, sc) {
    const caps = Object.entries(sc.hostLocalCapacity ?? {}).filter(([net]) => p.network === undefined || net === p.network);
    const tight = caps.filter(([, c]) => c < p.min!);
    if (!tight.length) return undefined;
    const [net, cap] = tight.reduce((a, b) => (b[1] < a[1] ? b : a));
    return { path: ['min'], message: `expected at most ${cap}: host-local can hand out ${cap} address${cap === 1 ? '' : 'es'} per node in network ${net}, found ${p.min}` };
  },
  evaluate(_ctx, snapshot, p) {
    const bad: Evidence[] = [];
    const good: Evidence[] = [];
    for (const r of hostLocalRanges(snapshot, p.node, p.network)) {
      if (r.capacity < p.min!) {
        throw new FaultlineError('invalid-input', `min ${p.min} is more than the ${r.capacity} address${r.capacity === 1 ? '' : 'es'} host-local can hand out in ${r.node}/${r.network}: the check could never pass`);
      }
      const line = `${r.node}/${r.network}: ${r.free} free of ${r.capacity} (${r.used} reserved)`;
      const h = { capacity: r.capacity, used: r.used, free: r.free };
      (r.free < p.min! ? bad : good).push({ summary: r.free < p.min! ? `${line}, below ${p.min}` : line, node: r.node, network: r.network, ...h });
    }
    if (!bad.length && !good.length) return unknown('no host-local range found in the nodes\' network configs');
    return bad.length ? fail(bad) : pass(good);
  },
});
