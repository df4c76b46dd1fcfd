// Runs a churn step. Operations start in schedule order (an operation waits for a free concurrency
// slot, for the previous operation on its pod slot, and for the rate), each records an `op` entry
// (detail: churn index, slot, kind, start), and after every `checkEvery` completed operations a cheap
// observation (observe/accounting.ts) is recorded as a delta and the cheap invariants judge it.
// Events fire at a barrier: once operations 1..N have completed, before N+1 starts.
import type { CellContext } from '../context/cell-context.ts';
import type { PodSpec } from '../agent/types.ts';
import type { TimelineEntry } from '../model/timeline.ts';
import { FaultlineError, errorMessage } from '../errors.ts';
import { observeAccounting, ACCOUNTING_FIELDS } from '../observe/accounting.ts';
import { seededPicks, workloadSlots, type Slot } from './schedule.ts';
import { changeNetwork } from '../cluster/network-ref.ts';
import type { ChurnParams } from './params.ts';

export interface ChurnSummary {
  seed: number;
  ops: number;
  creates: number;
  deletes: number;
  failed: number;
  checks: number;
  /** Time spent in checks (observation, delta, judges), summed. */
  checkMs: number;
  durationMs: number;
  opsPerSecond: number;
  stoppedAt?: number;
}

/** The seed a churn uses: its own, else the run's. */
export function churnSeed(ctx: Pick<CellContext, 'seed'>, p: Pick<ChurnParams, 'seed'>): number {
  return p.seed ?? ctx.seed;
}

export async function runChurn(ctx: CellContext, p: ChurnParams): Promise<string> {
  const s = await churn(ctx, p);
  const parts = [
    `${s.ops} op(s) (${s.creates} create, ${s.deletes} delete; ${s.failed} failed) in ${(s.durationMs / 1000).toFixed(1)} s, ${s.opsPerSecond.toFixed(1)} ops/s`,
    `concurrency ${p.concurrency}${p.rate ? `, rate ${p.rate}/s` : ''}, seed ${s.seed}${p.slots ? ' (explicit slots)' : ''}`,
    p.checkEvery ? `invariants after every ${p.checkEvery === 1 ? '' : `${p.checkEvery} `}op (${s.checks} checks, ${(s.checkMs / Math.max(1, s.checks)).toFixed(1)} ms each)` : 'invariants off during the churn',
  ];
  for (const e of p.events ?? []) parts.push(`${e['remove-network'] ? `remove-network ${e['remove-network'].name}` : `restore-network ${e['restore-network']!.name}`} after op ${e.afterOps}`);
  if (s.stoppedAt !== undefined) parts.push(`stopped at the first violation, after op ${s.stoppedAt}`);
  return parts.join('; ');
}

export async function churn(ctx: CellContext, p: ChurnParams): Promise<ChurnSummary> {
  const wl = ctx.scenario.workload.find((w) => w.name === p.workload);
  if (!wl) throw new FaultlineError('invalid-input', `churn: no workload named ${p.workload}`);
  const slots = workloadSlots(wl, ctx.cluster.nodes.map((n) => n.name));
  const concurrency = p.concurrency ?? 1;
  if (concurrency > slots.length) throw new FaultlineError('invalid-input', `churn: concurrency ${concurrency} exceeds the size of workload ${wl.name} (${slots.length})`);
  const seed = churnSeed(ctx, p);
  const picks = p.slots ? p.slots[Symbol.iterator]() : seededPicks(seed, slots.length, concurrency);
  const limit = p.slots ? p.slots.length : (p.ops ?? Infinity);
  const events = [...(p.events ?? [])].sort((a, b) => a.afterOps - b.afterOps);
  const checkEvery = p.checkEvery ?? 1;

  // Which pod holds each slot now: the boot pod if it is still desired.
  const occupant: (string | undefined)[] = slots.map((sl) => (ctx.agent(sl.node).desired().some((d) => d.name === sl.bootPod) ? sl.bootPod : undefined));
  const slotBusy = new Map<number, Promise<void>>();
  const running = new Set<Promise<void>>();
  const summary: ChurnSummary = { seed, ops: 0, creates: 0, deletes: 0, failed: 0, checks: 0, checkMs: 0, durationMs: 0, opsPerSecond: 0 };
  const t0 = Date.now();
  let stop = false;
  let completed = 0;
  let lastLabel = 'churn start';
  let lastEntry: number | undefined;

  // Checks run one at a time; a check asked for while one is queued is folded into it.
  let checking: Promise<void> = Promise.resolve();
  let queued = false;
  const check = (): Promise<void> => {
    if (queued) return checking;
    queued = true;
    checking = checking.then(async () => {
      queued = false;
      const after = lastLabel;
      const afterEntry = lastEntry;
      const c0 = performance.now();
      const nodes = await Promise.all(ctx.agents.map((a) => observeAccounting(a, ctx.networks)));
      ctx.timeline.observeChanges(after, nodes, ACCOUNTING_FIELDS);
      summary.checks++;
      const ok = await ctx.checkInvariants(after, { snapshot: nodes, cheapOnly: true, ...(afterEntry === undefined ? {} : { afterEntry }) });
      summary.checkMs += performance.now() - c0;
      if (!ok && p.stopOnViolation) {
        stop = true;
        summary.stoppedAt ??= completed;
      }
    });
    return checking;
  };

  const fire = async (e: (typeof events)[number]) => {
    await Promise.all(running);
    await checking;
    const started = Date.now();
    const kind = e['remove-network'] ? 'remove-network' : 'restore-network';
    const params = e[kind]!;
    try {
      const detail = changeNetwork(ctx.networks, kind, params.name, ctx.stack.profile.name);
      ctx.timeline.add({ kind: 'op', op: kind, node: 'cluster', result: 'ok', durationMs: Date.now() - started, detail: { churn: e.afterOps, network: params.name, message: detail } });
      ctx.progress(`churn: ${detail} (after op ${e.afterOps})`);
    } catch (err) {
      ctx.timeline.add({ kind: 'op', op: kind, node: 'cluster', result: 'error', error: errorMessage(err), durationMs: Date.now() - started, detail: { churn: e.afterOps, network: params.name } });
      throw err;
    }
  };

  const launch = (index: number, slot: Slot) => {
    const node = ctx.cluster.node(slot.node);
    const holder = occupant[slot.index];
    const kind = holder ? 'delete' : 'create';
    const detail = { churn: index, slot: slot.index, kind, startedAt: ctx.timeline.now() };
    let op: Promise<boolean>;
    if (holder) {
      occupant[slot.index] = undefined;
      summary.deletes++;
      op = ctx.agent(node.name).deletePod(holder, { detail }).then((r) => r.ok);
    } else {
      const name = `${wl.name}-n${slot.nodeNumber}-${slot.replica}-c${index}`;
      const spec: PodSpec = { name, node: slot.node, workload: wl.name, networks: wl.networks ?? [], role: wl.role ?? 'pod' };
      occupant[slot.index] = name;
      summary.creates++;
      ctx.agent(node.name).addDesired(spec);
      op = ctx.agent(node.name).startPod(spec, { detail }).then((st) => st.phase === 'running');
    }
    const done = op.then(
      async (ok) => {
        if (!ok) summary.failed++;
        completed++;
        lastEntry = findOpEntry(ctx.timeline.entries, index);
        lastLabel = `churn op ${index + 1}: ${kind} ${holder ?? `${wl.name}-n${slot.nodeNumber}-${slot.replica}-c${index}`} on ${slot.node}${ok ? '' : ' (failed)'}`;
        // The check runs behind the operations: it does not hold this operation's concurrency slot.
        if (checkEvery > 0 && completed % checkEvery === 0) void check().catch(() => undefined);
      },
      (err) => {
        stop = true;
        throw err;
      },
    );
    const tracked = done.finally(() => {
      running.delete(tracked);
      if (slotBusy.get(slot.index) === tracked) slotBusy.delete(slot.index);
    });
    running.add(tracked);
    slotBusy.set(slot.index, tracked);
    // Failures surface through Promise.all below; keep the rejection handled meanwhile.
    tracked.catch(() => undefined);
  };

  const failures: unknown[] = [];
  try {
    let index = 0;
    let nextEvent = 0;
    for (;;) {
      ctx.signal.throwIfAborted();
      while (nextEvent < events.length && events[nextEvent]!.afterOps <= index) await fire(events[nextEvent++]!);
      if (stop || index >= limit) break;
      if (p.durationMs !== undefined && Date.now() - t0 >= p.durationMs) break;
      const next = picks.next();
      if (next.done) break;
      const slot = slots[next.value];
      if (!slot) throw new FaultlineError('invalid-input', `churn: slot ${next.value} does not exist (workload ${wl.name} has ${slots.length})`);
      // The previous operation on this slot, then a free concurrency slot, then the rate.
      const prev = slotBusy.get(slot.index);
      if (prev) await prev.catch(() => undefined);
      while (running.size >= concurrency) await Promise.race(running).catch(() => undefined);
      if (p.rate) {
        const due = t0 + (index * 1000) / p.rate;
        if (due > Date.now()) await sleep(due - Date.now(), ctx.signal);
      }
      if (stop) break;
      launch(index, slot);
      index++;
    }
    summary.ops = index;
  } catch (e) {
    failures.push(e);
  }
  const settled = await Promise.allSettled([...running]);
  for (const r of settled) if (r.status === 'rejected') failures.push(r.reason);
  await checking;
  if (failures.length) throw failures[0];
  // The state after the last operation, when the last completion did not fall on a check.
  if (checkEvery > 0 && completed % checkEvery !== 0) await check();
  summary.durationMs = Date.now() - t0;
  summary.opsPerSecond = summary.ops / Math.max(0.001, summary.durationMs / 1000);
  ctx.progress(`churn: ${summary.ops} ops, ${summary.failed} failed, ${summary.opsPerSecond.toFixed(1)} ops/s`);
  return summary;
}

/** The op entry of churn operation `index` (searched from the end: it was just added). */
function findOpEntry(entries: readonly TimelineEntry[], index: number): number | undefined {
  for (let i = entries.length - 1, n = 0; i >= 0 && n < 4096; i--, n++) {
    const e = entries[i]!;
    if (e.kind === 'op' && (e.detail as { churn?: unknown } | undefined)?.churn === index && e.node !== 'cluster') return i;
  }
  return undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason); }, { once: true });
  });
}

