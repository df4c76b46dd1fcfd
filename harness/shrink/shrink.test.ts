import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { registryEnv } from '../../testing/run-env.ts';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario, parseScenario } from '../scenario/load.ts';
import { planCells, type CellPlan } from '../runner/cell.ts';
import type { CellReport } from '../model/report.ts';
import type { Scenario } from '../model/scenario.ts';
import type { TimelineEntry } from '../model/timeline.ts';
import type { ChurnParams } from '../churn/params.ts';
import { executedSlots, shrinkCell, targetAssertion } from './shrink.ts';
import { planOps, seededSlots } from '../churn/schedule.ts';
import { REPO_ROOT } from '../version.ts';

const scenario = await loadScenario(path.join(REPO_ROOT, 'scenarios', 'nat-gateway-churn.yaml'));
const plan: CellPlan = planCells([scenario], { only: new Map([['delegation', new Set(['definition-at-del'])]]) })[0]!;
const SLOTS = 6;

/** The bug, as a predicate: a delete that starts after vpc-subnet was removed (and not restored) leaks. */
function leaks(sc: Scenario): boolean {
  const p = sc.steps.find((s) => s.kind === 'churn')!.params as ChurnParams;
  const ops = planOps(p.slots!, Array(SLOTS).fill(true));
  let removed = false;
  for (let i = 0; i <= ops.length; i++) {
    for (const e of p.events ?? []) if (e.afterOps === i) removed = e['remove-network'] ? true : e['restore-network'] ? false : removed;
    if (i < ops.length && removed && ops[i]!.kind === 'delete') return true;
  }
  return false;
}

/** A finished run of the original cell: 200 seeded operations, accounting violated after op 84. */
function originalReport(): CellReport {
  const slots = seededSlots(9, 200, SLOTS, 4);
  const timeline: TimelineEntry[] = slots.map((slot, i) => ({ at: i, kind: 'op', op: 'add', node: 'node-1', result: 'ok', durationMs: 1, detail: { churn: i, slot } }));
  timeline.push({ at: 300, kind: 'verdict', result: { name: 'reservation-accounting', phase: 'during', status: 'fail', evidence: [] } });
  return {
    id: plan.id, scenario: scenario.name, scenarioFile: scenario.file, matrix: plan.values, outcome: 'xfail', reason: '', asExpected: true,
    expected: { outcome: 'fail', failing: [] },
    assertions: [
      { name: 'reservation-accounting', phase: 'during', status: 'fail', firstViolationAt: 200, evidence: [{ summary: 'first violated after: churn op 84', entry: 83 }] },
      { name: 'no-leaked-external-reservations', phase: 'end', status: 'fail', evidence: [] },
    ],
    warnings: [], stack: { profile: '', cni: { version: '', source: '', dir: '', sha256: {} }, runtime: '', substitutions: [], conflistCniVersion: '' },
    seed: 9, durationMs: 1, timeline, artifacts: [],
  };
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('shrink (search logic, runs stubbed)', () => {
  it('reads the executed schedule and picks the earliest violated invariant', () => {
    const r = originalReport();
    expect(executedSlots(r)).toEqual(seededSlots(9, 200, SLOTS, 4));
    expect(targetAssertion(r)).toBe('reservation-accounting');
  });

  it('finds one delete after the removal, serial, and writes a scenario that loads and fails alone', async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'faultline-shrink-test-'));
    dirs.push(outDir);
    const seen: Scenario[] = [];
    const runCandidate = async (sc: Scenario) => {
      seen.push(sc);
      return { assertions: [{ name: 'reservation-accounting', phase: 'during', status: leaks(sc) ? 'fail' : 'pass', evidence: [] }] } as unknown as CellReport;
    };
    const r = await shrinkCell(plan, originalReport(), { outDir, seed: 9, signal: new AbortController().signal, runCandidate, env: registryEnv() });
    expect(r.skipped).toBeUndefined();
    expect(r).toMatchObject({ target: 'reservation-accounting', from: { ops: 200, concurrency: 4, events: 2 }, to: { ops: 1, concurrency: 1, events: 1 }, verified: true });
    expect(r.runs).toBe(seen.length);
    expect(r.runs).toBeLessThanOrEqual(20);
    // Every candidate keeps only the target check and the cell's values.
    for (const sc of seen) {
      expect(sc.invariants.map((i) => i.name)).toEqual(['reservation-accounting']);
      expect(sc.assertions).toEqual([]);
      expect(sc.cluster.stack.delegation).toBe('definition-at-del');
    }
    const text = await readFile(r.file!, 'utf8');
    expect(text).toContain('200 ops at concurrency 4 -> 1 at 1');
    const written = await loadScenario(r.file!);
    expect(written.matrix).toEqual({});
    expect(written.expect).toEqual([{ outcome: 'fail', failing: ['reservation-accounting'], reason: `shrunk from ${plan.id}` }]);
    const churn = written.steps[0]!.params as ChurnParams;
    expect(churn.slots).toHaveLength(1);
    expect(churn.events).toEqual([{ afterOps: 0, 'remove-network': { name: 'vpc-subnet' } }]);
    expect(leaks(written)).toBe(true);
  });

  it('keeps the original when nothing smaller fails, within the run budget', async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'faultline-shrink-test-'));
    dirs.push(outDir);
    const runCandidate = async () => ({ assertions: [{ name: 'reservation-accounting', status: 'pass', evidence: [] }] }) as unknown as CellReport;
    const r = await shrinkCell(plan, originalReport(), { outDir, seed: 9, signal: new AbortController().signal, runCandidate, maxRuns: 6, env: registryEnv() });
    expect(r.searchRuns).toBe(6);
    expect(r.to).toMatchObject({ ops: 200, concurrency: 4 });
    expect(r.verified).toBe(false);
  });

  it('skips cells without a churn step or without a failure', async () => {
    const sc = parseScenario('name: x\ndescription: d\ncluster: {stack: {profile: harvester/v1.4.3}}\n', path.join(REPO_ROOT, 'x.yaml'));
    const r = await shrinkCell(planCells([sc])[0]!, originalReport(), { outDir: tmpdir(), seed: 1, signal: new AbortController().signal, env: registryEnv() });
    expect(r.skipped).toBe('no churn step');
    const passed = { ...originalReport(), assertions: [] };
    expect((await shrinkCell(plan, passed, { outDir: tmpdir(), seed: 1, signal: new AbortController().signal, env: registryEnv() })).skipped).toBe('no assertion failed');
  });
});
