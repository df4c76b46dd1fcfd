import { mkdtemp, readFile, readdir, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Node } from '../backends/types.ts';
import type { NodeSnapshot } from '../model/snapshot.ts';
import type { CellContext } from '../context/cell-context.ts';
import { observeMultusConfig } from './multus-config.ts';
import { configNotNested } from '../assertions/config-not-nested.ts';

const FIXTURES = path.join(import.meta.dirname, 'testdata', 'multus');

/** A node whose /etc/cni/net.d is a host directory (only what the observation uses). */
function nodeWithNetD(dir: string, name = 'node-1'): Node {
  const map = (p: string) => {
    if (!p.startsWith('/etc/cni/net.d')) throw new Error(`unexpected path ${p}`);
    return path.join(dir, p.slice('/etc/cni/net.d'.length));
  };
  return {
    name,
    list: async (d: string) => (await readdir(map(d)).catch(() => [] as string[])).sort(),
    readFile: async (p: string) => readFile(map(p)),
  } as unknown as Node;
}

async function judge(dirs: Record<string, string>) {
  const snaps: NodeSnapshot[] = [];
  for (const [node, dir] of Object.entries(dirs)) {
    const m = await observeMultusConfig(nodeWithNetD(dir, node));
    snaps.push({ node, running: true, reservations: [], attachments: [], links: [], netns: [], ...(m.present ? { multusConfig: m } : {}) });
  }
  return configNotNested.evaluate({} as CellContext, snaps, {});
}

const scratch: string[] = [];
afterAll(async () => {
  for (const d of scratch) await rm(d, { recursive: true, force: true });
});

describe('multus-config observation', () => {
  it('sees two levels of type: multus in the nested file of multus-cni#1162', async () => {
    const m = await observeMultusConfig(nodeWithNetD(path.join(FIXTURES, 'nested-1162')));
    expect(m).toMatchObject({ present: true, multusDepth: 2, delegate: { name: 'k8s-pod-network', types: ['calico', 'portmap', 'bandwidth'] }, expectedMaster: { file: '10-canal.conflist', name: 'k8s-pod-network' } });
    expect(m.files).toEqual(['00-multus.conf', '10-canal.conflist']);
  });

  it('reads 00-multus.conflist when there is no .conf, unwrapping the multus plugin at each level', async () => {
    const m = await observeMultusConfig(nodeWithNetD(path.join(FIXTURES, 'nested-conflist')));
    expect(m).toMatchObject({ file: '/etc/cni/net.d/00-multus.conflist', present: true, multusDepth: 2, delegate: { name: 'lab-net', types: ['bridge', 'portmap'] }, expectedMaster: { file: '10-lab.conflist', name: 'lab-net' } });
    expect(m.text).toContain('"name": "multus-cni-network"');
  });

  it('sees one level delegating to the master in the correct file', async () => {
    const m = await observeMultusConfig(nodeWithNetD(path.join(FIXTURES, 'correct')));
    expect(m).toMatchObject({ present: true, multusDepth: 1, delegate: { name: 'k8s-pod-network' } });
    expect(m.error).toBeUndefined();
  });

  it('reports an absent file as not present', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'faultline-netd-'));
    scratch.push(dir);
    await writeFile(path.join(dir, '10-canal.conflist'), '{"name":"k8s-pod-network","cniVersion":"0.3.1","plugins":[{"type":"bridge"}]}');
    expect(await observeMultusConfig(nodeWithNetD(dir))).toEqual({ file: '/etc/cni/net.d/00-multus.conf', files: ['10-canal.conflist'], present: false });
  });
});

describe('config-not-nested', () => {
  it('fails on the nested file with the nesting depth as evidence', async () => {
    const j = await judge({ 'node-1': path.join(FIXTURES, 'nested-1162'), 'node-2': path.join(FIXTURES, 'correct') });
    expect(j.status).toBe('fail');
    expect(j.evidence).toHaveLength(1);
    expect(j.evidence[0]).toMatchObject({ node: 'node-1', file: '/etc/cni/net.d/00-multus.conf', multusDepth: 2 });
    expect(j.evidence[0]!.summary).toContain('nests type: multus 2 level(s) deep');
    expect(String(j.evidence[0]!.content)).toContain('"type": "multus"');
  });

  it('fails on a nested 00-multus.conflist and passes once it has one level', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'faultline-netd-'));
    scratch.push(dir);
    await cp(path.join(FIXTURES, 'nested-conflist'), dir, { recursive: true });
    const nested = await judge({ 'node-1': dir });
    expect(nested.status).toBe('fail');
    expect(nested.evidence[0]).toMatchObject({ file: '/etc/cni/net.d/00-multus.conflist', multusDepth: 2 });
    const doc = JSON.parse(await readFile(path.join(dir, '00-multus.conflist'), 'utf8'));
    doc.plugins[0].delegates = doc.plugins[0].delegates[0].plugins[0].delegates;
    await writeFile(path.join(dir, '00-multus.conflist'), JSON.stringify(doc));
    const flat = await judge({ 'node-1': dir });
    expect(flat.status).toBe('pass');
    expect(flat.evidence[0]!.summary).toContain('delegating to lab-net (10-lab.conflist)');
  });

  it('passes on the correct file', async () => {
    const j = await judge({ 'node-1': path.join(FIXTURES, 'correct') });
    expect(j.status).toBe('pass');
    expect(j.evidence[0]!.summary).toContain('delegating to k8s-pod-network (10-canal.conflist)');
  });

  it('fails when the delegate is not the first other file in sorted order', async () => {
    const j = await judge({ 'node-1': path.join(FIXTURES, 'wrong-master') });
    expect(j.status).toBe('fail');
    expect(j.evidence[0]!.summary).toContain('the master config is 05-cilium.conflist (network cilium)');
  });

  it('fails on an empty 00-multus.conf and is unknown without one', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'faultline-netd-'));
    scratch.push(dir);
    await cp(path.join(FIXTURES, 'correct'), dir, { recursive: true });
    await writeFile(path.join(dir, '00-multus.conf'), '');
    const empty = await judge({ 'node-1': dir });
    expect(empty.status).toBe('fail');
    expect(empty.evidence[0]!.summary).toContain('the file is empty');
    await rm(path.join(dir, '00-multus.conf'));
    expect((await judge({ 'node-1': dir })).status).toBe('unknown');
  });
});
