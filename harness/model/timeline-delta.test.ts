import { describe, expect, it } from 'vitest';
import { Timeline, replayObservations } from './timeline.ts';
import { type NodeSnapshot, type Reservation, type Attachment } from './snapshot.ts';
import { createRng } from '../util/rng.ts';

const res = (node: string, ip: string, cid: string, network = 'net'): Reservation => ({ network, ip, containerId: cid, ifName: 'eth0', file: `/var/lib/cni/networks/${network}/${ip}`, mtimeMs: 1 });
const att = (pod: string, cid: string, ip: string, network = 'net'): Attachment => ({ pod, network, containerId: cid, ifName: 'eth0', netns: `/run/netns/${cid}`, ips: [ip] });

function randomSnapshots(seed: number, steps: number): NodeSnapshot[][] {
  const rng = createRng(seed);
  const live = new Map<string, { ip: string; node: string }>();
  const out: NodeSnapshot[][] = [];
  for (let s = 0; s < steps; s++) {
    const cid = rng.hex(12);
    if (live.size && rng.next() < 0.45) live.delete(rng.pick([...live.keys()]));
    else live.set(cid, { ip: `10.0.0.${(s % 250) + 2}`, node: rng.pick(['node-1', 'node-2']) });
    out.push(['node-1', 'node-2'].map((node) => {
      const mine = [...live].filter(([, v]) => v.node === node);
      return {
        node,
        running: true,
        reservations: mine.map(([c, v]) => res(node, v.ip, c)),
        attachments: mine.map(([c, v]) => att(`p-${c}`, c, v.ip)),
        links: rng.next() < 0.5 ? [{ name: 'cni0', kind: 'bridge', up: true, ns: 'node' }] : [],
        netns: mine.map(([c]) => c),
        headroom: { net: { capacity: 253, used: mine.length, free: 253 - mine.length } },
      };
    }));
  }
  return out;
}

describe('timeline observations as deltas', () => {
  it('stores the first observation in full and the later ones as changes that replay exactly', () => {
    const t = new Timeline();
    const snaps = randomSnapshots(3, 120);
    snaps.forEach((s, i) => t.observeChanges(`step ${i}`, s));
    const kinds = t.entries.map((e) => e.kind);
    expect(kinds[0]).toBe('observation');
    expect(kinds.slice(1).every((k) => k === 'observation-delta')).toBe(true);
    const replayed: NodeSnapshot[][] = [];
    replayObservations(t.entries, (_i, _at, _after, nodes) => replayed.push(structuredClone([...nodes])));
    expect(replayed).toEqual(snaps);
    expect(t.currentSnapshot()).toEqual(snaps.at(-1));
  });

  it('keeps changes, not copies: a delta holds what changed and the counts', () => {
    const t = new Timeline();
    const base = Array.from({ length: 100 }, (_, i) => res('node-1', `10.0.1.${i + 1}`, `c${i}`));
    const attachments = base.map((r) => att(`p${r.containerId}`, r.containerId!, r.ip));
    t.observe('boot', [{ node: 'node-1', running: true, reservations: base, attachments, links: [], netns: [] }]);
    t.observeChanges('one more', [{ node: 'node-1', running: true, reservations: [...base, res('node-1', '10.0.2.1', 'new')], attachments, links: [], netns: [] }]);
    const delta = t.entries[1]!;
    expect(delta.kind).toBe('observation-delta');
    if (delta.kind !== 'observation-delta') return;
    expect(delta.base).toBe(0);
    expect(delta.nodes[0]!.counts).toEqual({ reservations: 101, attachments: 100 });
    expect(delta.nodes[0]!.lists).toEqual({ reservations: { upsert: [res('node-1', '10.0.2.1', 'new')], removed: [] } });
    expect(JSON.stringify(delta).length).toBeLessThan(JSON.stringify(t.entries[0]).length / 20);
  });

  it('a partial observation changes only its fields; the rest keeps its values', () => {
    const t = new Timeline();
    const links = [{ name: 'cni0', kind: 'bridge', up: true, ns: 'node' }];
    t.observe('boot', [{ node: 'node-1', running: true, reservations: [], attachments: [], links, netns: ['a'] }]);
    t.observeChanges('op', [{ node: 'node-1', running: true, reservations: [res('node-1', '10.0.0.2', 'x')], attachments: [], links: [], netns: [], inFlight: ['x'] }], ['reservations', 'attachments', 'inFlight']);
    const now = t.currentSnapshot()![0]!;
    expect(now.links).toEqual(links);
    expect(now.netns).toEqual(['a']);
    expect(now.inFlight).toEqual(['x']);
    expect(now.reservations).toHaveLength(1);
    expect(t.lastObservation()!.after).toBe('op');
  });

  it('an unchanged observation records an empty delta', () => {
    const t = new Timeline();
    const s: NodeSnapshot = { node: 'node-1', running: true, reservations: [], attachments: [], links: [], netns: [] };
    t.observe('a', [s]);
    t.observeChanges('b', [structuredClone(s)]);
    const e = t.entries[1]!;
    expect(e.kind === 'observation-delta' && e.nodes).toEqual([]);
  });
});

describe('full observations', () => {
  it('observe() records a full entry every time (after steps), and deltas chain on from it', () => {
    const t = new Timeline();
    const s = (n: number): NodeSnapshot => ({ node: 'node-1', running: true, reservations: Array.from({ length: n }, (_, i) => res('node-1', `10.0.0.${i + 2}`, `c${i}`)), attachments: [], links: [], netns: [] });
    t.observe('boot', [s(1)]);
    t.observeChanges('op 1', [s(2)], ['reservations']);
    t.observe('step 1', [s(3)]);
    t.observeChanges('op 2', [s(2)], ['reservations']);
    expect(t.entries.map((e) => e.kind)).toEqual(['observation', 'observation-delta', 'observation', 'observation-delta']);
    expect(t.entries[3]!.kind === 'observation-delta' && t.entries[3]!.base).toBe(2);
    const counts: number[] = [];
    replayObservations(t.entries, (_i, _at, _after, nodes) => counts.push(nodes[0]!.reservations.length));
    expect(counts).toEqual([1, 2, 3, 2]);
  });
});
