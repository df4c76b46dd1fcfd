// The model earns trust by agreeing with the real thing: every scenario cell that runs on a real
// containerd also runs on faultline's libcni model of the same libcni generation (containerd-1.6 ↔
// libcni-1.1, containerd-2.1 ↔ libcni-1.3, per profiles/runtime/containerd/*.yaml), and both must
// give the same verdict for every assertion. A difference is a bug of the model (fix it) or a limit
// documented in the model's runtime profile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadScenarios } from '../harness/scenario/load.ts';
import { planCells, type CellPlan } from '../harness/runner/cell.ts';
import { runCells } from '../harness/runner/run.ts';
import { containerdReleaseNames, loadContainerdRelease } from '../harness/components/containerd.ts';
import type { CellReport } from '../harness/model/report.ts';
import { registryEnv } from '../testing/run-env.ts';
import { useTempStateDir } from '../testing/host.ts';
import { REPO_ROOT } from '../harness/version.ts';

/** Each real-runtime cell of the scenarios, and its twin on the model of the same libcni generation. */
async function pairs(): Promise<{ real: CellPlan; model: CellPlan }[]> {
  const scenarios = await loadScenarios([path.join(REPO_ROOT, 'scenarios')]);
  const out: { real: CellPlan; model: CellPlan }[] = [];
  for (const plan of planCells(scenarios)) {
    const runtime = plan.stack.runtime;
    // The releases faultline provisions (containerd-dir: and containerd-go: builds have no release
    // data naming their model; the upstream suite's go: matrices are for bisecting, not for this).
    if (!runtime || !containerdReleaseNames().includes(runtime) || plan.backend !== 'local' || plan.scenario.suites.includes('upstream')) continue;
    const { model } = await loadContainerdRelease(runtime);
    out.push({ real: plan, model: { ...plan, id: `${plan.id} (model ${model})`, stack: { ...plan.stack, runtime: model } } });
  }
  return out.map((p, i) => ({ real: { ...p.real, index: 2 * i }, model: { ...p.model, index: 2 * i + 1 } }));
}

describe('the libcni model agrees with the real containerd of the same libcni generation', () => {
  let state: { restore: () => Promise<void> };
  let out: string;
  let cases: { real: CellPlan; model: CellPlan }[] = [];
  const reports = new Map<string, CellReport>();

  beforeAll(async () => {
    state = await useTempStateDir();
    out = await mkdtemp(path.join(os.tmpdir(), 'fl-conformance-'));
    cases = await pairs();
    const report = await runCells({ cells: cases.flatMap((c) => [c.real, c.model]), jobs: 2, out, reporters: [], signal: new AbortController().signal, seed: 11, ...registryEnv() });
    for (const c of report.cells) reports.set(c.id, c);
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
    await state?.restore();
  });

  it('covers the scenarios that run on both (those of the default suite, and the bug reproductions of the reproduce suite)', () => {
    expect([...new Set(cases.map((c) => c.real.scenario.name))].sort()).toEqual([
      'bandwidth-ifb-left-by-failed-del', 'fifty-pods-at-once', 'harvester-hard-reboot-ip-leak', 'host-local-empty-reservation',
      'libcni-empty-cache-del', 'libcni-empty-cache-del-0-3-1', 'netns-gone-before-del', 'power-cut-lost-cache',
    ]);
    expect(cases.length).toBe(23);
  });

  it('gives the same verdict for every assertion of every cell, and the same outcome', () => {
    const differences: string[] = [];
    for (const { real, model } of cases) {
      const r = reports.get(real.id)!;
      const m = reports.get(model.id)!;
      expect(r.error, `${real.id}: ${r.error?.message}`).toBeUndefined();
      expect(m.error, `${model.id}: ${m.error?.message}`).toBeUndefined();
      const verdicts = (c: CellReport) => Object.fromEntries(c.assertions.map((a) => [`${a.phase}:${a.name}`, a.status]));
      const rv = verdicts(r);
      const mv = verdicts(m);
      for (const k of new Set([...Object.keys(rv), ...Object.keys(mv)])) {
        if (rv[k] !== mv[k]) differences.push(`${real.id}: ${k} is ${rv[k]} on ${real.stack.runtime} but ${mv[k]} on ${model.stack.runtime}`);
      }
      if (r.outcome !== m.outcome) differences.push(`${real.id}: outcome ${r.outcome} on ${real.stack.runtime}, ${m.outcome} on ${model.stack.runtime}`);
    }
    expect(differences).toEqual([]);
  });
});
