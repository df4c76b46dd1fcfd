// End to end through the real CLI: a pod's result cache is empty, then the pod is deleted. libcni 1.1
// (the model) and containerd 1.6 (real, built with libcni 1.1.2) with a 1.0.0 conflist fail the DEL
// with libcni's exact error and leave the veth, the address, the masquerade chain and the empty cache
// file; libcni 1.2 and containerd 2.1 release it all; with a 0.3.1 conflist every runtime passes. Real
// plugins 1.1.1 and sid, real namespaces, real containerd.
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { scenarioRun, expectNothingLeft } from '../testing/scenario-run.ts';
import type { CellReport } from '../harness/model/report.ts';
import { networkSkipReason, titled } from '../testing/network.ts';

const offline = await networkSkipReason('libcni-empty-cache-del', ['1.1.1', 'sid']);

describe.skipIf(offline)(titled('scenarios libcni-empty-cache-del and its 0.3.1 variant', offline), () => {
  const run = scenarioRun(['scenarios/libcni-empty-cache-del.yaml', 'scenarios/libcni-empty-cache-del-0.3.1.yaml', '--jobs', '2']);

  const cell = (scenario: string, m: Record<string, string>): CellReport => {
    const c = run.report.cells.find((x) => x.scenario === scenario && Object.entries(m).every(([k, v]) => x.matrix[k] === v));
    if (!c) throw new Error(`no cell ${scenario} ${JSON.stringify(m)} in ${run.report.cells.map((x) => x.id).join(', ')}`);
    return c;
  };
  const main = (runtime: string, cni: string) => cell('libcni-empty-cache-del', { runtime, cni });
  const end = (c: CellReport, name: string) => c.assertions.find((a) => a.name === name && a.phase === 'end')!;
  const victimId = (c: CellReport) => {
    const add = c.timeline.find((e) => e.kind === 'op' && e.op === 'add' && e.pod === 'victim-n1-0');
    return add?.kind === 'op' ? (add.detail?.containerId as string) : '';
  };

  it('ends every cell as expected: libcni-1.1 and containerd-1.6 xfail, libcni-1.2 and containerd-2.1 passed, 0.3.1 passed on all', () => {
    expect(run.exitCode, run.output).toBe(0);
    expect(run.report.cells.map((c) => [c.id, c.outcome])).toEqual([
      ['libcni-empty-cache-del[runtime=libcni-1.1,cni=1.1.1]', 'xfail'],
      ['libcni-empty-cache-del[runtime=libcni-1.1,cni=sid]', 'xfail'],
      ['libcni-empty-cache-del[runtime=libcni-1.2,cni=1.1.1]', 'passed'],
      ['libcni-empty-cache-del[runtime=libcni-1.2,cni=sid]', 'passed'],
      ['libcni-empty-cache-del[runtime=containerd-1.6,cni=1.1.1]', 'xfail'],
      ['libcni-empty-cache-del[runtime=containerd-1.6,cni=sid]', 'xfail'],
      ['libcni-empty-cache-del[runtime=containerd-2.1,cni=1.1.1]', 'passed'],
      ['libcni-empty-cache-del[runtime=containerd-2.1,cni=sid]', 'passed'],
      ['libcni-empty-cache-del-0-3-1[runtime=libcni-1.1]', 'passed'],
      ['libcni-empty-cache-del-0-3-1[runtime=libcni-1.2]', 'passed'],
      ['libcni-empty-cache-del-0-3-1[runtime=containerd-1.6]', 'passed'],
      ['libcni-empty-cache-del-0-3-1[runtime=containerd-2.1]', 'passed'],
    ]);
    expect(run.output).toMatch(/All 12 cells as expected \(8 passed, 4 xfail\)/);
  });

  it('records the real containerd of each cell: its version, the libcni it was built with, where it came from', () => {
    const c16 = main('containerd-1.6', '1.1.1').stack;
    expect(c16.runtime).toBe('containerd-1.6');
    expect(c16.containerd).toMatchObject({ version: expect.stringMatching(/^1\.6\.\d+/), libcni: '1.1.2', source: expect.stringMatching(/^debian:bookworm containerd=1\.6\./) });
    expect(c16.containerd!.sha256.containerd).toMatch(/^[0-9a-f]{64}$/);
    const c21 = main('containerd-2.1', '1.1.1').stack;
    expect(c21.containerd).toMatchObject({ version: expect.stringMatching(/^2\.1\./), libcni: '1.3.0', source: expect.stringMatching(/^debian:sid containerd=2\.1\./) });
    expect(main('libcni-1.1', '1.1.1').stack.containerd).toBeUndefined();
  });

  it('runs the versions asked for: 1.1.1 and the sid version, each with its hashes', () => {
    expect(main('libcni-1.1', '1.1.1').stack.cni.version).toBe('1.1.1');
    const sid = main('libcni-1.1', 'sid').stack.cni;
    expect(sid.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(sid.version).not.toBe('1.1.1');
    expect(sid.sha256.bridge).toMatch(/^[0-9a-f]{64}$/);
    expect(main('libcni-1.1', '1.1.1').stack.conflistCniVersion).toBe('1.0.0');
    expect(cell('libcni-empty-cache-del-0-3-1', { runtime: 'libcni-1.1' }).stack.conflistCniVersion).toBe('0.3.1');
  });

  it.each([
    ['libcni-1.1', '1.1.1'],
    ['libcni-1.1', 'sid'],
    ['containerd-1.6', '1.1.1'],
    ['containerd-1.6', 'sid'],
  ])("%s (plugins %s): DEL fails with libcni's exact error and everything stays behind", (runtime, cni) => {
    const c = main(runtime, cni);
    const cid = victimId(c);
    expect(cid).toMatch(/^[0-9a-f]{64}$/);
    const trunc = c.timeline.find((e) => e.kind === 'step' && e.step === 'truncate-file');
    expect(trunc?.kind === 'step' && trunc.detail).toBe(`node-1: truncated /var/lib/cni/results/lab-net-${cid}-eth0 (${trunc?.kind === 'step' ? /\((\d+) ->/.exec(trunc.detail)?.[1] : ''} -> 0 bytes)`);

    const del = end(c, 'del-succeeds');
    expect(del.status).toBe('fail');
    expect(del.evidence).toHaveLength(1);
    const message = `failed to destroy network for sandbox "${cid}": failed to get network "lab-net" cached result: decoding version from network config: unexpected end of JSON input`;
    // containerd's answer comes over CRI, with its gRPC status.
    expect(del.evidence[0]!.error).toBe(runtime.startsWith('containerd') ? `${message} (gRPC UNKNOWN)` : message);
    expect(del.evidence[0]).toMatchObject({ pod: 'victim-n1-0', containerId: cid, node: 'node-1' });

    const dev = end(c, 'no-orphan-devices');
    expect(dev.status).toBe('fail');
    expect(dev.evidence).toHaveLength(1);
    expect(dev.evidence[0]!.link).toMatch(/^veth[0-9a-f]{8}$/);
    expect(dev.evidence[0]!.netns).toMatch(/^cni-[0-9a-f-]+$/);
    expect(dev.evidence[0]!.summary).toMatch(/\(on cni0\) peers into cni-[0-9a-f-]+, pod victim-n1-0 is terminating$/);

    const leak = end(c, 'no-leaked-reservations');
    expect(leak.status).toBe('fail');
    expect(leak.evidence).toHaveLength(1);
    expect(leak.evidence[0]!.file).toMatch(/^\/var\/lib\/cni\/networks\/lab-net\/10\.88\.0\.\d+$/);
    expect(leak.evidence[0]!.owner).toBe(cid);

    const ipt = end(c, 'no-orphan-iptables');
    expect(ipt.status).toBe('fail');
    expect(ipt.evidence.length).toBeGreaterThanOrEqual(1);
    expect(ipt.evidence.every((e) => e.owner === cid)).toBe(true);
    expect(ipt.evidence).toContainEqual(expect.objectContaining({ table: 'nat', chain: expect.stringMatching(/^CNI-[0-9a-f]{24}$/) }));

    const cache = end(c, 'cache-valid');
    expect(cache.status).toBe('fail');
    expect(cache.evidence).toEqual([expect.objectContaining({ file: `/var/lib/cni/results/lab-net-${cid}-eth0`, state: 'empty', error: 'unexpected end of JSON input' })]);

    // The other pods are unaffected.
    expect(end(c, 'pods-running').status).toBe('pass');
  });

  it.each([
    ['libcni-1.2', '1.1.1'],
    ['libcni-1.2', 'sid'],
    ['containerd-2.1', '1.1.1'],
    ['containerd-2.1', 'sid'],
  ])('%s (plugins %s): DEL succeeds, nothing stays behind', (runtime, cni) => {
    const c = main(runtime, cni);
    const trunc = c.timeline.find((e) => e.kind === 'step' && e.step === 'truncate-file');
    expect(trunc?.kind === 'step' && trunc.detail).toMatch(/-> 0 bytes\)$/); // the cache was emptied
    const dels = c.timeline.filter((e) => e.kind === 'op' && e.op === 'del');
    expect(dels.map((e) => e.kind === 'op' && [e.pod, e.result])).toEqual([['victim-n1-0', 'ok']]);
    for (const a of c.assertions) expect([a.name, a.status]).toEqual([a.name, 'pass']);
    // The final observation: no cache file, no reservation and no chain of the victim.
    const last = [...c.timeline].reverse().find((e) => e.kind === 'observation');
    const node = last?.kind === 'observation' ? last.nodes[0]! : undefined;
    const cid = victimId(c);
    expect(node?.cache?.filter((x) => x.file.includes(cid))).toEqual([]);
    expect(node?.cache?.filter((x) => x.file.includes('/lab-net-')).map((x) => x.state)).toEqual(['valid', 'valid']);
    expect(node?.reservations).toHaveLength(2);
  });

  it('0.3.1 conflist: the cache is empty, but DEL does not read it on any runtime', () => {
    for (const runtime of ['libcni-1.1', 'libcni-1.2', 'containerd-1.6', 'containerd-2.1']) {
      const c = cell('libcni-empty-cache-del-0-3-1', { runtime });
      const step = c.timeline.find((e) => e.kind === 'step' && e.step === 'truncate-file');
      expect(step?.kind === 'step' && step.detail).toMatch(/-> 0 bytes\)$/);
      expect(c.assertions.map((a) => [a.name, a.status])).toEqual([
        ['del-succeeds', 'pass'], ['no-orphan-devices', 'pass'], ['no-leaked-reservations', 'pass'], ['no-orphan-iptables', 'pass'], ['cache-valid', 'pass'], ['pods-running', 'pass'],
      ]);
    }
  });

  it('shows the DEL error, the orphan veth, the leaked address and the chain in the Markdown summary', async () => {
    const md = await readFile(path.join(run.outDir, 'summary.md'), 'utf8');
    expect(md).toMatch(/failed to destroy network for sandbox "[0-9a-f]{64}": failed to get network "lab-net" cached result: decoding version from network config: unexpected end of JSON input/);
    // Evidence as table rows: node | file or device | owner | detail.
    expect(md).toMatch(/\| node-1 \| `veth[0-9a-f]{8}` \| `victim-n1-0` \| \(on cni0\) peers into cni-/);
    expect(md).toMatch(/\| node-1 \| `\/var\/lib\/cni\/networks\/lab-net\/10\.88\.0\.\d+` \| `[0-9a-f]{12}\/eth0` \| not a live attachment \|/);
    expect(md).toMatch(/\| node-1 \| `nat chain CNI-[0-9a-f]{24}` \| `[0-9a-f]{12}` \| \(\d+ rule\(s\)\) belongs to/);
  });

  it('leaves nothing behind and never touches the host CNI dirs', async () => {
    await expectNothingLeft(run);
  });
});
