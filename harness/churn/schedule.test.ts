import { describe, expect, it } from 'vitest';
import { planOps, seededPicks, seededSlots, workloadSlots } from './schedule.ts';

describe('churn schedule', () => {
  it('the same seed gives the same slots; another seed another order', () => {
    const a = seededSlots(42, 200, 6, 4);
    expect(seededSlots(42, 200, 6, 4)).toEqual(a);
    expect(seededSlots(43, 200, 6, 4)).not.toEqual(a);
    expect(new Set(a).size).toBe(6); // every slot is used
  });

  it('a shorter schedule of the same seed is a prefix of the longer one', () => {
    expect(seededSlots(7, 50, 8, 3)).toEqual(seededSlots(7, 200, 8, 3).slice(0, 50));
    const gen = seededPicks(7, 8, 3);
    expect(Array.from({ length: 10 }, () => gen.next().value)).toEqual(seededSlots(7, 10, 8, 3));
  });

  it('never picks a slot touched by the previous concurrency-1 operations', () => {
    const c = 4;
    const picks = seededSlots(1, 500, 6, c);
    for (let i = 1; i < picks.length; i++) {
      expect(picks.slice(Math.max(0, i - (c - 1)), i)).not.toContain(picks[i]);
    }
  });

  it('operations toggle each slot from its state at the start', () => {
    expect(planOps([0, 1, 0, 0, 2], [true, false, true])).toEqual([
      { index: 0, slot: 0, kind: 'delete' },
      { index: 1, slot: 1, kind: 'create' },
      { index: 2, slot: 0, kind: 'create' },
      { index: 3, slot: 0, kind: 'delete' },
      { index: 4, slot: 2, kind: 'delete' },
    ]);
  });

  it('slots are node-major and name the boot pods', () => {
    const slots = workloadSlots({ name: 'gw', replicasPerNode: 2, nodes: ['node-1', 'node-3'] }, ['node-1', 'node-2', 'node-3']);
    expect(slots.map((s) => `${s.index}:${s.node}:${s.bootPod}`)).toEqual(['0:node-1:gw-n1-0', '1:node-1:gw-n1-1', '2:node-3:gw-n3-0', '3:node-3:gw-n3-1']);
  });

  it('refuses a workload without slots', () => {
    expect(() => seededSlots(1, 3, 0, 1)).toThrow(/at least one pod/);
  });
});
