// no-orphan-devices on hand-made snapshots: every plugin link kind, in the node and in pods, including
// kinds this machine's kernel cannot make (ipvlan, vlan, dummy); the real ones (veth, ifb, bridge) are
// judged end to end in scenarios/bandwidth-ifb-left-by-failed-del and the links observation test.
import { describe, expect, it } from 'vitest';
import { Timeline } from '../model/timeline.ts';
import type { NodeSnapshot, LinkInfo } from '../model/snapshot.ts';
import type { CellContext } from '../context/cell-context.ts';
import type { PodState } from '../agent/types.ts';
import { noOrphanDevices, stackDeviceNames } from './no-orphan-devices.ts';
import { bandwidthIfbName } from './owners.ts';

const RUNNING = 'a'.repeat(64);
const DELETED = 'b'.repeat(64);
const STUCK = 'c'.repeat(64);

const pod = (name: string, containerId: string, phase: PodState['phase'], netnsName: string, ifNames: string[] = ['eth0'], error?: string): PodState => ({
  spec: { name, node: 'node-1', workload: 'web', networks: [], role: 'pod' },
  containerId,
  netnsName,
  netns: `/run/netns/${netnsName}`,
  phase,
  attachments: ifNames.map((ifName) => ({ pod: name, network: 'mine', containerId, ifName, netns: `/run/netns/${netnsName}`, ips: [] })),
  ...(error ? { error } : {}),
});

function context(pods: PodState[], timeline = new Timeline()): CellContext {
  const networks = [
    { file: '10-mine.conflist', conflist: { name: 'mine', cniVersion: '1.0.0', plugins: [{ type: 'bridge', bridge: 'br-mine' }, { type: 'bandwidth' }] } },
    { file: '20-ext.conflist', secondary: true, segment: 'ext0', conflist: { name: 'ext', cniVersion: '1.0.0', plugins: [{ type: 'macvlan', master: 'ext0' }] } },
  ];
  return { timeline, stack: { profile: { networks } }, agent: () => ({ pods: () => pods }) } as unknown as CellContext;
}
const node = (links: LinkInfo[]): NodeSnapshot[] => [{ node: 'node-1', running: true, reservations: [], attachments: [], links, netns: [] }];
const link = (name: string, kind: string, over: Partial<LinkInfo> = {}): LinkInfo => ({ name, kind, up: true, ns: 'node', ...over });

describe('no-orphan-devices', () => {
  it('knows the devices the stack names: its bridges (cni0 by default), masters and segments', () => {
    expect([...stackDeviceNames(context([]))].sort()).toEqual(['br-mine', 'ext0']);
    const dflt = { stack: { profile: { networks: [{ file: 'x', conflist: { name: 'x', cniVersion: '1.0.0', plugins: [{ type: 'bridge' }] } }] } } } as unknown as CellContext;
    expect([...stackDeviceNames(dflt)]).toEqual(['cni0']);
  });

  it('passes on what running pods own and what the stack names, and ignores kernel devices', async () => {
    const ctx = context([pod('web-n1-0', RUNNING, 'running', 'cni-run', ['eth0', 'net1'])]);
    const j = await noOrphanDevices.evaluate(ctx, node([
      link('br-mine', 'bridge'),
      link('ext0', 'veth', { peer: 'netnsid:0' }),
      link('veth1', 'veth', { peer: 'cni-run', master: 'br-mine' }),
      link(bandwidthIfbName('mine', RUNNING), 'ifb'),
      link('tunl0', 'ipip'),
      link('eth0', 'veth', { ns: 'cni-run' }),
      link('net1', 'macvlan', { ns: 'cni-run' }),
    ]), {});
    expect(j.status).toBe('pass');
    expect(j.evidence[0]!.summary).toBe('1 bridge, 1 veth, 1 ifb, 1 veth in pods, 1 macvlan in pods: all owned by running pods or named by the stack');
  });

  it.each(['macvlan', 'macvtap', 'ipvlan', 'ipvtap', 'vlan', 'vxlan', 'dummy'])('names a %s left in the node by its kind and device', async (kind) => {
    const j = await noOrphanDevices.evaluate(context([]), node([link('left0', kind, { parent: 'ext0' })]), {});
    expect(j.status).toBe('fail');
    expect(j.evidence).toEqual([{
      summary: `node-1: ${kind} left0 (on ext0) is in the node's namespace: a plugin makes it there and moves it into a pod, so one left here belongs to no pod`,
      node: 'node-1', link: 'left0', kind,
    }]);
  });

  it('names a bridge no network of the stack names', async () => {
    const j = await noOrphanDevices.evaluate(context([]), node([link('br-mine', 'bridge'), link('cni0', 'bridge')]), {});
    expect(j.evidence.map((e) => e.summary)).toEqual(['node-1: bridge cni0, which no network of the stack names (br-mine, ext0)']);
  });

  it("names an ifb with the pod it was made for, from the agent's state or the timeline, and its error", async () => {
    const t = new Timeline();
    t.add({ kind: 'op', op: 'add', node: 'node-1', pod: 'gone-n1-0', result: 'ok', durationMs: 1, detail: { containerId: DELETED, ips: [] } });
    const ctx = context([pod('stuck-n1-0', STUCK, 'terminating', 'cni-stuck', ['eth0'], 'failed to destroy network for sandbox "c": boom')], t);
    const j = await noOrphanDevices.evaluate(ctx, node([link(bandwidthIfbName('mine', DELETED), 'ifb'), link(bandwidthIfbName('mine', STUCK), 'ifb'), link('bwp000000000000', 'ifb')]), {});
    expect(j.evidence).toEqual([
      expect.objectContaining({ link: bandwidthIfbName('mine', DELETED), kind: 'ifb', owner: 'gone-n1-0', containerId: DELETED, summary: `node-1: ifb ${bandwidthIfbName('mine', DELETED)} is the bandwidth plugin's egress device of pod gone-n1-0 (container bbbbbbbbbbbb, network mine), which no longer has a sandbox` }),
      expect.objectContaining({ link: bandwidthIfbName('mine', STUCK), owner: 'stuck-n1-0', error: 'failed to destroy network for sandbox "c": boom', summary: expect.stringMatching(/of pod stuck-n1-0 \(container cccccccccccc, network mine\), which is terminating: failed to destroy network/) }),
      expect.objectContaining({ link: 'bwp000000000000', summary: 'node-1: ifb bwp000000000000 belongs to no container of this run' }),
    ]);
  });

  it("looks into pods: a device no attachment of a running pod is, and anything but the veth in a pod that is not running", async () => {
    const ctx = context([pod('web-n1-0', RUNNING, 'running', 'cni-run'), pod('stuck-n1-0', STUCK, 'terminating', 'cni-stuck')]);
    const j = await noOrphanDevices.evaluate(ctx, node([
      link('eth0', 'veth', { ns: 'cni-run' }),
      link('net7', 'ipvlan', { ns: 'cni-run' }),
      link('eth0', 'veth', { ns: 'cni-stuck' }),
      link('net1', 'vlan', { ns: 'cni-stuck' }),
      link('net2', 'dummy', { ns: 'cni-lost' }),
    ]), {});
    expect(j.evidence.map((e) => [e.summary, e.netns, e.owner])).toEqual([
      ["node-1: ipvlan net7 in pod web-n1-0's namespace cni-run is none of its attachments (eth0)", 'cni-run', 'web-n1-0'],
      ['node-1: vlan net1 is in namespace cni-stuck, of pod stuck-n1-0, which is terminating', 'cni-stuck', 'stuck-n1-0'],
      ['node-1: dummy net2 is in namespace cni-lost, which no pod owns', 'cni-lost', undefined],
    ]);
  });
});
