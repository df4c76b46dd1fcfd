// The churn engine against a fake cluster: concurrency, per-slot order, events at a barrier,
// checks, stop at the first violation, and the schedule's independence from results and timing.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { churn } from './engine.ts';
import { Timeline } from '../model/timeline.ts';
import type { CellContext } from '../context/cell-context.ts';
import type { ChurnParams } from './params.ts';
import type { PodOpOptions, PodSpec } from '../agent/types.ts';
import { createRng } from '../util/rng.ts';

interface Log {
  t: number;
  what: 'start' | 'end' | 'event';
  index?: number;
  slot?: number;
  pod?: string;
}

function fakeCtx(opts: { seed?: number; failEvery?: number; violateAfterChecks?: number; delaySeed?: number } = {}) {
  const timeline = new Timeline();
  const log: Log[] = [];
  const desired = new Map<string, string[]>([['node-1', ['gw-n1-0', 'gw-n1-1', 'gw-n1-2']], ['node-2', ['gw-n2-0', 'gw-n2-1', 'gw-n2-2']]]);
  const delays = createRng(opts.delaySeed ?? 1);
  let running = 0;
  let maxRunning = 0;
  let checks = 0;
  let removed = 0;
  const node = (name: string) => ({ name, running: true, spec: { name, podSubnet: '10.0.0.0/24', pluginDir: '/x' }, list: async () => [] as string[] });
  const nodes = [node('node-1'), node('node-2')];
  const agent = (n: (typeof nodes)[number]) => ({
    node: n,
    desired: () => (desired.get(n.name) ?? []).map((name) => ({ name })),
    addDesired: (s: PodSpec) => desired.get(s.node)!.push(s.name),
    startPod: async (s: PodSpec, o: PodOpOptions) => ({ phase: (await op(o.detail!, s.name, !(opts.failEvery && (o.detail!.churn as number) % opts.failEvery === 0))) ? 'running' : 'failed' }),
    deletePod: async (name: string, o: PodOpOptions) => ({ ok: await op(o.detail!, name, true) }),
    inFlight: () => [],
    attachments: () => [],
  });
  const agents = nodes.map(agent);
  const op = async (detail: Record<string, unknown>, pod: string, ok: boolean) => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    log.push({ t: performance.now(), what: 'start', index: detail.churn as number, slot: detail.slot as number, pod });
    await new Promise((r) => setTimeout(r, 1 + delays.int(8)));
    running--;
    log.push({ t: performance.now(), what: 'end', index: detail.churn as number, slot: detail.slot as number, pod });
    timeline.add({ kind: 'op', op: 'x', node: 'node-1', pod, result: ok ? 'ok' : 'error', durationMs: 1, detail });
    return ok;
  };
  const ctx = {
    scenario: { workload: [{ name: 'gw', replicasPerNode: 3 }] },
    cluster: { nodes, node: (n: string) => nodes.find((x) => x.name === n)! },
    timeline,
    seed: opts.seed ?? 1,
    signal: new AbortController().signal,
    progress: () => undefined,
    stack: { profile: { name: 'fake' } },
    networks: {
      multi: true,
      placement: () => ({ podSubnet: '10.0.0.0/24', index: 0 }),
      store: { known: () => [], remove: () => (log.push({ t: performance.now(), what: 'event' }), removed++, true), restore: () => true },
    },
    agent: (n: string) => agents.find((a) => a.node.name === n)!,
    agents,
    async checkInvariants() {
      checks++;
      return !(opts.violateAfterChecks !== undefined && checks > opts.violateAfterChecks);
    },
  } as unknown as CellContext;
  return { ctx, log, stats: () => ({ maxRunning, checks, removed }) };
}

const params = (p: Partial<ChurnParams>): ChurnParams => ({ workload: 'gw', concurrency: 1, checkEvery: 1, stopOnViolation: false, events: [], ...p });

describe('churn engine', () => {
  it('keeps at most `concurrency` operations under way, one per slot, started in schedule order', async () => {
    const { ctx, log, stats } = fakeCtx();
    const s = await churn(ctx, params({ ops: 120, concurrency: 4 }));
    expect(s).toMatchObject({ ops: 120, failed: 0 });
    expect(s.creates + s.deletes).toBe(120);
    expect(stats().maxRunning).toBe(4);
    const starts = log.filter((l) => l.what === 'start').map((l) => l.index);
    expect(starts).toEqual([...starts].sort((a, b) => a! - b!));
    // No two operations on one slot overlap.
    const open = new Map<number, number>();
    for (const l of log) {
      if (l.what === 'start') {
        expect(open.has(l.slot!), `slot ${l.slot} busy at op ${l.index}`).toBe(false);
        open.set(l.slot!, l.index!);
      } else if (l.what === 'end') open.delete(l.slot!);
    }
  });

  it('deletes the boot pod first, then alternates on each slot, naming new pods by operation', async () => {
    const { ctx, log } = fakeCtx();
    await churn(ctx, params({ slots: [0, 0, 0, 5] }));
    expect(log.filter((l) => l.what === 'start').map((l) => l.pod)).toEqual(['gw-n1-0', 'gw-n1-0-c1', 'gw-n1-0-c1', 'gw-n2-2']);
  });

  it('fires an event once the first N operations are done and before operation N+1 starts', async () => {
    const { ctx, log, stats } = fakeCtx();
    const events = [{ afterOps: 10, 'remove-network': { name: 'vpc-subnet' } }];
    await churn(ctx, params({ ops: 30, concurrency: 4, events }));
    expect(stats().removed).toBe(1);
    const entry = ctx.timeline.entries.findIndex((e) => e.kind === 'op' && e.op === 'remove-network');
    const before = ctx.timeline.entries.slice(0, entry).filter((e) => e.kind === 'op').map((e) => (e.detail as { churn: number }).churn);
    expect(before.sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect(ctx.timeline.entries[entry]).toMatchObject({ kind: 'op', op: 'remove-network', node: 'cluster', result: 'ok', detail: { churn: 10, network: 'vpc-subnet' } });
    // In the order things happened: the ends of operations 1..10, the event, the start of operation 11.
    const at = (what: Log['what'], index?: number) => log.findIndex((l) => l.what === what && (index === undefined || l.index === index));
    const event = at('event');
    for (let i = 0; i < 10; i++) expect(at('end', i)).toBeLessThan(event);
    expect(at('start', 10)).toBeGreaterThan(event);
  });

  it('checks after every completed operation (folding checks asked for while one waits), or never', async () => {
    // One at a time, every completion gets its own check: a check finishes before the next
    // operation can (the fake operations wait on a timer, the fake checks do not).
    const serial = fakeCtx();
    expect((await churn(serial.ctx, params({ ops: 40, concurrency: 1 }))).checks).toBe(40);
    const on = fakeCtx();
    const s = await churn(on.ctx, params({ ops: 40, concurrency: 3 }));
    expect(s.checks).toBeGreaterThanOrEqual(1);
    expect(s.checks).toBeLessThanOrEqual(41);
    expect(on.stats().checks).toBe(s.checks);
    expect(on.ctx.timeline.entries.filter((e) => e.kind.startsWith('observation'))).toHaveLength(s.checks);
    const off = fakeCtx();
    expect((await churn(off.ctx, params({ ops: 40, concurrency: 3, checkEvery: 0 }))).checks).toBe(0);
    expect(off.ctx.timeline.entries.filter((e) => e.kind.startsWith('observation'))).toHaveLength(0);
  });

  it('stops starting operations at the first violation when asked', async () => {
    const { ctx } = fakeCtx({ violateAfterChecks: 5 });
    const s = await churn(ctx, params({ ops: 100, concurrency: 2, stopOnViolation: true }));
    expect(s.stoppedAt).toBeGreaterThanOrEqual(6);
    // Nothing starts after the failing check: only what was already under way then.
    expect(s.ops).toBeLessThanOrEqual(s.stoppedAt! + 2);
  });

  describe('on a fake clock', () => {
    afterEach(() => {
      vi.useRealTimers();
    });
    /** Advances the fake clock a millisecond at a time until `p` settles. */
    async function settle<T>(p: Promise<T>): Promise<T> {
      let done = false;
      p.then(
        () => (done = true),
        () => (done = true),
      );
      while (!done) await vi.advanceTimersByTimeAsync(1);
      return p;
    }

    it('starts at most `rate` operations per second', async () => {
      vi.useFakeTimers();
      const { ctx, log } = fakeCtx();
      const s = await settle(churn(ctx, params({ ops: 11, concurrency: 2, rate: 100 })));
      expect(s.ops).toBe(11);
      const starts = log.filter((l) => l.what === 'start').map((l) => l.t - log[0]!.t);
      expect(starts).toHaveLength(11);
      starts.forEach((t, k) => expect(t, `op ${k}`).toBeGreaterThanOrEqual(k * 10));
    });

    it('runs for a duration, taking up no new operation after it', async () => {
      vi.useFakeTimers();
      const { ctx, log } = fakeCtx();
      const t0 = performance.now();
      const s = await settle(churn(ctx, params({ durationMs: 150, concurrency: 2 })));
      expect(s.ops).toBeGreaterThan(3);
      expect(s.durationMs).toBeGreaterThanOrEqual(150);
      const starts = log.filter((l) => l.what === 'start');
      expect(starts).toHaveLength(s.ops);
      // An operation taken up before the end may still wait for a free concurrency slot: at most
      // one fake operation (8 ms at most) longer.
      for (const l of starts) expect(l.t - t0, `op ${l.index}`).toBeLessThan(150 + 8);
      expect(Math.max(...starts.map((l) => l.t - t0))).toBeGreaterThanOrEqual(150 - 8);
    });
  });

  it('one seed, one schedule, whatever the timing and the results', async () => {
    const sched = async (o: Parameters<typeof fakeCtx>[0]) => {
      const { ctx, log } = fakeCtx(o);
      await churn(ctx, params({ ops: 60, concurrency: 3 }));
      return log.filter((l) => l.what === 'start').map((l) => `${l.index}:${l.slot}:${l.pod}`);
    };
    const a = await sched({ seed: 11, delaySeed: 1 });
    expect(await sched({ seed: 11, delaySeed: 2, failEvery: 3 })).toEqual(a);
    expect(await sched({ seed: 12 })).not.toEqual(a);
  });
});
