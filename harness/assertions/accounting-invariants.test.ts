import { describe, expect, it } from 'vitest';
import type { CellContext } from '../context/cell-context.ts';
import type { Attachment, NodeSnapshot, Reservation } from '../model/snapshot.ts';
import { reservationAccounting } from './reservation-accounting.ts';
import { reservationsWithinCapacity } from './reservations-within-capacity.ts';
import { noDuplicateAddresses } from './no-duplicate-addresses.ts';

const r = (network: string, ip: string, cid: string, ifName = 'eth0'): Reservation => ({ network, ip, containerId: cid, ifName, file: `/var/lib/cni/networks/${network}/${ip}`, mtimeMs: 1 });
const a = (pod: string, network: string, cid: string, ifName: string, ip: string): Attachment => ({ pod, network, containerId: cid, ifName, netns: `/run/netns/${pod}`, ips: [ip] });
const snap = (node: string, reservations: Reservation[], attachments: Attachment[], extra: Partial<NodeSnapshot> = {}): NodeSnapshot => ({
  node, running: true, reservations, attachments, links: [], netns: [], headroom: { vpc: { capacity: 61, used: 0, free: 61 }, external: { capacity: 2, used: 0, free: 2 } }, ...extra,
});
const ctx = {
  agent: () => ({ pods: () => [{ spec: { name: 'gw-n1-0' }, containerId: 'dead', phase: 'terminating', error: 'teardown stopped: definition of network "vpc" not found' }] }),
} as unknown as CellContext;

describe('reservation-accounting', () => {
  const gw = [a('gw-n1-1', 'vpc', 'live', 'eth0', '10.0.0.3'), a('gw-n1-1', 'external', 'live', 'net1', '172.31.250.2')];
  const held = [r('vpc', '10.0.0.3', 'live'), r('external', '172.31.250.2', 'live', 'net1')];

  it('passes when reservations and live attachments match, with counts', () => {
    const j = reservationAccounting.evaluate(ctx, [snap('node-1', held, gw)], {}) as { status: string; evidence: { summary: string }[] };
    expect(j.status).toBe('pass');
    expect(j.evidence.map((e) => e.summary)).toEqual(['node-1/vpc: 1 reservation(s), 1 live attachment(s)', 'node-1/external: 1 reservation(s), 1 live attachment(s)']);
  });

  it("fails on a deleted pod's reservations, naming the pod and its error", () => {
    const j = reservationAccounting.evaluate(ctx, [snap('node-1', [...held, r('external', '172.31.250.3', 'dead', 'net1')], gw)], {}) as { status: string; evidence: { summary: string }[] };
    expect(j.status).toBe('fail');
    expect(j.evidence[0]!.summary).toBe('node-1/external: 172.31.250.3 reserved by dead/net1, which is not a live attachment: pod gw-n1-0 (terminating: teardown stopped: definition of network "vpc" not found)');
  });

  it('fails on a live address host-local has not reserved', () => {
    const j = reservationAccounting.evaluate(ctx, [snap('node-1', [held[0]!], gw)], {}) as { status: string; evidence: { summary: string }[] };
    expect(j.status).toBe('fail');
    expect(j.evidence[0]!.summary).toContain('pod gw-n1-1 (net1) has 172.31.250.2, which host-local has not reserved for it');
  });

  it('does not judge containers with an operation under way, nor an empty file meanwhile', () => {
    const busy = [...held, r('external', '172.31.250.4', 'adding', 'net1'), { ...r('external', '172.31.250.5', 'x'), containerId: undefined, ifName: undefined, unreadable: 'empty file' }];
    const partial = [...gw, a('gw-n1-2', 'vpc', 'adding', 'eth0', '10.0.0.9')];
    expect(reservationAccounting.evaluate(ctx, [snap('node-1', busy, partial, { inFlight: ['adding'] })], {})).toMatchObject({ status: 'pass' });
    // Once nothing is under way, both are judged.
    expect(reservationAccounting.evaluate(ctx, [snap('node-1', busy, partial)], {})).toMatchObject({ status: 'fail' });
  });

  it('filters by network', () => {
    const leaked = [...held, r('vpc', '10.0.0.7', 'dead')];
    expect(reservationAccounting.evaluate(ctx, [snap('node-1', leaked, gw)], { network: 'external' })).toMatchObject({ status: 'pass' });
    expect(reservationAccounting.evaluate(ctx, [snap('node-1', leaked, gw)], { network: 'vpc' })).toMatchObject({ status: 'fail' });
  });

  it('validates node and network names', () => {
    expect(reservationAccounting.validate!({ network: 'storage' }, { nodeNames: ['node-1'], workloadNames: [], networkNames: ['vpc', 'external'] })).toBe("unknown network 'storage'; the stack profile defines vpc, external");
  });
});

describe('reservations-within-capacity', () => {
  it('fails when a node holds more reservations of a network than its range', () => {
    const three = [r('external', '172.31.250.2', 'a'), r('external', '172.31.250.3', 'b'), r('external', '172.31.250.4', 'c')];
    const j = reservationsWithinCapacity.evaluate(ctx, [snap('node-1', three, [])], { network: 'external' }) as { status: string; evidence: { summary: string }[] };
    expect(j.status).toBe('fail');
    expect(j.evidence[0]!.summary).toBe('node-1/external: 3 reservation(s), capacity 2: 1 more than the range holds');
    expect(reservationsWithinCapacity.evaluate(ctx, [snap('node-1', three.slice(1), [])], {})).toMatchObject({ status: 'pass' });
  });

  it('is unknown without any capacity', () => {
    expect(reservationsWithinCapacity.evaluate(ctx, [snap('node-1', [], [], { headroom: {} })], {})).toMatchObject({ status: 'unknown' });
  });
});

describe('no-duplicate-addresses', () => {
  it('fails when two live attachments on two nodes hold one address of a network', () => {
    const j = noDuplicateAddresses.evaluate(ctx, [snap('node-1', [], [a('gw-n1-0', 'external', 'c1', 'net1', '172.31.250.2')]), snap('node-2', [], [a('gw-n2-0', 'external', 'c2', 'net1', '172.31.250.2')])], {}) as { status: string; evidence: { summary: string }[] };
    expect(j.status).toBe('fail');
    expect(j.evidence[0]!.summary).toBe('external: 172.31.250.2 is held by 2 live attachments: node-1/gw-n1-0/net1, node-2/gw-n2-0/net1');
  });

  it('passes when one address is used on two different networks', () => {
    expect(noDuplicateAddresses.evaluate(ctx, [snap('node-1', [], [a('p', 'vpc', 'c1', 'eth0', '10.0.0.2'), a('q', 'external', 'c2', 'net1', '10.0.0.2')])], {})).toMatchObject({ status: 'pass' });
  });
});
