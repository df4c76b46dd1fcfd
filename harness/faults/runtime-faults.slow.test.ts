// The runtime's own faults on both runtimes, for real: kill-runtime (containerd and its shims die, the
// node stays up, kubelet reconciles when it comes back), restart-runtime (sandboxes live on), and a
// power cut that loses unsynced writes (the seeded files come back empty, kubelet's Stop fails on them).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseScenario } from '../scenario/load.ts';
import { planCells } from '../runner/cell.ts';
import { runCells } from '../runner/run.ts';
import type { CellReport } from '../model/report.ts';
import { registryEnv } from '../../testing/run-env.ts';
import { useTempStateDir } from '../../testing/host.ts';

const scenario = (name: string, steps: string, assertions: string) => `
name: ${name}
description: test
matrix:
  runtime: [libcni-1.1, containerd-1.6]
cluster:
  nodes: 1
  podCIDR: 10.88.0.0/16
  stack: { profile: lab/bridge-portmap, runtime: '\${runtime}', cni: '1.1.1', cniVersion: 1.0.0 }
workload: [{ name: web, replicasPerNode: 2 }]
steps:
${steps}
assertions:
${assertions}
`;

const CASES = {
  'kill-runtime': scenario('kill-runtime', '  - kill-runtime: { node: node-1 }', '  - pods-running: {}\n  - sandboxes-reconciled: {}\n  - no-leaked-reservations: {}'),
  'restart-runtime': scenario('restart-runtime', '  - restart-runtime: { node: node-1 }', '  - pods-running: {}\n  - sandboxes-reconciled: {}\n  - no-leaked-reservations: {}'),
  'lost-writes': scenario('lost-writes', "  - hard-reboot: { node: node-1, lostWrites: { paths: ['/var/lib/cni/results/lab-net-*'], windowMs: 600000, fraction: 1 } }", '  - sandboxes-reconciled: {}\n  - cache-valid: {}\n  - pods-running: {}'),
};

describe('runtime faults on the model and on containerd 1.6', () => {
  let state: { restore: () => Promise<void> };
  let out: string;
  const cells = new Map<string, CellReport>();
  beforeAll(async () => {
    state = await useTempStateDir();
    out = await mkdtemp(path.join(os.tmpdir(), 'fl-runtime-faults-'));
    const plans = planCells(Object.entries(CASES).map(([n, text]) => parseScenario(text, `/virtual/${n}.yaml`)));
    const report = await runCells({ cells: plans, jobs: 2, out, reporters: [], signal: new AbortController().signal, seed: 5, ...registryEnv() });
    for (const c of report.cells) cells.set(c.id, c);
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
    await state?.restore();
  });

  const cell = (name: string, runtime: string) => cells.get(`${name}[runtime=${runtime}]`)!;
  const statuses = (c: CellReport) => Object.fromEntries(c.assertions.map((a) => [a.name, a.status]));
  const sandboxIds = (c: CellReport, after: string) => {
    const o = c.timeline.find((e) => e.kind === 'observation' && e.after === after);
    return o?.kind === 'observation' ? (o.nodes[0]!.sandboxes ?? []).map((s) => s.id).sort() : [];
  };

  it('kill-runtime: on containerd the pods come back in new sandboxes, the dead ones removed; on the model only memory is lost', () => {
    const real = cell('kill-runtime', 'containerd-1.6');
    expect(real.error?.message).toBeUndefined();
    expect(statuses(real)).toEqual({ 'pods-running': 'pass', 'sandboxes-reconciled': 'pass', 'no-leaked-reservations': 'pass' });
    const step = real.timeline.find((e) => e.kind === 'step');
    expect(step?.kind === 'step' && step.detail).toMatch(/^node-1: containerd 1\.6\.\S+ killed; containerd 1\.6\.\S+ back; kubelet removed 2 dead sandbox\(es\), started 2 pod\(s\)$/);
    const before = sandboxIds(real, 'boot');
    const after = sandboxIds(real, 'step 1: kill-runtime');
    expect(before).toHaveLength(2);
    expect(after).toHaveLength(2);
    expect(after.filter((id) => before.includes(id))).toEqual([]);
    const model = cell('kill-runtime', 'libcni-1.1');
    expect(statuses(model)).toEqual({ 'pods-running': 'pass', 'sandboxes-reconciled': 'pass', 'no-leaked-reservations': 'pass' });
    expect(sandboxIds(model, 'step 1: kill-runtime')).toEqual(sandboxIds(model, 'boot'));
  });

  it('restart-runtime: sandboxes live on through a clean restart', () => {
    for (const runtime of ['libcni-1.1', 'containerd-1.6']) {
      const c = cell('restart-runtime', runtime);
      expect(statuses(c), runtime).toEqual({ 'pods-running': 'pass', 'sandboxes-reconciled': 'pass', 'no-leaked-reservations': 'pass' });
      expect(sandboxIds(c, 'step 1: restart-runtime'), runtime).toEqual(sandboxIds(c, 'boot'));
      expect(sandboxIds(c, 'boot'), runtime).toHaveLength(2);
    }
  });

  it('lostWrites: every cache written before the cut comes back empty; libcni 1.1 then cannot stop the dead sandboxes, on both runtimes', () => {
    for (const runtime of ['libcni-1.1', 'containerd-1.6']) {
      const c = cell('lost-writes', runtime);
      const cut = c.timeline.find((e) => e.kind === 'op' && e.op === 'power-cut');
      const lost = cut?.kind === 'op' ? (cut.detail?.lostWrites as string[]) : [];
      expect(lost, runtime).toHaveLength(2);
      for (const f of lost) expect(f).toMatch(/^\/var\/lib\/cni\/results\/lab-net-[0-9a-f]{64}-eth0$/);
      expect(statuses(c), runtime).toEqual({ 'sandboxes-reconciled': 'fail', 'cache-valid': 'fail', 'pods-running': 'pass' });
      const stuck = c.assertions.find((a) => a.name === 'sandboxes-reconciled')!.evidence;
      expect(stuck, runtime).toHaveLength(2);
      for (const e of stuck) expect(e.error).toMatch(/failed to get network "lab-net" cached result: decoding version from network config: unexpected end of JSON input/);
      // kubelet tried each one 4 times.
      expect(c.timeline.filter((e) => e.kind === 'op' && e.op === 'remove-dead-sandbox' && e.result === 'error'), runtime).toHaveLength(8);
    }
  });
});
