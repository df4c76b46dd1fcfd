// The container backend gives the local backend's verdicts: the default suite (`faultline run scenarios
// --suite default`) and the faults the suite does not use (testdata/parity: corrupt-file,
// crash-during-add, kill-runtime, restart-runtime) run on both, and every cell's outcome and every
// assertion's status are the same. Neither run leaves anything in the host's CNI dirs or iptables.
// Slow: the whole suite twice (a few minutes on two cores).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { faultline, tempDir } from '../../../testing/cli.ts';
import { type HostSnapshot, hostLeftovers, hostSnapshot, marksOfReport } from '../../../testing/host.ts';
import { containerSkipReason, hostIptables, iptablesLeftovers } from '../../../testing/container.ts';
import { titled } from '../../../testing/network.ts';
import type { CellReport, RunReport } from '../../model/report.ts';

const PARITY = 'harness/backends/container/testdata/parity';
const SUITE_MS = 15 * 60_000;

const skip = await containerSkipReason('the backend parity test');

/** What must agree between backends: the outcome, each assertion's status, the error's kind. */
function verdicts(cell: CellReport) {
  return {
    outcome: cell.outcome,
    assertions: Object.fromEntries(cell.assertions.map((a) => [`${a.phase}:${a.name}`, a.status])),
    error: cell.error?.code,
  };
}

describe.skipIf(skip)(titled('the container backend against the local backend', skip), () => {
  const reports: Record<string, RunReport[]> = { local: [], container: [] };
  const cleanups: (() => Promise<void>)[] = [];
  let hostBefore: HostSnapshot;
  let iptablesBefore: string[];

  async function run(backend: string, args: string[]): Promise<RunReport> {
    const out = await tempDir(`fl-parity-${backend}-`);
    const state = await tempDir(`fl-parity-state-${backend}-`);
    cleanups.push(out.cleanup, state.cleanup);
    const r = await faultline(['run', ...args, '--backend', backend, '--out', out.dir, '--reporter', 'json'], { FAULTLINE_STATE_DIR: state.dir });
    expect(r.exitCode, r.all).toBe(0);
    return JSON.parse(await readFile(path.join(out.dir, 'report.json'), 'utf8')) as RunReport;
  }

  beforeAll(async () => {
    hostBefore = await hostSnapshot();
    iptablesBefore = await hostIptables();
    // One backend after the other: each run gets the machine as the other did.
    for (const backend of ['local', 'container']) {
      reports[backend]!.push(await run(backend, ['scenarios', '--suite', 'default']));
      reports[backend]!.push(await run(backend, [PARITY]));
    }
  }, 2 * 2 * SUITE_MS);

  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it.each([
    ['the default suite', 0],
    ['the faults outside the suite', 1],
  ])('%s: every cell gives the same verdicts on both backends, all as expected', (_what, i) => {
    const local = reports.local![i]!;
    const container = reports.container![i]!;
    expect(container.cells.map((c) => c.id)).toEqual(local.cells.map((c) => c.id));
    expect(local.cells.length).toBeGreaterThan(0);
    for (const c of local.cells) {
      const other = container.cells.find((x) => x.id === c.id)!;
      expect(verdicts(other), c.id).toEqual(verdicts(c));
    }
    expect(container.summary.asExpected).toBe(true);
    expect(local.summary.asExpected).toBe(true);
  });

  it('leaves nothing in the host CNI dirs or iptables', async () => {
    const marks = [...reports.local!, ...reports.container!].flatMap((r) => marksOfReport(r));
    expect(hostLeftovers(hostBefore, await hostSnapshot(), marks)).toEqual([]);
    expect(iptablesLeftovers(iptablesBefore, await hostIptables(), marks)).toEqual([]);
  });
});
