// Churn: create and delete pods of a workload at a rate and a concurrency, for a number of
// operations or a duration, in a seeded random order (see churn/schedule.ts), with the cheap
// invariants checked while it runs and network faults fired at fixed points of the schedule.
import { defineFault } from './registry.ts';
import { checkNetwork } from '../cluster/network-ref.ts';
import { runChurn } from '../churn/engine.ts';
import { churnParams } from '../churn/params.ts';

export const churn = defineFault({
  name: 'churn',
  description: 'Create and delete pods of a workload at a rate and concurrency, seeded, with invariants checked as it runs.',
  params: churnParams,
  validate(p, sc) {
    const given = (['ops', 'durationMs', 'slots'] as const).filter((k) => p[k] !== undefined);
    if (given.length !== 1) return `give exactly one of 'ops', 'durationMs' or 'slots'${given.length ? `, found ${given.join(' and ')}` : ''}`;
    if (!sc.workloadNames.includes(p.workload)) return { path: ['workload'], message: `unknown workload '${p.workload}'; the scenario has ${sc.workloadNames.length ? sc.workloadNames.join(', ') : 'no workload'}` };
    const size = sc.workloadSizes?.[p.workload];
    if (size !== undefined) {
      if (size < 1) return { path: ['workload'], message: `workload '${p.workload}' has no pod to churn (replicasPerNode 0 or no node)` };
      if (p.concurrency! > size) return { path: ['concurrency'], message: `expected a concurrency of at most ${size}, the size of workload '${p.workload}' (one operation per pod slot at a time), found ${p.concurrency}` };
      const bad = (p.slots ?? []).findIndex((x) => x >= size);
      if (bad >= 0) return { path: ['slots', bad], message: `expected a slot below ${size} (workload '${p.workload}' has ${size} pod slots), found ${p.slots![bad]}` };
    }
    for (const [i, e] of (p.events ?? []).entries()) {
      const kinds = (['remove-network', 'restore-network'] as const).filter((k) => e[k] !== undefined);
      if (kinds.length !== 1) return { path: ['events', i], message: `an event needs exactly one of remove-network, restore-network${kinds.length ? `, found ${kinds.join(' and ')}` : ''}` };
      const k = kinds[0]!;
      const err = checkNetwork(e[k]!.name, sc.networkNames);
      if (err) return { path: ['events', i, k, 'name'], message: err };
      const total = p.ops ?? p.slots?.length;
      if (total !== undefined && e.afterOps > total) return { path: ['events', i, 'afterOps'], message: `expected at most ${total} (the churn has ${total} operations, so this event would never fire), found ${e.afterOps}` };
    }
    return undefined;
  },
  run: (ctx, p) => runChurn(ctx, p),
});
