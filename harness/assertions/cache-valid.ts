// Every file of the runtime's result cache (/var/lib/cni/results) is a valid cniCacheV1 entry. An
// empty or corrupt file is what makes libcni 1.1's DEL fail, and what libcni's GC skips (so it stays).
import * as s from '../schema/dsl.ts';
import { defineAssertion, fail, pass } from './registry.ts';
import { nodeParam, selectNodes } from './node-filter.ts';
import type { Evidence } from '../model/verdict.ts';

export const cacheValid = defineAssertion({
  name: 'cache-valid',
  description: 'Every result cache file in /var/lib/cni/results is valid (not empty, not corrupt).',
  params: s.object({ node: nodeParam }),
  evaluate(ctx, snapshot, p) {
    // Files a GC step skipped because it could not parse them.
    const skippedByGc = new Set<string>();
    for (const e of ctx.timeline.entries) {
      if (e.kind !== 'op' || e.op !== 'gc' || !Array.isArray(e.detail?.skipped)) continue;
      for (const x of e.detail.skipped as { file?: string }[]) if (x.file) skippedByGc.add(`${e.node}:${x.file}`);
    }
    const evidence: Evidence[] = [];
    let total = 0;
    for (const n of selectNodes(snapshot, p.node)) {
      for (const c of n.cache ?? []) {
        total++;
        if (c.state === 'valid') continue;
        const gcNote = skippedByGc.has(`${n.node}:${c.file}`) ? '; the runtime\'s GC skipped it' : '';
        evidence.push({ summary: `${n.node}: ${c.file} is ${c.state}${c.error ? ` (${c.error})` : ''}${gcNote}`, node: n.node, file: c.file, state: c.state, ...(c.error ? { error: c.error } : {}) });
      }
    }
    return evidence.length ? fail(evidence) : pass([{ summary: `${total} cache file(s), all valid` }]);
  },
});
