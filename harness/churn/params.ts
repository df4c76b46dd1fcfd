// The churn step's parameters (schema and type), shared by the churn fault, its engine and --shrink.
import * as s from '../schema/dsl.ts';
import { networkNameParams } from '../cluster/network-ref.ts';

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
