// Every desired pod has a running sandbox with all its networks attached; otherwise the evidence is
// the runtime's or plugin's error, verbatim.
import * as s from '../schema/dsl.ts';
import { defineAssertion, fail, pass } from './registry.ts';
import { nodeParam } from './node-filter.ts';
import type { Evidence } from '../model/verdict.ts';

export const podsRunning = defineAssertion({
  name: 'pods-running',
  description: 'Every desired pod is attached to all its networks.',
  params: s.object({ node: nodeParam }),
  evaluate(ctx, _snapshot, p) {
    const evidence: Evidence[] = [];
    const desired = (p.node ? [ctx.agent(p.node)] : ctx.agents).flatMap((a) => a.desired());
    for (const spec of desired) {
      const st = ctx.agent(spec.node).pod(spec.name);
      if (!st) evidence.push({ summary: `${spec.node}: pod ${spec.name} has no sandbox`, node: spec.node, pod: spec.name });
      else if (st.phase !== 'running') evidence.push({ summary: `${spec.node}: pod ${spec.name} is ${st.phase}: ${st.error ?? ''}`.trim(), node: spec.node, pod: spec.name, ...(st.error ? { error: st.error } : {}) });
    }
    return evidence.length ? fail(evidence) : pass([{ summary: `${desired.length} pod(s) running` }]);
  },
});
