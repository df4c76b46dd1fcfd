// End to end through the real CLI: Multus v4.0.2 and v4.1.0 built from upstream source, the real thin
// entrypoint on a node without an API server, restarted as its pod is. v4.0.2 nests its own
// 00-multus.conf after a SIGKILL (the real file is the evidence); v4.1.0 does not. Two variants in
// temp files: a master of cniVersion 1.0.0 (the entrypoint writes 00-multus.conflist) restarted by
// SIGKILL then SIGTERM, and v4.1.0's --cleanup-config-on-exit removing its file on SIGTERM.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { scenarioRun, expectNothingLeft } from '../testing/scenario-run.ts';
import { goProxySkipReason, titled } from '../testing/network.ts';
import type { CellReport } from '../harness/model/report.ts';
import type { TimelineEntry } from '../harness/model/timeline.ts';

const offline = await goProxySkipReason('multus-self-nesting', { multus: ['v4.0.2', 'v4.1.0'] });

// The modules' go.sum hashes (the source itself; binaries depend on the Go version).
const SUMS = { 'v4.0.2': 'h1:71L/o4mHzVZit0yaIHkOBaEO1fj0lucarJCmhuPCsOA=', 'v4.1.0': 'h1:NXTa5NYhbsmQwhtUdSUuT8cwm48wCNpd1SXHSzgg7XI=' };
const levels = (text: string) => (text.match(/"type": ?"multus"/g) ?? []).length;
const ops = (c: CellReport, op: string) => c.timeline.filter((e): e is Extract<TimelineEntry, { kind: 'op' }> => e.kind === 'op' && e.op === op);
const steps = (c: CellReport) => c.timeline.flatMap((e) => (e.kind === 'step' ? [e.detail] : []));

const dir = await mkdtemp(path.join(os.tmpdir(), 'fl-multus-variants-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const variant = (name: string, body: string) => {
  const file = path.join(dir, `${name}.yaml`);
  return writeFile(file, `name: ${name}\ndescription: a variant of multus-self-nesting\n${body}`).then(() => file);
};
const conflist = await variant(
  'multus-conflist',
  `matrix:\n  multus: [v4.0.2, v4.1.0]\nexpect:\n  - when: { multus: v4.0.2 }\n    outcome: fail\n    failing: [config-not-nested]\ncluster:\n  nodes: 1\n  podCIDR: 10.88.0.0/16\n  stack: { profile: lab/bridge-portmap, cniVersion: 1.0.0, multus: "go:\${multus}" }\nsteps:\n  - restart-daemon: { node: node-1, daemon: multus, signal: KILL }\n  - restart-daemon: { node: node-1, daemon: multus, signal: TERM, graceMs: 10000 }\nassertions:\n  - config-not-nested: {}\n`,
);
const cleanup = await variant(
  'multus-cleanup',
  `cluster:\n  nodes: 1\n  podCIDR: 10.88.0.0/16\n  stack: { profile: lab/bridge-portmap, cniVersion: 0.4.0, multus: v4.1.0, multusCleanupOnExit: true }\nsteps:\n  - restart-daemon: { node: node-1, daemon: multus, signal: TERM }\nassertions:\n  - config-not-nested: {}\n`,
);

describe.skipIf(offline)(titled('scenario multus-self-nesting (Multus built from source, real thin entrypoint)', offline), () => {
  const run = scenarioRun(['scenarios/multus-self-nesting.yaml']);

  it('exits 0: v4.0.2 nests itself (xfail), v4.1.0 passes', () => {
    expect(run.exitCode, run.output).toBe(0);
    expect(run.report.cells.map((c) => [c.matrix.multus, c.outcome])).toEqual([['v4.0.2', 'xfail'], ['v4.1.0', 'passed']]);
  });

  it("v4.0.2: the real 00-multus.conf, written by the restarted entrypoint, delegates to multus (two levels)", async () => {
    const c = run.cell({ multus: 'v4.0.2' });
    const a = c.assertions.find((x) => x.name === 'config-not-nested')!;
    expect(a.status).toBe('fail');
    const e = a.evidence[0]!;
    expect(e).toMatchObject({ node: 'node-1', file: '/etc/cni/net.d/00-multus.conf', multusDepth: 2 });
    const text = String(e.content);
    expect(levels(text)).toBe(2);
    const doc = JSON.parse(text) as { type: string; delegates: { type: string; delegates: { name: string }[] }[] };
    expect(doc.delegates[0]!.type).toBe('multus');
    expect(doc.delegates[0]!.delegates[0]!.name).toBe('lab-net');
    // the same bytes as the node's file, kept in the cell's artifacts
    expect(await readFile(path.join(run.outDir, c.artifacts[0]!, 'node-1', 'etc', 'cni', 'net.d', '00-multus.conf'), 'utf8')).toBe(text);
    expect(steps(c)[0]).toMatch(/^node-1: multus v4\.0\.2 SIGKILL -> killed by SIGKILL, left \/etc\/cni\/net\.d\/00-multus\.conf; started again/);
  });

  it('v4.1.0: one level again after the same restart', () => {
    const c = run.cell({ multus: 'v4.1.0' });
    expect(c.assertions[0]).toMatchObject({ name: 'config-not-nested', status: 'pass' });
    expect(c.assertions[0]!.evidence[0]!.summary).toBe('node-1: /etc/cni/net.d/00-multus.conf has one level of multus, delegating to lab-net (10-lab.conflist)');
  });

  it('records each Multus build: module version, go.sum hash, Go version, every binary; runs it on node paths only', () => {
    for (const v of ['v4.0.2', 'v4.1.0'] as const) {
      const c = run.cell({ multus: v });
      expect(c.stack.multus).toMatchObject({ version: v, source: `go:gopkg.in/k8snetworkplumbingwg/multus-cni.v4@${v}`, build: { module: 'gopkg.in/k8snetworkplumbingwg/multus-cni.v4', version: v, sum: SUMS[v] } });
      expect(c.stack.multus!.build!.go).toMatch(/^go\d/);
      expect(Object.keys(c.stack.multus!.sha256).sort()).toEqual(['install_multus', 'multus', 'thin_entrypoint']);
      const args = ops(c, 'multus start')[0]!.detail!.args as string[];
      expect(args).toContain('--multus-conf-file=auto');
      expect(args.join(' ')).not.toMatch(/\/host\b/);
      expect(args.some((x) => x.startsWith('--multus-cni-conf-dir='))).toBe(v === 'v4.1.0');
    }
  });

  it('leaves nothing behind and never touches the host CNI dirs', async () => {
    await expectNothingLeft(run);
  });
});

describe.skipIf(offline)(titled('Multus restarts: a .conflist master, SIGTERM, --cleanup-config-on-exit', offline), () => {
  const run = scenarioRun([conflist, cleanup]);

  it('exits 0 with every cell as expected', () => {
    expect(run.exitCode, run.output).toBe(0);
    expect(run.report.cells.map((c) => [c.id, c.outcome])).toEqual([
      ['multus-conflist[multus=v4.0.2]', 'xfail'],
      ['multus-conflist[multus=v4.1.0]', 'passed'],
      ['multus-cleanup', 'passed'],
    ]);
  });

  it('v4.0.2 with a 1.0.0 master: 00-multus.conflist nests once per restart; SIGTERM kills it (no handler) and leaves the file', () => {
    const c = run.cell({ multus: 'v4.0.2' }, 'multus-conflist');
    const e = c.assertions[0]!.evidence[0]!;
    expect(e).toMatchObject({ file: '/etc/cni/net.d/00-multus.conflist', multusDepth: 3 });
    expect(levels(String(e.content))).toBe(3);
    expect(steps(c)[1]).toMatch(/SIGTERM -> killed by SIGTERM, left \/etc\/cni\/net\.d\/00-multus\.conflist/);
  });

  it('v4.1.0: exits 0 on SIGTERM without the flag, leaving its file, and regenerates one level', () => {
    const c = run.cell({ multus: 'v4.1.0' }, 'multus-conflist');
    expect(steps(c)[1]).toMatch(/SIGTERM -> exit code 0, left \/etc\/cni\/net\.d\/00-multus\.conflist/);
    expect(c.assertions[0]).toMatchObject({ status: 'pass' });
  });

  it('v4.1.0 with --cleanup-config-on-exit removes its file on SIGTERM', () => {
    const c = run.cell({}, 'multus-cleanup');
    expect(ops(c, 'multus start')[0]!.detail!.args).toContain('--cleanup-config-on-exit');
    expect(ops(c, 'daemon stop')[0]!.detail).toMatchObject({ signal: 'TERM', exit: 'exit code 0', left: [] });
    expect(steps(c)[0]).toContain('left no config; started again, wrote /etc/cni/net.d/00-multus.conf');
  });

  it('leaves nothing behind', async () => {
    await expectNothingLeft(run);
  });
});
