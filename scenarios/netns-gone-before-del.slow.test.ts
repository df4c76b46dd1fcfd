// End to end through the real CLI: a pod's network namespace is removed while its sandbox lives on,
// then the pod is deleted. The runtime (the model and the real containerd 2.1) DELs with an empty
// netns; DEL succeeds, the address and the veth are released, but the bridge plugin's masquerade
// chain stays (plugins#810), and the evidence names the chain and the pod. Plugins 1.1.1 and sid.
import { describe, expect, it } from 'vitest';
import { scenarioRun, expectNothingLeft } from '../testing/scenario-run.ts';
import type { CellReport } from '../harness/model/report.ts';
import { networkSkipReason, titled } from '../testing/network.ts';

const offline = await networkSkipReason('netns-gone-before-del', ['1.1.1', 'sid']);

describe.skipIf(offline)(titled('scenario netns-gone-before-del', offline), () => {
  const run = scenarioRun(['scenarios/netns-gone-before-del.yaml', '--jobs', '2']);
  const end = (c: CellReport, name: string) => c.assertions.find((a) => a.name === name && a.phase === 'end')!;
  const idOf = (c: CellReport, pod: string) => {
    const add = c.timeline.find((e) => e.kind === 'op' && e.op === 'add' && e.pod === pod);
    return add?.kind === 'op' ? String(add.detail?.containerId) : '';
  };
  const cells = [
    ['libcni-1.2', '1.1.1'],
    ['libcni-1.2', 'sid'],
    ['containerd-2.1', '1.1.1'],
    ['containerd-2.1', 'sid'],
  ] as const;

  it('ends every cell as the expected failure, with the evidence the scenario asks for', () => {
    expect(run.exitCode, run.output).toBe(0);
    expect(run.report.cells.map((c) => c.outcome)).toEqual(['xfail', 'xfail', 'xfail', 'xfail']);
    for (const c of run.report.cells) expect(c.expected.evidence?.['no-orphan-iptables']).toMatch(/^nat chain CNI-/);
  });

  it.each(cells)('%s (plugins %s): the namespace goes, the sandbox stays, DEL succeeds and only the masquerade chain is left', (runtime, cni) => {
    const c = run.cell({ runtime, cni });
    const cid = idOf(c, 'web-n1-0');
    expect(cid).toMatch(/^[0-9a-f]{64}$/);
    // Step 1 removed exactly that pod's namespace; the observation after it has no such netns.
    const step1 = c.timeline.find((e) => e.kind === 'step' && e.number === '1');
    expect(step1?.kind === 'step' && step1.detail).toMatch(/^node-1: removed the network namespace of web-n1-0 \((\/var)?\/run\/netns\/cni-[0-9a-f-]+\); the sandboxes live on$/);
    const netnsOp = c.timeline.find((e) => e.kind === 'op' && e.op === 'delete-netns');
    expect(netnsOp?.kind === 'op' && netnsOp.detail?.containerId).toBe(cid);
    const gone = String(netnsOp?.kind === 'op' ? netnsOp.detail?.netns : '').split('/').pop()!;
    const after1 = c.timeline.find((e) => e.kind === 'observation' && e.after === 'step 1: delete-netns');
    expect(after1?.kind === 'observation' && after1.nodes[0]!.netns).not.toContain(gone);
    // DEL of the pod succeeded, on the real runtime too.
    expect(c.timeline.filter((e) => e.kind === 'op' && e.op === 'del').map((e) => e.kind === 'op' && [e.pod, e.result])).toEqual([['web-n1-0', 'ok']]);
    expect(end(c, 'del-succeeds').status).toBe('pass');
    expect(end(c, 'no-leaked-reservations').status).toBe('pass');
    expect(end(c, 'no-orphan-devices').status).toBe('pass');
    expect(end(c, 'pods-running').status).toBe('pass');
    const ipt = end(c, 'no-orphan-iptables');
    expect(ipt.status).toBe('fail');
    expect(ipt.evidence).toHaveLength(1);
    expect(ipt.evidence[0]).toMatchObject({ node: 'node-1', table: 'nat', chain: expect.stringMatching(/^CNI-[0-9a-f]{24}$/), owner: cid });
    expect(ipt.evidence[0]!.summary).toMatch(/which is not a live attachment: pod web-n1-0, which no longer has a sandbox$/);
    // The other pod kept its chain and its address.
    expect(c.reason).toMatch(/^expected failure reproduced: no-orphan-iptables/);
  });

  it('leaves nothing behind and never touches the host CNI dirs', async () => {
    await expectNothingLeft(run);
  });
});
