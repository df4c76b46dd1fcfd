// Every CNI DEL the runtime ran (pod deletions in the timeline) succeeded. The evidence of a failure
// is the runtime's exact error, with the pod and its sandbox's container id.
import * as s from '../schema/dsl.ts';
import { defineAssertion, fail, pass, unknown } from './registry.ts';
import { nodeParam } from './node-filter.ts';
import type { Evidence } from '../model/verdict.ts';

export const delSucceeds = defineAssertion({
  name: 'del-succeeds',
  description: 'Every DEL in the timeline succeeded (evidence: the exact DEL error, pod and container id).',
  params: s.object({ node: nodeParam }),
  evaluate(ctx, _snapshot, p) {
    const dels = ctx.timeline.entries.filter((e) => e.kind === 'op' && e.op === 'del' && (!p.node || e.node === p.node));
    if (!dels.length) return unknown(`no DEL ran${p.node ? ` on ${p.node}` : ''}: nothing to judge`);
    const evidence: Evidence[] = [];
    for (const e of dels) {
      if (e.kind !== 'op' || e.result === 'ok') continue;
      const containerId = typeof e.detail?.containerId === 'string' ? e.detail.containerId : undefined;
      evidence.push({
        summary: `${e.node}: DEL of pod ${e.pod ?? '?'}${containerId ? ` (container ${containerId.slice(0, 12)})` : ''} failed: ${e.error ?? 'no error text'}`,
        node: e.node,
        ...(e.pod ? { pod: e.pod } : {}),
        ...(containerId ? { containerId } : {}),
        error: e.error ?? '',
      });
    }
    return evidence.length ? fail(evidence) : pass([{ summary: `${dels.length} DEL(s), all succeeded` }]);
  },
});
