// kubelet's cleanup held: every sandbox whose pod is gone (deleted, or replaced after a power cut) is
// removed from the runtime within `withinMs` of the pod going. A stuck sandbox is named with the
// runtime's last error for it, verbatim (containerd's, with its gRPC status).
import * as s from '../schema/dsl.ts';
import { defineAssertion, fail, pass, unknown } from './registry.ts';
import { nodeParam, selectNodes } from './node-filter.ts';
import type { Evidence } from '../model/verdict.ts';

export const sandboxesReconciled = defineAssertion({
  name: 'sandboxes-reconciled',
  description: "Every sandbox of a pod that is gone is removed from the runtime (evidence: the stuck sandbox and the runtime's last error).",
  params: s.object({
    node: nodeParam,
    withinMs: s.opt(s.integer({ min: 0, max: 3_600_000, description: 'Grace after the pod went (deleted, or its node lost power) before a sandbox left behind counts as stuck.' }), 0),
  }),
  evaluate(ctx, snapshot, p) {
    const evidence: Evidence[] = [];
    let listed = 0;
    let judged = 0;
    const now = ctx.timeline.now();
    for (const n of selectNodes(snapshot, p.node)) {
      if (!n.sandboxes) continue;
      judged++;
      listed += n.sandboxes.length;
      const agent = ctx.agent(n.node);
      const current = new Set(agent.pods().filter((x) => x.phase !== 'terminating' && agent.desired().some((d) => d.name === x.spec.name)).map((x) => x.containerId));
      for (const sb of n.sandboxes) {
        if (current.has(sb.id)) continue;
        // When its pod went: its deletion, or the last power cut of the node.
        const gone = ctx.timeline.entries.findLast((e) => e.kind === 'op' && e.node === n.node && ((e.op === 'del' && e.detail?.containerId === sb.id) || e.op === 'power-cut'));
        if (gone && now - gone.at < p.withinMs!) continue;
        const error = agent.lastError(sb.id);
        evidence.push({
          summary: `${n.node}: sandbox ${sb.id.slice(0, 12)} of pod ${sb.pod} is ${sb.state === 'ready' ? 'still ready' : 'not ready'} and was never removed${error ? `: ${error}` : ''}`,
          node: n.node,
          pod: sb.pod,
          containerId: sb.id,
          ...(error ? { error } : {}),
        });
      }
    }
    if (!judged) return unknown('no node listed its sandboxes (no runtime running): nothing to judge');
    return evidence.length ? fail(evidence) : pass([{ summary: `${listed} sandbox(es) listed, every one belongs to a live pod` }]);
  },
});
