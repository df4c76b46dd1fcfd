// Real namespaces: the links of a node and of every pod namespace in it, as the plugins leave them
// (a bridge, a veth into a pod, an ifb, a vxlan in the node; a veth end and a macvlan in the pod).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import { createRun, type Run } from '../ledger/ledger.ts';
import { LocalBackend, type LocalCluster } from '../backends/local/local-backend.ts';
import { localReaper } from '../backends/local/reaper.ts';
import { fakePluginDir, useTempStateDir } from '../../testing/host.ts';
import { readLinks } from './links.ts';

let state: Awaited<ReturnType<typeof useTempStateDir>>;
let plugins: string;
let run: Run;
let cluster: LocalCluster | undefined;

beforeAll(async () => {
  state = await useTempStateDir();
  plugins = await fakePluginDir();
  run = await createRun();
  cluster = await new LocalBackend().up({ runId: run.runId, cellId: 'links', workDir: run.cellDir('links'), nodes: [{ name: 'node-1', pluginDir: plugins, podSubnet: '10.77.0.0/28' }] });
});
afterAll(async () => {
  await cluster?.down().catch(() => {});
  await run?.release([localReaper]);
  await rm(plugins, { recursive: true, force: true });
  await state?.restore();
});

describe('readLinks', () => {
  it('lists the node links with their kind, master and peer namespace, and the links inside every named namespace', async () => {
    const node = cluster!.node('node-1');
    await node.createNetns('cni-a');
    await node.createNetns('cni-b');
    const script = [
      'link add brx type bridge',
      'link add v0 type veth peer name eth0 netns cni-a',
      'link set v0 master brx',
      'link add bwptest0000000 type ifb',
      'link add vx0 type vxlan id 42 dstport 4789 dev v0',
      'link add p0 type veth peer name p1',
      'link add mv0 link p0 type macvlan mode bridge',
      'link set mv0 netns cni-a',
    ].join('\n');
    const r = await node.exec(['ip', '-batch', '-'], { stdin: `${script}\n` });
    expect(r.stderr).toBe('');
    const { links, netns } = await readLinks(node);
    expect(netns).toEqual(['cni-a', 'cni-b']);
    const byName = (ns: string, name: string) => links.find((l) => l.ns === ns && l.name === name);
    expect(byName('node', 'brx')).toMatchObject({ kind: 'bridge' });
    expect(byName('node', 'v0')).toMatchObject({ kind: 'veth', master: 'brx', peer: 'cni-a' });
    expect(byName('node', 'bwptest0000000')).toMatchObject({ kind: 'ifb' });
    expect(byName('node', 'vx0')).toMatchObject({ kind: 'vxlan' });
    expect(byName('cni-a', 'eth0')).toMatchObject({ kind: 'veth' });
    expect(byName('cni-a', 'eth0')?.peer).toBeUndefined(); // seen from inside, the node has no name
    expect(byName('cni-a', 'mv0')).toMatchObject({ kind: 'macvlan' });
    expect(links.filter((l) => l.ns === 'cni-b')).toEqual([]); // only lo there, which is never listed
    expect(links.some((l) => l.name === 'lo')).toBe(false);
  });
});
