// End to end through the real CLI: the runtime crashes while writing a pod's result cache, then the
// pod is deleted. libcni 1.1 with a 1.0.0 conflist fails the DEL with libcni's exact error and leaves
// the veth, the address, the masquerade chain and the empty cache file; libcni 1.2 releases it all;
// with a 0.3.1 conflist both runtimes pass. Real plugins 1.1.1 and sid, real namespaces.
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
  const crashOf = (c: CellReport) => c.timeline.find((e) => e.kind === 'op' && e.op === 'add' && e.pod === 'victim');

  it('ends every cell as expected: libcni-1.1 xfail, libcni-1.2 passed, 0.3.1 passed on both', () => {
    expect(run.exitCode, run.output).toBe(0);
    expect(run.report.cells.map((c) => [c.id, c.outcome])).toEqual([
      ['libcni-empty-cache-del[runtime=libcni-1.1,cni=1.1.1]', 'xfail'],
      ['libcni-empty-cache-del[runtime=libcni-1.1,cni=sid]', 'xfail'],
      ['libcni-empty-cache-del[runtime=libcni-1.2,cni=1.1.1]', 'passed'],
      ['libcni-empty-cache-del[runtime=libcni-1.2,cni=sid]', 'passed'],
      ['libcni-empty-cache-del-0-3-1[runtime=libcni-1.1]', 'passed'],
      ['libcni-empty-cache-del-0-3-1[runtime=libcni-1.2]', 'passed'],
    ]);
    expect(run.output).toMatch(/All 6 cells as expected \(4 passed, 2 xfail\)/);
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

  it.each(['1.1.1', 'sid'])('libcni-1.1 (plugins %s): DEL fails with libcni\'s exact error and everything stays behind', (cni) => {
    const c = main('libcni-1.1', cni);
    const crash = crashOf(c);
    expect(crash?.kind === 'op' && crash.error).toMatch(/^runtime crashed during ADD while writing the result cache \/var\/lib\/cni\/results\/lab-net-[0-9a-f]{64}-eth0$/);
    const cid = crash?.kind === 'op' ? (crash.detail?.containerId as string) : '';
    expect(cid).toMatch(/^[0-9a-f]{64}$/);

    const del = end(c, 'del-succeeds');
    expect(del.status).toBe('fail');
    expect(del.evidence).toHaveLength(1);
    expect(del.evidence[0]!.error).toBe(`failed to destroy network for sandbox "${cid}": failed to get network "lab-net" cached result: decoding version from network config: unexpected end of JSON input`);
    expect(del.evidence[0]).toMatchObject({ pod: 'victim', containerId: cid, node: 'node-1' });

    const dev = end(c, 'no-orphan-devices');
    expect(dev.status).toBe('fail');
    expect(dev.evidence).toHaveLength(1);
    expect(dev.evidence[0]!.link).toMatch(/^veth[0-9a-f]{8}$/);
    expect(dev.evidence[0]!.netns).toBe(`cni-${cid.slice(0, 8)}-${cid.slice(8, 12)}-${cid.slice(12, 16)}`);
    expect(dev.evidence[0]!.summary).toMatch(/\(on cni0\) peers into cni-[0-9a-f-]+, pod victim is terminating$/);

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

  it.each(['1.1.1', 'sid'])('libcni-1.2 (plugins %s): DEL succeeds, nothing stays behind', (cni) => {
    const c = main('libcni-1.2', cni);
    expect(crashOf(c)?.kind === 'op' && crashOf(c)).toMatchObject({ result: 'error' }); // the crash did happen
    const dels = c.timeline.filter((e) => e.kind === 'op' && e.op === 'del');
    expect(dels.map((e) => e.kind === 'op' && [e.pod, e.result])).toEqual([['victim', 'ok']]);
    for (const a of c.assertions) expect([a.name, a.status]).toEqual([a.name, 'pass']);
    // The final observation: no cache file, no reservation and no chain of the victim.
    const last = [...c.timeline].reverse().find((e) => e.kind === 'observation');
    const node = last?.kind === 'observation' ? last.nodes[0]! : undefined;
    expect(node?.cache?.map((x) => x.state)).toEqual(['valid', 'valid']);
    expect(node?.reservations).toHaveLength(2);
  });

  it('0.3.1 conflist: the crash leaves an empty file, but DEL does not read it on either runtime', () => {
    for (const runtime of ['libcni-1.1', 'libcni-1.2']) {
      const c = cell('libcni-empty-cache-del-0-3-1', { runtime });
      const step = c.timeline.find((e) => e.kind === 'step' && e.step === 'crash-during-add');
      expect(step?.kind === 'step' && step.detail).toMatch(/left with 0 bytes$/);
      expect(c.assertions.map((a) => [a.name, a.status])).toEqual([
        ['del-succeeds', 'pass'], ['no-orphan-devices', 'pass'], ['no-leaked-reservations', 'pass'], ['no-orphan-iptables', 'pass'], ['cache-valid', 'pass'], ['pods-running', 'pass'],
      ]);
    }
  });

  it('shows the DEL error, the orphan veth, the leaked address and the chain in the Markdown summary', async () => {
    const md = await readFile(path.join(run.outDir, 'summary.md'), 'utf8');
    expect(md).toMatch(/failed to destroy network for sandbox "[0-9a-f]{64}": failed to get network "lab-net" cached result: decoding version from network config: unexpected end of JSON input/);
    expect(md).toMatch(/veth[0-9a-f]{8} \(on cni0\) peers into cni-/);
    expect(md).toMatch(/\/var\/lib\/cni\/networks\/lab-net\/10\.88\.0\.\d+ reserved by/);
    expect(md).toMatch(/nat chain CNI-[0-9a-f]{24} \(\d+ rule\(s\)\) belongs to/);
  });

  it('leaves nothing behind and never touches the host CNI dirs', async () => {
    await expectNothingLeft(run);
  });
});
