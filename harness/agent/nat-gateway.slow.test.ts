// Real namespaces: NAT gateways of kubeovn/nat-gw-v1.12 on two nodes joined by the external segment.
// Each gateway has eth0 (VPC subnet), net1 (macvlan on ext0) and an elastic address with SNAT/DNAT
// in its own netns; gateways on two nodes reach each other over the segment and nothing else; the
// host's root namespace gets no link; a node's power cycle links it to the segment again.
import { localReaper } from '../backends/local/reaper.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { createRun, type Run } from '../ledger/ledger.ts';
import { LocalBackend, type LocalCluster } from '../backends/local/local-backend.ts';
import { resolveStack } from '../runner/stack.ts';
import { Timeline } from '../model/timeline.ts';
import { createRng } from '../util/rng.ts';
import { composeAgents } from '../runner/compose.ts';
import type { NodeAgent } from './types.ts';
import { bootNode } from '../boot/boot-node.ts';
import { tempDir, waitFor } from '../../testing/cli.ts';
import type { ResolvedStack } from '../model/profile.ts';

const hostLinks = async () => (await execa('ip', ['-o', 'link', 'show'])).stdout.split('\n').map((l) => l.split(':')[1]!.trim()).sort();

/** TCP connect from a pod netns; the kernel's answer tells whether a peer is reachable. */
async function connect(cluster: LocalCluster, node: string, netns: string, addr: string): Promise<string> {
  const script = 'use IO::Socket::INET; my $s = IO::Socket::INET->new(PeerAddr => $ARGV[0], Timeout => 2); print $s ? "connected" : "$!";';
  const r = await cluster.node(node).exec(['perl', '-e', script, `${addr}:9`], { netns });
  return r.stdout.trim() || r.stderr.trim();
}

describe('NAT gateways on the external segment (local backend)', () => {
  let state: { dir: string; cleanup: () => Promise<void> };
  let run: Run;
  let cluster: LocalCluster;
  let agents: NodeAgent[];
  const agent = (name: string) => agents.find((a) => a.node.name === name)!;
  let stack: ResolvedStack;
  let linksBefore: string[];

  beforeAll(async () => {
    state = await tempDir('fl-state-');
    run = await createRun({ stateDir: state.dir });
    stack = await resolveStack({ profile: 'kubeovn/nat-gw-v1.12', delegation: 'cached-delegates' });
    linksBefore = await hostLinks();
    cluster = await new LocalBackend({ run }).up({
      runId: run.runId,
      cellId: 'nat-gw',
      workDir: run.cellDir('nat-gw'),
      nodes: ['10.63.0.0/26', '10.63.0.64/26'].map((podSubnet, i) => ({ name: `node-${i + 1}`, podSubnet, pluginDir: stack.plugins.dir })),
      segments: ['ext0'],
    });
    const timeline = new Timeline();
    ({ agents } = composeAgents(cluster.nodes, stack, timeline, createRng(5), [{ name: 'gw', replicasPerNode: 1, networks: ['external'], role: 'nat-gateway' }]));
    for (const a of agents) await bootNode(a, stack, timeline);
  });
  afterAll(async () => {
    await cluster?.down();
    await run?.release([localReaper]);
    await state?.cleanup();
  });

  it('each gateway has eth0, net1 and an elastic address, with SNAT/DNAT in its own netns', async () => {
    for (const node of cluster.nodes) {
      const [gw] = agent(node.name).pods();
      expect(gw?.phase, gw?.error).toBe('running');
      const by = Object.fromEntries(gw!.attachments.map((a) => [a.ifName, a]));
      expect(Object.keys(by).sort()).toEqual(['eip0', 'eth0', 'net1']);
      expect(by.eth0!.network).toBe('vpc-subnet');
      expect(by.net1!.network).toBe('external');
      const eip = by.eip0!.ips[0]!;
      const lan = by.eth0!.ips[0]!;
      const nat = await node.exec(['iptables-save', '-t', 'nat'], { netns: gw!.netns });
      expect(nat.stdout).toContain(`-A EIP-SNAT -s ${node.spec.podSubnet} -o net1 -m comment --comment "eip ${eip}" -j SNAT --to-source ${eip}`);
      expect(nat.stdout).toContain(`-A EIP-DNAT -d ${eip}/32 -i net1 -p tcp -m tcp --dport 8080 -m comment --comment "eip ${eip}" -j DNAT --to-destination ${lan}:80`);
      const addrs = await node.exec(['ip', '-o', '-4', 'addr', 'show', 'dev', 'net1'], { netns: gw!.netns });
      expect(addrs.stdout).toContain(`${by.net1!.ips[0]}/24`);
      expect(addrs.stdout).toContain(`${eip}/32`);
      // The node's rules are not touched: the NAT lives in the gateway's namespace only.
      expect((await node.exec(['iptables-save', '-t', 'nat'])).stdout).not.toContain('EIP-');
      // Per-node slices of the external subnet.
      const n = Number(node.name.slice(-1));
      for (const ip of [...by.net1!.ips, eip]) {
        const last = Number(ip.split('.')[3]);
        expect(last).toBeGreaterThanOrEqual(2 + (n - 1) * 10);
        expect(last).toBeLessThanOrEqual(11 + (n - 1) * 10);
      }
    }
  });

  it('gateways on two nodes reach each other over the segment; an address nobody holds does not answer', async () => {
    const [a] = agent('node-1').pods();
    const [b] = agent('node-2').pods();
    const bNet1 = b!.attachments.find((x) => x.ifName === 'net1')!.ips[0]!;
    expect(await connect(cluster, 'node-1', a!.netns, bNet1)).toBe('Connection refused');
    expect(await connect(cluster, 'node-1', a!.netns, '172.31.250.250')).not.toBe('Connection refused');
  });

  it('adds no link to the host; a power cycle links the node to the segment again', async () => {
    expect(await hostLinks()).toEqual(linksBefore);
    const seg = cluster.segments[0]!;
    expect(await seg.ports()).toEqual(['node-1', 'node-2']);
    const node2 = cluster.node('node-2');
    await node2.powerOff();
    agent('node-2').onPowerOff();
    // The kernel frees a dead namespace (and so the veth pair) asynchronously.
    await waitFor(async () => (await seg.ports()).join() === 'node-1', 10_000, 'node-2 to leave the segment');
    await node2.powerOn();
    expect(await seg.ports()).toEqual(['node-1', 'node-2']);
    expect((await node2.exec(['ip', '-o', 'link', 'show', 'ext0'])).stdout).toContain('state UP');
    expect(await hostLinks()).toEqual(linksBefore);
  });
});
