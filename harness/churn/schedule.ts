// A churn's schedule: which slot of a workload each operation touches. A workload of R replicas per
// node on N nodes has N*R slots (node-major: node-1's replicas first); an operation on an occupied
// slot deletes its pod, on an empty one creates a new pod there. The slot sequence comes from a seed
// (or is given explicitly, as a shrunk scenario does), so the same seed gives the same schedule
// whatever the timing; results never change the plan.
import { createRng } from '../util/rng.ts';

export interface Slot {
  index: number;
  node: string;
  /** 1-based node number, as pod names use it (gw-n1-0). */
  nodeNumber: number;
  replica: number;
  /** The pod the workload put there at boot. */
  bootPod: string;
}

export interface PlannedOp {
  /** 0-based position in the schedule. */
  index: number;
  slot: number;
  kind: 'create' | 'delete';
}

/** The slots of a workload on a cluster of `nodeNames`, node-major. */
export function workloadSlots(workload: { name: string; replicasPerNode?: number; nodes?: string[] }, nodeNames: readonly string[]): Slot[] {
  const out: Slot[] = [];
  nodeNames.forEach((node, i) => {
    if (workload.nodes && !workload.nodes.includes(node)) return;
    for (let r = 0; r < (workload.replicasPerNode ?? 1); r++) {
      out.push({ index: out.length, node, nodeNumber: i + 1, replica: r, bootPod: `${workload.name}-n${i + 1}-${r}` });
    }
  });
  return out;
}

/**
 * Seeded slot picks, lazily: each pick is uniform over the slots not touched by the previous
 * concurrency-1 picks, so `concurrency` operations can really run at once (a slot takes one
 * operation at a time). Needs concurrency <= slotCount.
 */
export function* seededPicks(seed: number, slotCount: number, concurrency: number): Generator<number> {
  if (slotCount < 1) throw new Error('a churn needs a workload with at least one pod');
  const window = Math.max(0, Math.min(concurrency, slotCount) - 1);
  const rng = createRng(seed).fork('churn');
  const recent: number[] = [];
  for (;;) {
    const free: number[] = [];
    for (let s = 0; s < slotCount; s++) if (!recent.includes(s)) free.push(s);
    const pick = rng.pick(free);
    recent.push(pick);
    if (recent.length > window) recent.shift();
    yield pick;
  }
}

/** The first `count` seeded picks. */
export function seededSlots(seed: number, count: number, slotCount: number, concurrency: number): number[] {
  const out: number[] = [];
  if (count <= 0) return out;
  for (const pick of seededPicks(seed, slotCount, concurrency)) {
    out.push(pick);
    if (out.length >= count) break;
  }
  return out;
}

/** Operations for a slot sequence, from which slots hold a pod at the start. */
export function planOps(picks: readonly number[], occupied: readonly boolean[]): PlannedOp[] {
  const state = [...occupied];
  return picks.map((slot, index) => {
    const kind = state[slot] ? 'delete' : 'create';
    state[slot] = !state[slot];
    return { index, slot, kind };
  });
}
