// Churn: create and delete pods of a workload at a rate and a concurrency, for a number of
// operations or a duration, in a seeded random order (see churn/schedule.ts), with the cheap
// invariants checked while it runs and network faults fired at fixed points of the schedule.
import * as s from '../schema/dsl.ts';
import { defineFault } from './registry.ts';
import { checkNetwork, networkNameParams } from './remove-network.ts';
import { runChurn } from '../churn/engine.ts';

export const churnEventSchema = s.object(
  {
    afterOps: s.req(s.integer({ min: 0, description: 'Fires once the first N operations have completed, before operation N+1 starts (0: before the first).' })),
    'remove-network': s.opt(networkNameParams),
    'restore-network': s.opt(networkNameParams),
  },
  { description: 'A fault at a fixed point of the schedule: exactly one of remove-network, restore-network.' },
);

export const churnParams = s.object({
  workload: s.req(s.string({ minLength: 1, description: 'The workload whose pods are created and deleted.' })),
  ops: s.opt(s.integer({ min: 1, max: 1_000_000, description: 'Number of operations (give ops, durationMs or slots).' })),
  durationMs: s.opt(s.integer({ min: 1, max: 3_600_000, description: 'Start operations for this long (give ops, durationMs or slots).' })),
  slots: s.opt(s.array(s.integer({ min: 0 }), { minItems: 1, description: 'An explicit schedule: the slot of each operation (a shrunk scenario writes this).' })),
  rate: s.opt(s.number({ min: 0, exclusiveMin: true, description: 'At most this many operations started per second (default: as fast as the concurrency allows).' })),
  concurrency: s.opt(s.integer({ min: 1, max: 256, description: 'Operations under way at once (at most the workload size).' }), 1),
  seed: s.opt(s.integer({ min: 0, max: 2 ** 32 - 1, description: "Seed of the schedule (default: the run's --seed)." })),
  checkEvery: s.opt(s.integer({ min: 0, description: 'Check the cheap invariants after every N completed operations (0: only at the end of the step).' }), 1),
  stopOnViolation: s.opt(s.boolean('Stop starting operations at the first invariant violation.'), false),
  events: s.opt(s.array(churnEventSchema, { description: 'Network faults at fixed points of the schedule.' }), []),
});

export type ChurnParams = s.Infer<typeof churnParams>;

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
