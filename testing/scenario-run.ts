// One real `faultline run` per scenario test file: run once before the tests, read the report, clean
// up after. The tests then judge outcomes, evidence and leftovers.
import { afterAll, beforeAll, expect } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { faultline, processesOfRun, tempDir } from './cli.ts';
import { type HostSnapshot, hostLeftovers, hostSnapshot, marksOfReport } from './host.ts';
import type { CellReport, RunReport } from '../harness/model/report.ts';
import { assertValidReport } from './report-schema.ts';

export interface ScenarioRun {
  report: RunReport;
  exitCode: number | undefined;
  /** stdout and stderr of the CLI, interleaved. */
  output: string;
  outDir: string;
  stateDir: string;
  /** The host's CNI dirs and netns list before the run (see hostSnapshot). */
  hostBefore: HostSnapshot;
  /** The cell of `scenario` whose matrix has these values. */
  cell(matrix: Record<string, string>, scenario?: string): CellReport;
}

/** Registers beforeAll/afterAll for `faultline run <args> --out <tmp>` with its own state dir. */
export function scenarioRun(args: string[]): ScenarioRun {
  const run = {} as ScenarioRun;
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    const out = await tempDir('fl-scenario-out-');
    const state = await tempDir('fl-scenario-state-');
    cleanups.push(out.cleanup, state.cleanup);
    run.outDir = out.dir;
    run.stateDir = state.dir;
    run.hostBefore = await hostSnapshot();
    const r = await faultline(['run', ...args, '--out', out.dir], { FAULTLINE_STATE_DIR: state.dir });
    run.exitCode = r.exitCode;
    run.output = r.all ?? '';
    run.report = JSON.parse(await readFile(path.join(out.dir, 'report.json'), 'utf8'));
    // Every report a real run writes keeps the published interface.
    assertValidReport(run.report, `report.json of faultline run ${args.join(' ')}`);
    run.cell = (matrix, scenario) => {
      const c = run.report.cells.find((x) => (!scenario || x.scenario === scenario) && Object.entries(matrix).every(([k, v]) => x.matrix[k] === v));
      if (!c) throw new Error(`no cell ${scenario ?? ''} ${JSON.stringify(matrix)} in ${run.report.cells.map((x) => x.id).join(', ')}`);
      return c;
    };
  });
  afterAll(async () => {
    for (const c of cleanups) await c();
  });
  return run;
}

/**
 * The run left nothing: nothing in the host's CNI dirs or netns carries its id, container ids or netns
 * names; no process inside its nodes; no run dir.
 */
export async function expectNothingLeft(run: ScenarioRun): Promise<void> {
  const marks = marksOfReport(run.report);
  expect(marks, 'the report names the run and its sandboxes').toContain(run.report.runId);
  expect(hostLeftovers(run.hostBefore, await hostSnapshot(), marks)).toEqual([]);
  expect(processesOfRun(run.report.runId)).toEqual([]);
  expect(await readdir(path.join(run.stateDir, 'runs')).catch(() => [])).toEqual([]);
}
