// The HTML plot reads observation deltas (a churn's compact observations) as well as full ones.
import { describe, expect, it } from 'vitest';
import { observationPoints, timelineSvg } from './html-reporter.ts';
import { makeRunReport } from '../../testing/reports.ts';
import { Timeline } from '../model/timeline.ts';
import { type NodeSnapshot } from '../model/snapshot.ts';

const node = (name: string, n: number, m: number): NodeSnapshot => ({
  node: name,
  running: true,
  reservations: Array.from({ length: n }, (_, i) => ({ network: 'net', ip: `10.0.0.${i + 2}`, containerId: `c${i}`, ifName: 'eth0', file: `/var/lib/cni/networks/net/10.0.0.${i + 2}`, mtimeMs: 1 })),
  attachments: Array.from({ length: m }, (_, i) => ({ pod: `p${i}`, network: 'net', containerId: `c${i}`, ifName: 'eth0', netns: `/run/netns/p${i}`, ips: [`10.0.0.${i + 2}`] })),
  links: [],
  netns: [],
});

describe('html plot of observation deltas', () => {
  const t = new Timeline();
  const counts = [[3, 3], [4, 4], [5, 4], [5, 3], [6, 3]];
  counts.forEach(([r, a], i) => t.observeChanges(`op ${i}`, [node('node-1', r!, a!)]));
  const cell = { ...makeRunReport().cells[1]!, timeline: t.entries, assertions: [] };

  it('replays deltas into counts per observation', () => {
    expect(t.entries.filter((e) => e.kind === 'observation-delta')).toHaveLength(4);
    expect(observationPoints(t.entries).map((o) => [o.after, o.nodes[0]!.reservations, o.nodes[0]!.attachments])).toEqual(counts.map(([r, a], i) => [`op ${i}`, r, a]));
  });

  it('draws one point per observation for each series', () => {
    const svg = timelineSvg(cell);
    const points = (cls: string) => new RegExp(`<polyline class="${cls}" fill="none"[^>]* points="([^"]*)"`).exec(svg)![1]!.split(' ');
    expect(points('reservations')).toHaveLength(5);
    expect(points('attachments')).toHaveLength(5);
    expect(svg).toContain('node-1 after op 4: 6 reservations, 3 live attachments');
  });
});
