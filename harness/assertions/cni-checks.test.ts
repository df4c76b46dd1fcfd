// del-succeeds, no-orphan-iptables and cache-valid on hand-made timelines and snapshots: the edge
// cases real runs rarely produce (the real-plugin cases are in faults/cni-faults.slow.test.ts and the
// scenario tests).
import { describe, expect, it } from 'vitest';
import { Timeline } from '../model/timeline.ts';
import { type NodeSnapshot } from '../model/snapshot.ts';
import type { CellContext } from '../context/cell-context.ts';
import { delSucceeds } from './del-succeeds.ts';
import { noOrphanIptables } from './no-orphan-iptables.ts';
import { cacheValid } from './cache-valid.ts';

const ctxWith = (timeline: Timeline) => ({ timeline, agent: () => ({ pods: () => [] }) }) as unknown as CellContext;
const snap = (over: Partial<NodeSnapshot> & { node: string }): NodeSnapshot => ({ running: true, reservations: [], attachments: [], links: [], netns: [], ...over });
const att = (containerId: string) => ({ pod: 'p', network: 'n', containerId, ifName: 'eth0', netns: '/run/netns/x', ips: [] });

describe('del-succeeds', () => {
  it('fails with every failed DEL, filtered by node; passes when all succeeded', async () => {
    const t = new Timeline();
    t.add({ kind: 'op', op: 'del', node: 'node-1', pod: 'a', result: 'ok', durationMs: 1, detail: { containerId: 'c1' } });
    t.add({ kind: 'op', op: 'del', node: 'node-2', pod: 'b', result: 'error', error: 'boom', durationMs: 1, detail: { containerId: 'c2c2c2c2c2c2c2c2' } });
    t.add({ kind: 'op', op: 'add', node: 'node-1', pod: 'c', result: 'error', error: 'add failed', durationMs: 1 });
    const all = await delSucceeds.evaluate(ctxWith(t), [], {});
    expect(all.status).toBe('fail');
    expect(all.evidence).toEqual([{ summary: 'node-2: DEL of pod b (container c2c2c2c2c2c2) failed: boom', node: 'node-2', pod: 'b', containerId: 'c2c2c2c2c2c2c2c2', error: 'boom' }]);
    expect((await delSucceeds.evaluate(ctxWith(t), [], { node: 'node-1' })).status).toBe('pass');
    expect((await delSucceeds.evaluate(ctxWith(t), [], { node: 'node-3' })).status).toBe('unknown');
  });
});

describe('no-orphan-iptables', () => {
  it('ignores chains without an owner and judges only running nodes', async () => {
    const nodes = [
      snap({ node: 'node-1', attachments: [att('live1')], iptables: [
        { table: 'nat', chain: 'CNI-HOSTPORT-DNAT', owners: [], rules: 3 },
        { table: 'nat', chain: 'CNI-aaa', owners: ['live1'], rules: 2 },
        { table: 'filter', chain: 'CNI-bbb', owners: ['dead2dead2dead2'], rules: 1 },
      ] }),
      snap({ node: 'node-2', running: false }),
    ];
    const j = await noOrphanIptables.evaluate(ctxWith(new Timeline()), nodes, {});
    expect(j.status).toBe('fail');
    expect(j.evidence).toEqual([{ summary: 'node-1: filter chain CNI-bbb (1 rule(s)) belongs to dead2dead2de, which is not a live attachment: no pod the runtime knows of', node: 'node-1', table: 'filter', chain: 'CNI-bbb', owner: 'dead2dead2dead2' }]);
    expect((await noOrphanIptables.evaluate(ctxWith(new Timeline()), nodes, { node: 'node-2' })).status).toBe('unknown');
  });
});

describe('cache-valid', () => {
  it('names the file and its state, and says when GC skipped it', async () => {
    const t = new Timeline();
    t.add({ kind: 'op', op: 'gc', node: 'node-1', result: 'ok', durationMs: 1, detail: { skipped: [{ file: '/var/lib/cni/results/n-c1-eth0', state: 'empty' }] } });
    const nodes = [snap({ node: 'node-1', cache: [
      { file: '/var/lib/cni/results/n-c1-eth0', state: 'empty', error: 'unexpected end of JSON input' },
      { file: '/var/lib/cni/results/n-c2-eth0', state: 'corrupt', error: "invalid character 'x' looking for beginning of value" },
      { file: '/var/lib/cni/results/n-c3-eth0', state: 'valid' },
    ] })];
    const j = await cacheValid.evaluate(ctxWith(t), nodes, {});
    expect(j.status).toBe('fail');
    expect(j.evidence.map((e) => e.summary)).toEqual([
      "node-1: /var/lib/cni/results/n-c1-eth0 is empty (unexpected end of JSON input); the runtime's GC skipped it",
      "node-1: /var/lib/cni/results/n-c2-eth0 is corrupt (invalid character 'x' looking for beginning of value)",
    ]);
    expect((await cacheValid.evaluate(ctxWith(t), [snap({ node: 'node-1', cache: [] })], {})).evidence).toEqual([{ summary: '0 cache file(s), all valid' }]);
  });
});
