// One timeline per cell: steps, operations, observations, warnings and verdicts all append to it;
// reporters and checkers only read it (Jepsen's history).

import type { AssertionResult } from './verdict.ts';
import type { NodeSnapshot, Reservation, Attachment, LinkInfo, CacheEntry, IptablesChain, SandboxInfo } from './snapshot.ts';


/**
 * The changes of one node between two observations (the compact form of an observation after the
 * first): lists keyed by identity (reservations by file, attachments by container id and ifname,
 * links by namespace and name, cache entries by file, iptables chains by table and chain, netns by
 * name) carry the items added or changed and the keys removed; other fields that changed are set.
 */
export interface NodeDelta {
  node: string;
  /** Totals after the change, so plots need no replay. */
  counts: { reservations: number; attachments: number };
  lists?: Partial<Record<DeltaList, { upsert: unknown[]; removed: string[] }>>;
  set?: Partial<NodeSnapshot>;
  /** Optional fields that disappeared. */
  unset?: string[];
}

type DeltaList = 'reservations' | 'attachments' | 'links' | 'cache' | 'iptables' | 'netns' | 'sandboxes';

const LIST_KEYS: Record<DeltaList, (item: any) => string> = {
  reservations: (r: Reservation) => r.file,
  attachments: (a: Attachment) => `${a.containerId}/${a.ifName}`,
  links: (l: LinkInfo) => `${l.ns}/${l.name}`,
  cache: (c: CacheEntry) => c.file,
  iptables: (c: IptablesChain) => `${c.table}/${c.chain}`,
  netns: (n: string) => n,
  sandboxes: (s: SandboxInfo) => s.id,
};

export type TimelineEntry =
  /**
   * A step that ran: `index` is its place among the scenario's top-level steps (0-based), `number`
   * how every message names it (1-based, "3.2.1" inside repeats: see stepNumber), `path` its key
   * path in the scenario file, `firstEntry` the index of the first entry the step itself made (the
   * entries from there to this one happened during the step; this one is added when it ends).
   */
  | { at: number; kind: 'step'; index: number; number?: string; path?: string; firstEntry?: number; step: string; detail: string; result: 'ok' | 'error'; error?: string; durationMs: number }
  | { at: number; kind: 'op'; op: string; node: string; pod?: string; result: 'ok' | 'error'; error?: string; durationMs: number; detail?: Record<string, unknown> }
  | { at: number; kind: 'observation'; after: string; nodes: NodeSnapshot[] }
  /** The changes since the previous observation (entry `base`); see NodeDelta. */
  | { at: number; kind: 'observation-delta'; after: string; base: number; nodes: NodeDelta[] }
  | { at: number; kind: 'warning'; message: string }
  | { at: number; kind: 'verdict'; result: AssertionResult };

/**
 * The one numbering of steps, used by the runner and every reporter: 1-based, and inside repeats the
 * outer step, the iteration and the inner step joined by dots (3.2.1: step 3, iteration 2, inner
 * step 1). Reports written before numbers existed give their top-level index + 1.
 */
export function stepNumber(e: { index: number; number?: string }): string {
  return e.number ?? String(e.index + 1);
}

/** A step number from its parts (see stepNumber): [3, 2, 1] is "3.2.1". */
export function formatStepNumber(parts: readonly number[]): string {
  return parts.join('.');
}

/** An entry without its timestamp (distributes over the union). */
export type TimelineInput = TimelineEntry extends infer E ? (E extends TimelineEntry ? Omit<E, 'at'> : never) : never;

export class Timeline {
  readonly entries: TimelineEntry[] = [];
  readonly warnings: string[] = [];
  private readonly startedAt = Date.now();

  /** Milliseconds since the cell started. */
  now(): number {
    return Date.now() - this.startedAt;
  }

  add(entry: TimelineInput): number {
    this.entries.push({ ...entry, at: this.now() } as TimelineEntry);
    return this.entries.length - 1;
  }

  warn(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message);
    this.add({ kind: 'warning', message });
  }

  private current: NodeSnapshot[] | undefined;
  private currentAt = -1;
  private currentAfter = '';

  /**
   * Records a full observation (at boot and after every step: what readers of a report look for).
   * Returns the entry's index.
   */
  observe(after: string, nodes: NodeSnapshot[]): number {
    this.current = nodes.map((n) => structuredClone(n));
    this.currentAt = this.add({ kind: 'observation', after, nodes: this.current.map((n) => structuredClone(n)) });
    this.currentAfter = after;
    return this.currentAt;
  }

  /**
   * Records an observation as the changes since the previous one (a churn observes after every
   * operation: a timeline must not hold a full copy each time). `fields` limits what the snapshots
   * carry (a cheap mid-churn observation has reservations and attachments only): other fields keep
   * their previous values. The first observation of a timeline is recorded in full. Returns the
   * entry's index.
   */
  observeChanges(after: string, nodes: NodeSnapshot[], fields?: readonly (keyof NodeSnapshot)[]): number {
    if (!this.current) return this.observe(after, nodes);
    const deltas: NodeDelta[] = [];
    const next = [...this.current];
    for (const snap of nodes) {
      const i = next.findIndex((n) => n.node === snap.node);
      const prev = i >= 0 ? next[i] : undefined;
      const merged: NodeSnapshot = prev && fields ? { ...prev } : ({ node: snap.node } as NodeSnapshot);
      for (const k of (fields ?? (Object.keys(snap) as (keyof NodeSnapshot)[]))) {
        if (snap[k] === undefined) delete merged[k];
        else (merged as unknown as Record<string, unknown>)[k] = snap[k];
      }
      const d = diffSnapshot(prev, merged);
      if (d) deltas.push(d);
      if (i >= 0) next[i] = merged;
      else next.push(merged);
    }
    this.current = next;
    this.currentAfter = after;
    this.currentAt = this.add({ kind: 'observation-delta', after, base: this.currentAt, nodes: deltas });
    return this.currentAt;
  }

  /** The latest observed state of every node (full, whatever form the entries took). */
  currentSnapshot(): NodeSnapshot[] | undefined {
    return this.current;
  }

  /** The latest observation as a full entry (built from the deltas). */
  lastObservation(): Extract<TimelineEntry, { kind: 'observation' }> | undefined {
    if (this.current) {
      const at = this.entries[this.currentAt]?.at ?? this.now();
      return { at, kind: 'observation', after: this.currentAfter, nodes: this.current };
    }
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.kind === 'observation') return e;
    }
    return undefined;
  }
}

/** The changes from `prev` to `next` (undefined when nothing changed). */
export function diffSnapshot(prev: NodeSnapshot | undefined, next: NodeSnapshot): NodeDelta | undefined {
  const delta: NodeDelta = { node: next.node, counts: { reservations: next.reservations?.length ?? 0, attachments: next.attachments?.length ?? 0 } };
  let changed = prev === undefined;
  const keys = new Set([...Object.keys(prev ?? {}), ...Object.keys(next)]) as Set<keyof NodeSnapshot>;
  keys.delete('node');
  for (const k of keys) {
    const a = prev?.[k];
    const b = next[k];
    if (k in LIST_KEYS && Array.isArray(b)) {
      const keyOf = LIST_KEYS[k as DeltaList];
      const before = new Map(((Array.isArray(a) ? a : []) as unknown[]).map((x) => [keyOf(x), JSON.stringify(x)]));
      const upsert: unknown[] = [];
      const seen = new Set<string>();
      for (const item of b as unknown[]) {
        const key = keyOf(item);
        seen.add(key);
        if (before.get(key) !== JSON.stringify(item)) upsert.push(item);
      }
      const removed = [...before.keys()].filter((key) => !seen.has(key));
      if (upsert.length || removed.length || a === undefined) {
        (delta.lists ??= {})[k as DeltaList] = { upsert, removed };
        changed = true;
      }
    } else if (b === undefined) {
      if (a !== undefined) {
        (delta.unset ??= []).push(k);
        changed = true;
      }
    } else if (a === undefined || JSON.stringify(a) !== JSON.stringify(b)) {
      (delta.set ??= {} as Partial<NodeSnapshot>)[k] = b as never;
      changed = true;
    }
  }
  return changed ? delta : undefined;
}

/** `prev` with a delta applied (a new object; `prev` is not changed). */
export function applyDelta(prev: NodeSnapshot | undefined, d: NodeDelta): NodeSnapshot {
  const out = { ...(prev ?? { node: d.node, running: false, reservations: [], attachments: [], links: [], netns: [] }) } as NodeSnapshot & Record<string, unknown>;
  for (const k of d.unset ?? []) delete out[k];
  Object.assign(out, d.set ?? {});
  for (const [k, change] of Object.entries(d.lists ?? {}) as [DeltaList, { upsert: unknown[]; removed: string[] }][]) {
    const keyOf = LIST_KEYS[k];
    const removed = new Set(change.removed);
    const items = new Map(((out[k] as unknown[] | undefined) ?? []).filter((x) => !removed.has(keyOf(x))).map((x) => [keyOf(x), x]));
    for (const item of change.upsert) items.set(keyOf(item), item);
    (out as Record<string, unknown>)[k] = [...items.values()];
  }
  return out;
}

/**
 * Every observation of a timeline with each node's full state, full entries and deltas alike, in
 * order: `visit` gets the entry's index, time, label and the state after it (do not keep the array;
 * copy what you need).
 */
export function replayObservations(entries: readonly TimelineEntry[], visit: (index: number, at: number, after: string, nodes: readonly NodeSnapshot[]) => void): void {
  let state: NodeSnapshot[] = [];
  entries.forEach((e, index) => {
    if (e.kind === 'observation') state = [...(e.nodes ?? [])];
    else if (e.kind === 'observation-delta') {
      for (const d of e.nodes ?? []) {
        const i = state.findIndex((n) => n.node === d.node);
        const next = applyDelta(i >= 0 ? state[i] : undefined, d);
        if (i >= 0) state[i] = next;
        else state.push(next);
      }
    } else return;
    visit(index, e.at, e.after, state);
  });
}
