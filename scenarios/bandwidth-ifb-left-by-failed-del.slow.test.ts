// End to end through the real CLI: a reporter's own conflist (bridge + host-local + bandwidth) written
// inline in the scenario, a pod with the bandwidth annotations, an empty result cache, then the pod's
// deletion. The bandwidth plugin really shapes (its ifb device exists while the pod runs, on the model
// and on the real containerd); libcni 1.1 and containerd 1.6 abort DEL on the empty cache and the ifb
// stays, named by no-orphan-devices with its pod; libcni 1.2 and containerd 2.1 remove it.
import { describe, expect, it } from 'vitest';
import { scenarioRun, expectNothingLeft } from '../testing/scenario-run.ts';
import type { CellReport } from '../harness/model/report.ts';
import { bandwidthIfbName } from '../harness/assertions/owners.ts';
import { networkSkipReason, titled } from '../testing/network.ts';

const offline = await networkSkipReason('bandwidth-ifb-left-by-failed-del', ['1.1.1']);

describe.skipIf(offline)(titled('scenario bandwidth-ifb-left-by-failed-del', offline), () => {
  const run = scenarioRun(['scenarios/bandwidth-ifb-left-by-failed-del.yaml', '--jobs', '2']);
  const end = (c: CellReport, name: string) => c.assertions.find((a) => a.name === name && a.phase === 'end')!;
  const podId = (c: CellReport, pod = 'shaped-n1-0') => {
    const add = c.timeline.find((e) => e.kind === 'op' && e.op === 'add' && e.pod === pod);
    return add?.kind === 'op' ? String(add.detail?.containerId) : '';
  };
  const ifbs = (c: CellReport, after: string) => {
    const o = c.timeline.find((e) => e.kind === 'observation' && e.after === after);
    return o?.kind === 'observation' ? o.nodes[0]!.links.filter((l) => l.kind === 'ifb').map((l) => l.name) : ['(no observation)'];
  };

  it('ends libcni-1.1 and containerd-1.6 as the expected failure, libcni-1.2 and containerd-2.1 passed', () => {
    expect(run.exitCode, run.output).toBe(0);
    expect(run.report.cells.map((c) => [c.id, c.outcome])).toEqual([
      ['bandwidth-ifb-left-by-failed-del[runtime=libcni-1.1]', 'xfail'],
      ['bandwidth-ifb-left-by-failed-del[runtime=libcni-1.2]', 'passed'],
      ['bandwidth-ifb-left-by-failed-del[runtime=containerd-1.6]', 'xfail'],
      ['bandwidth-ifb-left-by-failed-del[runtime=containerd-2.1]', 'passed'],
    ]);
  });

  it('reports the inline stack as resolved: written in the scenario, with its conflist', () => {
    const s = run.cell({ runtime: 'libcni-1.1' }).stack;
    expect(s.profile).toBe('inline');
    expect(s.origin).toEqual({ kind: 'inline', file: expect.stringMatching(/scenarios\/bandwidth-ifb-left-by-failed-del\.yaml$/), inline: ['networks'] });
    expect(s.networks).toEqual([expect.objectContaining({ file: '10-reporter.conflist', name: 'reporter-net', plugins: ['bridge', 'bandwidth'] })]);
    expect(s.cni.version).toBe('1.1.1');
  });

  it.each(['libcni-1.1', 'libcni-1.2', 'containerd-1.6', 'containerd-2.1'])('%s: the bandwidth plugin made the pod its ifb device (it shapes, it does not pass for doing nothing)', (runtime) => {
    const c = run.cell({ runtime });
    expect(ifbs(c, 'boot').sort()).toEqual([bandwidthIfbName('reporter-net', podId(c)), bandwidthIfbName('reporter-net', podId(c, 'steady-n1-0'))].sort());
  });

  it.each(['libcni-1.1', 'containerd-1.6'])('%s: DEL fails on the empty cache and no-orphan-devices names the ifb, its pod and why', (runtime) => {
    const c = run.cell({ runtime });
    const cid = podId(c);
    const ifb = bandwidthIfbName('reporter-net', cid);
    expect(ifbs(c, 'step 2: delete-pods').sort()).toEqual([ifb, bandwidthIfbName('reporter-net', podId(c, 'steady-n1-0'))].sort());
    const dev = end(c, 'no-orphan-devices');
    expect(dev.status).toBe('fail');
    // The running pod's ifb is its own: only the deleted pod's is evidence.
    expect(dev.evidence.filter((e) => e.kind === 'ifb')).toHaveLength(1);
    const item = dev.evidence.find((e) => e.kind === 'ifb');
    expect(item).toMatchObject({ node: 'node-1', link: ifb, kind: 'ifb', owner: 'shaped-n1-0', containerId: cid });
    expect(item!.summary).toMatch(new RegExp(`^node-1: ifb ${ifb} is the bandwidth plugin's egress device of pod shaped-n1-0 \\(container ${cid.slice(0, 12)}, network reporter-net\\), which is terminating: failed to destroy network for sandbox "${cid}": failed to get network "reporter-net" cached result: decoding`));
    expect(item!.error).toMatch(new RegExp(`^failed to destroy network for sandbox "${cid}": failed to get network "reporter-net" cached result: decoding version from network config: unexpected end of JSON input`));
    expect(dev.evidence.find((e) => e.kind === 'veth')?.summary).toMatch(/peers into cni-[0-9a-f-]+, pod shaped-n1-0 is terminating$/);
    expect(end(c, 'del-succeeds').status).toBe('fail');
    expect(end(c, 'no-leaked-reservations').status).toBe('fail');
  });

  it.each(['libcni-1.2', 'containerd-2.1'])('%s: DEL reaches the bandwidth plugin and the deleted pod\'s ifb is gone', (runtime) => {
    const c = run.cell({ runtime });
    expect(ifbs(c, 'step 2: delete-pods')).toEqual([bandwidthIfbName('reporter-net', podId(c, 'steady-n1-0'))]);
    for (const a of c.assertions) expect([a.name, a.status]).toEqual([a.name, 'pass']);
  });

  it('passes the bandwidth as containerd does: the model caches the same capability args as containerd 1.6 (rates from the annotations, burst 2^32-1)', async () => {
    const { readFile, readdir } = await import('node:fs/promises');
    const path = await import('node:path');
    const capabilityArgs = async (runtime: string) => {
      const c = run.cell({ runtime });
      const dir = path.join(run.outDir, c.artifacts[0]!, 'node-1', 'var/lib/cni/results');
      const file = (await readdir(dir)).find((f) => f === `reporter-net-${podId(c, 'steady-n1-0')}-eth0`)!;
      return (JSON.parse(await readFile(path.join(dir, file), 'utf8')) as { capabilityArgs: Record<string, unknown> }).capabilityArgs;
    };
    const real = await capabilityArgs('containerd-1.6');
    expect(real.bandwidth).toEqual({ IngressRate: 0, IngressBurst: 0, EgressRate: 1_000_000, EgressBurst: 4294967295 });
    expect((await capabilityArgs('libcni-1.1')).bandwidth).toEqual(real.bandwidth);
  });

  it('leaves nothing behind and never touches the host CNI dirs', async () => {
    await expectNothingLeft(run);
  });
});
