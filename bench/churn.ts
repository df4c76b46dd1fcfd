// The churn benchmark: 1000 operations at concurrency 8 on 2 nodes of NAT gateways
// (kubeovn/nat-gw-v1.12, cached-delegates), with the cheap invariants after every operation and with
// invariants off, as cells of one run, one after the other so they do not share the CPU, in the
// order on, off, off, on (two pairs by default) so that drift of the machine's load cancels out.
// Reports operations per second of each mode (total operations / total churn time), the invariants'
// cost, and the harness process's peak RSS. Targets: cost <= 15 %, RSS < 300 MB. Printed by
// `npm run bench`, never asserted in tests.
import { registryEnv } from '../testing/run-env.ts';
import path from 'node:path';
import os from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseScenario } from '../harness/scenario/load.ts';
import { runCells } from '../harness/runner/run.ts';
import { planCells, type CellPlan } from '../harness/runner/cell.ts';
import type { CellReport } from '../harness/model/report.ts';
import { REPO_ROOT } from '../harness/version.ts';

export interface ChurnBench {
  ops: number;
  concurrency: number;
  nodes: number;
  /** Operations per second with the invariants after every operation. */
  withInvariants: number;
  /** Operations per second with invariants off during the churn. */
  withoutInvariants: number;
  /** (without - with) / without, in percent. */
  costPercent: number;
  /** Each cell's ops/s in run order, e.g. "on 29.8, off 29.4, ...". */
  perCell: string;
  /** Invariant checks made by the "on" cell. */
  checks: number;
  /** Timeline entries of the "on" cell, and its size as JSON. */
  timelineEntries: number;
  timelineBytes: number;
  peakRssMb: number;
  wallMs: number;
  outcomes: string;
}

function scenarioText(name: string, ops: number, concurrency: number, checkEvery: number): string {
  return `name: ${name}
description: churn benchmark
cluster:
  nodes: 2
  podCIDR: 10.61.0.0/16
  nodeMask: 26
  stack: { profile: kubeovn/nat-gw-v1.12, delegation: cached-delegates }
workload:
  - name: gw
    replicasPerNode: ${Math.ceil(concurrency / 2)}
    networks: [external]
    role: nat-gateway
steps:
  - churn: { workload: gw, ops: ${ops}, concurrency: ${concurrency}, seed: 1, checkEvery: ${checkEvery} }
invariants:
  - reservation-accounting: {}
  - reservations-within-capacity: {}
  - no-duplicate-addresses: {}
`;
}

function opsPerSecond(cell: CellReport, ops: number): number {
  const step = cell.timeline.find((e) => e.kind === 'step' && e.step === 'churn');
  if (!step || step.kind !== 'step' || step.result !== 'ok') throw new Error(`churn benchmark cell ${cell.id} did not complete its churn: ${cell.error?.message ?? cell.reason}`);
  return ops / (step.durationMs / 1000);
}

export async function benchChurn(opts: { ops?: number; concurrency?: number; pairs?: number; signal?: AbortSignal } = {}): Promise<ChurnBench> {
  const ops = opts.ops ?? 1000;
  const concurrency = opts.concurrency ?? 8;
  const pairs = opts.pairs ?? 2;
  const file = path.join(REPO_ROOT, 'scenarios', '(bench).yaml');
  const modes: boolean[] = [];
  for (let i = 0; i < pairs; i++) modes.push(...(i % 2 === 0 ? [true, false] : [false, true]));
  const plans: CellPlan[] = modes.map((on, index) => {
    const scenario = parseScenario(scenarioText(`churn-bench-${index + 1}-invariants-${on ? 'on' : 'off'}`, ops, concurrency, on ? 1 : 0), file);
    return { ...planCells([scenario])[0]!, index };
  });
  const out = await mkdtemp(path.join(os.tmpdir(), 'faultline-bench-churn-'));
  const t0 = Date.now();
  try {
    const report = await runCells({ cells: plans, out, jobs: 1, seed: 1, reporters: [], signal: opts.signal ?? new AbortController().signal, ...registryEnv() });
    const rates = report.cells.map((c) => opsPerSecond(c, ops));
    // Total operations over total churn time, per mode.
    const mode = (on: boolean) => {
      const idx = modes.flatMap((m, i) => (m === on ? [i] : []));
      return (idx.length * ops) / idx.reduce((t, i) => t + ops / rates[i]!, 0);
    };
    const withInvariants = mode(true);
    const withoutInvariants = mode(false);
    const on = report.cells[0]!;
    const stepDetail = (on.timeline.find((e) => e.kind === 'step') as { detail?: string } | undefined)?.detail ?? '';
    return {
      ops,
      concurrency,
      nodes: 2,
      withInvariants,
      withoutInvariants,
      costPercent: ((withoutInvariants - withInvariants) / withoutInvariants) * 100,
      perCell: modes.map((m, i) => `${m ? 'on' : 'off'} ${rates[i]!.toFixed(1)}`).join(', '),
      checks: Number(/\((\d+) checks/.exec(stepDetail)?.[1] ?? 0),
      timelineEntries: on.timeline.length,
      timelineBytes: JSON.stringify(on.timeline).length,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      wallMs: Date.now() - t0,
      outcomes: report.cells.map((c) => `${c.id}: ${c.outcome}`).join(', '),
    };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const b = await benchChurn();
  console.log(`[churn] ${b.ops} ops at concurrency ${b.concurrency} on ${b.nodes} nodes (${b.outcomes})`);
  console.log(`  invariants after every op: ${b.withInvariants.toFixed(1)} ops/s (${b.checks} checks)`);
  console.log(`  invariants off:            ${b.withoutInvariants.toFixed(1)} ops/s`);
  console.log(`  cost: ${b.costPercent.toFixed(1)} % (target <= 15 %) ${b.costPercent <= 15 ? 'OK' : 'OVER TARGET'}; per cell in run order (ops/s): ${b.perCell}`);
  console.log(`  peak RSS ${b.peakRssMb.toFixed(0)} MB (target < 300 MB) ${b.peakRssMb < 300 ? 'OK' : 'OVER TARGET'}; timeline ${b.timelineEntries} entries, ${(b.timelineBytes / 1024).toFixed(0)} KiB as JSON; wall ${(b.wallMs / 1000).toFixed(1)} s`);
}
