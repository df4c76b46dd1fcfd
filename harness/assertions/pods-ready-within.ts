// The cell's pods are Ready within a time after each step that waited for them (a boot, pods created
// or restarted): the step's `pods-ready` measurement on the timeline, with the pods that were not
// Ready and why (their waiting reason, e.g. FailedCreatePodSandBox of a nested Multus config). On the
// kind backend only.
import * as s from '../schema/dsl.ts';
import { defineAssertion, fail, pass, unknown } from './registry.ts';
import type { Evidence } from '../model/verdict.ts';

export const podsReadyWithin = defineAssertion({
  name: 'pods-ready-within',
  description: "The cell's pods were Ready within `ms` at every pods-ready measurement (after boots, created or restarted pods) (kind backend).",
  runsOn: 'kube',
  params: s.object({ ms: s.req(s.integer({ min: 1, max: 3_600_000, description: 'Most milliseconds from the measurement start to every pod Ready.' })) }),
  evaluate(ctx, _snapshot, p) {
    const waits = ctx.timeline.entries.filter((e) => e.kind === 'op' && e.op === 'pods-ready');
    if (!waits.length) return unknown('no step waited for the pods to be Ready');
    const bad: Evidence[] = [];
    for (const w of waits) {
      if (w.kind !== 'op') continue;
      const d = (w.detail ?? {}) as { ready?: number; total?: number; notReady?: string[]; after?: string };
      const late = w.durationMs > p.ms;
      if (w.result !== 'ok' || late || (d.notReady ?? []).length) {
        bad.push({ summary: `after ${d.after ?? '?'}: ${d.ready ?? '?'} of ${d.total ?? '?'} pod(s) Ready ${w.result === 'ok' && !late ? '' : `within ${p.ms} ms (waited ${Math.round(w.durationMs)} ms)`}${(d.notReady ?? []).length ? `; not Ready: ${d.notReady!.slice(0, 5).join('; ')}` : ''}`.trim(), after: d.after, durationMs: Math.round(w.durationMs) });
      }
    }
    return bad.length ? fail(bad) : pass([{ summary: `${waits.length} measurement(s), every pod Ready within ${p.ms} ms` }]);
  },
});
