// End to end on real namespaces: the Harvester leak reproduces on v1.4.1 and v1.4.2 for the right
// reason and v1.4.3 holds; the host is untouched and nothing is left behind.
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { scenarioRun, expectNothingLeft } from '../testing/scenario-run.ts';

describe('scenario harvester-hard-reboot-ip-leak', () => {
  const run = scenarioRun(['scenarios/harvester-hard-reboot-ip-leak.yaml']);

  const cell = (v: string) => run.report.cells.find((c) => c.matrix.harvester === v)!;
  const assertion = (v: string, name: string) => cell(v).assertions.find((a) => a.name === name && a.phase === 'end')!;

  it('exits 0 with every cell as expected', () => {
    expect(run.output).toMatch(/All 3 cells as expected \(1 passed, 2 xfail\)/);
    expect(run.exitCode).toBe(0);
    expect(run.report.cells.map((c) => [c.matrix.harvester, c.outcome])).toEqual([['v1.4.1', 'xfail'], ['v1.4.2', 'xfail'], ['v1.4.3', 'passed']]);
  });

  it.each(['v1.4.1', 'v1.4.2'])('%s leaks host-local files of dead sandboxes until the range is exhausted', (v) => {
    const leaked = assertion(v, 'no-leaked-reservations');
    expect(leaked.status).toBe('fail');
    // 3 power cuts x 4 pods: the first 12 addresses belong to sandboxes that died.
    expect(leaked.evidence).toHaveLength(12);
    expect(leaked.evidence[0]!.file).toMatch(/^\/var\/lib\/cni\/networks\/k8s-pod-network\/10\.52\.0\.\d+$/);
    const running = assertion(v, 'pods-running');
    expect(running.status).toBe('fail');
    expect(running.evidence.map((e) => e.error)).toContainEqual(expect.stringContaining('failed to allocate for range 0: no IP addresses available in range set: 10.52.0.1-10.52.0.14'));
    expect(assertion(v, 'ip-headroom').evidence[0]!.summary).toMatch(/node-1\/k8s-pod-network: 0 free of 13/);
    expect(assertion(v, 'stale-state-cleared-on-boot').evidence[0]!.summary).toMatch(/predates the boot/);
    // Kernel objects died with the node: no orphan veth is the leak's cause.
    expect(assertion(v, 'no-orphan-devices').status).toBe('pass');
  });

  it('warns that v1.4.2 stage file key is ignored, and only there', () => {
    expect(cell('v1.4.2').warnings).toEqual(["stage 'reset container dhcp leases': key 'command' is not a yip key and was ignored"]);
    expect(cell('v1.4.1').warnings).toEqual([]);
    expect(cell('v1.4.3').warnings).toEqual([]);
  });

  it('v1.4.3 clears the state at boot, so every check holds', () => {
    expect(cell('v1.4.3').assertions.every((a) => a.status === 'pass')).toBe(true);
    expect(assertion('v1.4.3', 'ip-headroom').evidence.map((e) => e.summary)).toContain('node-1/k8s-pod-network: 9 free of 13 (4 reserved)');
  });

  it('shows the evidence, the warning and the substitution in the Markdown summary', async () => {
    const md = await readFile(path.join(run.outDir, 'summary.md'), 'utf8');
    expect(md).toContain('/var/lib/cni/networks/k8s-pod-network/10.52.0.2');
    expect(md).toContain("key 'command' is not a yip key and was ignored");
    expect(md).toContain('no IP addresses available in range set');
    expect(md).toMatch(/calico → bridge/);
  });

  it('leaves nothing behind and never touches the host CNI dirs', async () => {
    await expectNothingLeft(run);
  });
});
