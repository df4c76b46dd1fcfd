// End to end on real namespaces with the real containerd 1.6: when kubelet forgets its sandboxes
// after a power cut, the Harvester leak reproduces on v1.4.1 and v1.4.2 for the right reason and
// v1.4.3 holds; when kubelet reconciles, containerd DELs the dead sandboxes and nothing leaks on any
// release. The host is untouched and nothing is left behind.
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { scenarioRun, expectNothingLeft } from '../testing/scenario-run.ts';

describe('scenario harvester-hard-reboot-ip-leak', () => {
  const run = scenarioRun(['scenarios/harvester-hard-reboot-ip-leak.yaml']);

  const cell = (v: string, reconcile = 'false') => run.report.cells.find((c) => c.matrix.harvester === v && c.matrix.reconcile === reconcile)!;
  const assertion = (v: string, name: string, reconcile = 'false') => cell(v, reconcile).assertions.find((a) => a.name === name && a.phase === 'end')!;

  it('exits 0 with every cell as expected', () => {
    expect(run.output).toMatch(/All 6 cells as expected \(4 passed, 2 xfail\)/);
    expect(run.exitCode).toBe(0);
    expect(run.report.cells.map((c) => [c.matrix.harvester, c.matrix.reconcile, c.outcome])).toEqual([
      ['v1.4.1', 'false', 'xfail'],
      ['v1.4.1', 'true', 'passed'],
      ['v1.4.2', 'false', 'xfail'],
      ['v1.4.2', 'true', 'passed'],
      ['v1.4.3', 'false', 'passed'],
      ['v1.4.3', 'true', 'passed'],
    ]);
    for (const c of run.report.cells) expect(c.stack.containerd).toMatchObject({ version: expect.stringMatching(/^1\.6\./), libcni: '1.1.2' });
  });

  it.each(['v1.4.1', 'v1.4.2'])('%s with a forgetful kubelet leaks host-local files of dead sandboxes until the range is exhausted', (v) => {
    const leaked = assertion(v, 'no-leaked-reservations');
    expect(leaked.status).toBe('fail');
    // 3 power cuts x 4 pods: the first 12 addresses belong to sandboxes that died.
    expect(leaked.evidence).toHaveLength(12);
    expect(leaked.evidence[0]!.file).toMatch(/^\/var\/lib\/cni\/networks\/k8s-pod-network\/10\.52\.0\.\d+$/);
    const running = assertion(v, 'pods-running');
    expect(running.status).toBe('fail');
    // containerd's own words, passed on from the plugin over CRI.
    expect(running.evidence.map((e) => e.error)).toContainEqual(expect.stringContaining('failed to allocate for range 0: no IP addresses available in range set: 10.52.0.1-10.52.0.14'));
    expect(assertion(v, 'ip-headroom').evidence[0]!.summary).toMatch(/node-1\/k8s-pod-network: 0 free of 13/);
    expect(assertion(v, 'stale-state-cleared-on-boot').evidence[0]!.summary).toMatch(/predates the boot/);
    // Kernel objects died with the node: no orphan veth is the leak's cause.
    expect(assertion(v, 'no-orphan-devices').status).toBe('pass');
  });

  it.each(['v1.4.1', 'v1.4.2', 'v1.4.3'])('%s with a reconciling kubelet: every dead sandbox is stopped and removed, nothing leaks', (v) => {
    const c = cell(v, 'true');
    expect(c.assertions.every((a) => a.status === 'pass')).toBe(true);
    const removed = c.timeline.filter((e) => e.kind === 'op' && e.op === 'remove-dead-sandbox');
    // 4 sandboxes after each of the 3 boots, each stopped and removed at the first try.
    expect(removed.map((e) => e.kind === 'op' && e.result)).toEqual(Array(12).fill('ok'));
    expect(assertion(v, 'ip-headroom', 'true').evidence.map((e) => e.summary)).toContain('node-1/k8s-pod-network: 9 free of 13 (4 reserved)');
  });

  it('warns that v1.4.2 stage file key is ignored, and only there', () => {
    expect(cell('v1.4.2').warnings).toEqual(["stage 'reset container dhcp leases': key 'command' is not a yip key and was ignored"]);
    expect(cell('v1.4.1').warnings).toEqual([]);
    expect(cell('v1.4.3').warnings).toEqual([]);
  });

  it('v1.4.3 clears the state at boot, so every check holds even with a forgetful kubelet', () => {
    expect(cell('v1.4.3').assertions.every((a) => a.status === 'pass')).toBe(true);
    expect(assertion('v1.4.3', 'ip-headroom').evidence.map((e) => e.summary)).toContain('node-1/k8s-pod-network: 9 free of 13 (4 reserved)');
  });

  it('shows the evidence, the warning, the substitution and the runtime in the Markdown summary', async () => {
    const md = await readFile(path.join(run.outDir, 'summary.md'), 'utf8');
    expect(md).toContain('/var/lib/cni/networks/k8s-pod-network/10.52.0.2');
    expect(md).toContain("key 'command' is not a yip key and was ignored");
    expect(md).toContain('no IP addresses available in range set');
    expect(md).toMatch(/calico → bridge/);
  });

  it.each(['v1.4.1', 'v1.4.2'])("reads %s's twelve leaked files as one table in the summary and the HTML", async (v) => {
    const id = cell(v).id;
    const md = await readFile(path.join(run.outDir, 'summary.md'), 'utf8');
    const section = md.slice(md.indexOf(`xfail ${id.replace(/[[\]]/g, (ch) => `\\${ch}`)}`));
    const leaks = section.slice(section.indexOf('**FAIL** `no-leaked-reservations` (end), 12 items:'));
    const table = leaks.split('\n\n')[1]!.split('\n');
    expect(table[0]).toBe('| node | file or device | owner | detail |');
    expect(table.slice(2)).toHaveLength(12);
    for (const row of table.slice(2)) expect(row).toMatch(/^\| node-1 \| `\/var\/lib\/cni\/networks\/k8s-pod-network\/10\.52\.0\.\d+` \| `[0-9a-f]{12}\/eth0` \| not a live attachment \|$/);
    const html = await readFile(path.join(run.outDir, 'report.html'), 'utf8');
    const htmlCell = html.slice(html.indexOf(`${id}</h2>`), html.indexOf('</section>', html.indexOf(`${id}</h2>`)));
    const leakTable = htmlCell.slice(htmlCell.indexOf('<code>no-leaked-reservations</code>')).match(/<table class="evidence">.*?<\/table>/)![0];
    expect(leakTable.match(/<tr>/g)).toHaveLength(13);
  });

  it('leaves nothing behind and never touches the host CNI dirs', async () => {
    await expectNothingLeft(run);
  });
});
