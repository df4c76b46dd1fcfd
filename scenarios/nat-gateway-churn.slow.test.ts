// End to end through the real CLI on real namespaces: NAT-gateway churn with the default network's
// definition removed mid-churn. definition-at-del leaks (xfail, with the first accounting violation
// and the leaked external reservations as evidence), cached-delegates releases everything (passed);
// one seed gives one schedule, in both cells and in a second run; --shrink writes a small scenario
// that fails the same way on its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { scenarioRun, expectNothingLeft } from '../testing/scenario-run.ts';
import { faultline, tempDir } from '../testing/cli.ts';
import type { CellReport, RunReport } from '../harness/model/report.ts';
import type { TimelineEntry } from '../harness/model/timeline.ts';

const SEED = '4747';
type Op = Extract<TimelineEntry, { kind: 'op' }>;

/** The churn's schedule as run: (index, slot, kind) in schedule order. */
function schedule(c: CellReport): string[] {
  return c.timeline
    .filter((e): e is Op => e.kind === 'op' && e.node !== 'cluster' && typeof (e.detail as { churn?: unknown } | undefined)?.churn === 'number')
    .map((e) => e.detail as { churn: number; slot: number; kind: string })
    .sort((a, b) => a.churn - b.churn)
    .map((d) => `${d.churn}:${d.slot}:${d.kind}`);
}

describe('scenario nat-gateway-churn', () => {
  const run = scenarioRun(['scenarios/nat-gateway-churn.yaml', '--seed', SEED]);

  const cell = (d: string): CellReport => run.report.cells.find((c) => c.matrix.delegation === d)!;
  const result = (d: string, name: string, phase: 'during' | 'end') => cell(d).assertions.find((a) => a.name === name && a.phase === phase)!;

  it('definition-at-del is xfail, cached-delegates passed, exit 0; the report states the seed', () => {
    expect(run.exitCode, run.output).toBe(0);
    expect(run.report.cells.map((c) => [c.matrix.delegation, c.outcome])).toEqual([['definition-at-del', 'xfail'], ['cached-delegates', 'passed']]);
    for (const c of run.report.cells) {
      expect(c.seed).toBe(Number(SEED));
      const step = c.timeline.find((e) => e.kind === 'step' && e.step === 'churn');
      expect(step?.kind === 'step' && step.detail).toMatch(new RegExp(`^200 op\\(s\\) .* seed ${SEED}; invariants after every op \\(\\d+ checks`));
    }
  });

  it('definition-at-del: the first accounting violation follows the first delete after the removal, whose teardown stopped', () => {
    const c = cell('definition-at-del');
    const acc = result('definition-at-del', 'reservation-accounting', 'during');
    expect(acc.status).toBe('fail');
    const first = acc.evidence[0]!;
    expect(first.summary).toMatch(/^first violated after: churn op (\d+): delete gw-n\d-\d(-c\d+)? on node-\d \(failed\)$/);
    expect(Number(/churn op (\d+)/.exec(first.summary)![1])).toBeGreaterThan(80);
    const op = c.timeline[first.entry as number] as Op;
    expect(op).toMatchObject({ kind: 'op', op: 'del', result: 'error' });
    expect(op.error).toContain('teardown stopped: definition of network "vpc-subnet" not found');
    // The removal is in the timeline between op 80 and op 81.
    const removal = c.timeline.find((e) => e.kind === 'op' && e.op === 'remove-network') as Op;
    expect(removal).toMatchObject({ node: 'cluster', result: 'ok', detail: { churn: 80, network: 'vpc-subnet' } });
    // The leaked addresses are named, with the pod and its error.
    expect(acc.evidence.some((e) => /\/external: 172\.31\.250\.\d+ reserved by [0-9a-f]{12}\/(net1|eip0), which is not a live attachment: pod gw-n\d-\d.* \(terminating: teardown stopped/.test(e.summary))).toBe(true);
  });

  it('definition-at-del: external reservations (net1 and the elastic address) leaked; restoring the definition released nothing', () => {
    const leaked = result('definition-at-del', 'no-leaked-external-reservations', 'end');
    expect(leaked.status).toBe('fail');
    const files = leaked.evidence.map((e) => e.file as string);
    expect(files.every((f) => /^\/var\/lib\/cni\/networks\/external\/172\.31\.250\.\d+$/.test(f))).toBe(true);
    expect(leaked.evidence.some((e) => e.ifName === 'net1')).toBe(true);
    expect(leaked.evidence.some((e) => e.ifName === 'eip0')).toBe(true);
    expect(cell('definition-at-del').timeline.some((e) => e.kind === 'op' && e.op === 'restore-network' && e.result === 'ok')).toBe(true);
  });

  it('cached-delegates: deletes after the removal succeed and every check holds', () => {
    const c = cell('cached-delegates');
    for (const a of c.assertions) expect(a.status, `${a.name}: ${a.evidence.map((e) => e.summary).join('; ')}`).toBe('pass');
    const delsInWindow = c.timeline.filter((e): e is Op => e.kind === 'op' && e.op === 'del' && ((e.detail as { churn: number }).churn ?? -1) >= 80 && (e.detail as { churn: number }).churn < 140);
    expect(delsInWindow.length).toBeGreaterThan(0);
    expect(delsInWindow.filter((e) => e.error?.includes('teardown stopped'))).toEqual([]);
  });

  it('one seed, one schedule: both cells ran the same operations in the same order', () => {
    const a = schedule(cell('definition-at-del'));
    expect(a).toHaveLength(200);
    expect(schedule(cell('cached-delegates'))).toEqual(a);
  });

  it('keeps changes, not copies: full observations at boot and after the step, deltas in between', () => {
    for (const c of run.report.cells) {
      const obs = c.timeline.filter((e) => e.kind.startsWith('observation'));
      expect(obs.filter((e) => e.kind === 'observation').map((e) => (e as { after: string }).after)).toEqual(['boot', 'step 1: churn']);
      expect(obs.length).toBeGreaterThan(100); // an accounting observation per check
      expect(obs.at(-1)!.kind).toBe('observation');
    }
  });

  it('leaves nothing behind and never touches the host CNI dirs', async () => {
    await expectNothingLeft(run);
  });

  describe('--shrink', () => {
    let out2: { dir: string; cleanup: () => Promise<void> };
    let shrinkOutput: string;
    let shrinkExit: number | undefined;
    let second: RunReport;
    beforeAll(async () => {
      out2 = await tempDir('fl-ngc-shrink-');
      const r = await faultline(['run', 'scenarios/nat-gateway-churn.yaml', '--only', 'delegation=definition-at-del', '--seed', SEED, '--shrink', '--out', out2.dir], { FAULTLINE_STATE_DIR: run.stateDir });
      shrinkExit = r.exitCode;
      shrinkOutput = r.all ?? '';
      second = JSON.parse(await readFile(path.join(out2.dir, 'report.json'), 'utf8'));
    });
    afterAll(async () => {
      await out2?.cleanup();
    });

    it('the same --seed replays the same schedule in another run', () => {
      expect(schedule(second.cells[0]!)).toEqual(schedule(cell('definition-at-del')));
    });

    it('writes a small scenario, says how many runs it took, and the file fails the same way on its own', async () => {
      expect(shrinkExit, shrinkOutput).toBe(0);
      const [s] = JSON.parse(await readFile(path.join(out2.dir, 'shrunk', 'shrink.json'), 'utf8'));
      expect(s).toMatchObject({ target: 'reservation-accounting', from: { ops: 200, concurrency: 4 }, verified: true });
      expect(s.to.ops).toBeLessThanOrEqual(10);
      expect(shrinkOutput).toMatch(new RegExp(`200 ops at concurrency 4 -> ${s.to.ops} op\\(s\\) at concurrency ${s.to.concurrency}, still failing reservation-accounting; ${s.searchRuns} search run\\(s\\)`));
      const alone = await faultline(['run', s.file, '--out', path.join(out2.dir, 'alone')], { FAULTLINE_STATE_DIR: run.stateDir });
      expect(alone.exitCode, alone.all).toBe(0);
      const r: RunReport = JSON.parse(await readFile(path.join(out2.dir, 'alone', 'report.json'), 'utf8'));
      expect(r.cells.map((c) => c.outcome)).toEqual(['xfail']);
      const acc = r.cells[0]!.assertions.find((a) => a.name === 'reservation-accounting')!;
      expect(acc.status).toBe('fail');
      expect(acc.evidence.map((e) => e.summary).join('\n')).toContain('teardown stopped: definition of network "vpc-subnet" not found');
    });
  });
});
