// `faultline run --shrink`: for a churn cell that failed an assertion, search for a smaller schedule
// (fewer operations, lower concurrency, events earlier) that still fails that assertion, and write it
// out as a scenario of its own: the operations as explicit slots, the cell's stack values fixed, only
// the failing check kept, expecting that failure. Every candidate is a real run of the cell.
//
// The search, in order (each step keeps a candidate only if it still fails):
//   1. cut the schedule after the operation of the first violation (for an invariant);
//   2. concurrency 1 (serial runs are deterministic);
//   3. move each event as early as possible (binary search);
//   4. the shortest prefix of the schedule (binary search);
//   5. remove chunks of operations (ddmin-style, halving the chunk size);
//   6. drop events that are not needed;
//   7. lower the concurrency if step 2 failed (binary search).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { withProfileFileInlined } from '../profiles/stack-profile.ts';
import os from 'node:os';
import path from 'node:path';
// js-yaml writes the shrunk scenario (its dump's block style and line width suit a file people read);
// every YAML file faultline reads goes through the `yaml` package (schema/yaml.ts), for positions.
import yaml from 'js-yaml';
import { planCells, type CellPlan } from '../runner/cell.ts';
import { cellSlug } from '../runner/cell.ts';
import type { CellReport } from '../model/report.ts';
import type { CheckSpec, Scenario, StepSpec } from '../model/scenario.ts';
import type { ChurnParams } from '../churn/params.ts';
import { runCells, type RunEnvironment } from '../runner/run.ts';
import { loadScenario } from '../scenario/load.ts';
import { errorMessage } from '../errors.ts';

export interface ShrinkEvent {
  afterOps: number;
  kind: 'remove-network' | 'restore-network';
  network: string;
}

export interface Candidate {
  slots: number[];
  concurrency: number;
  events: ShrinkEvent[];
}

export interface ShrinkOutcome {
  cell: string;
  /** The assertion the shrunk scenario still fails. */
  target?: string;
  /** Why nothing was shrunk (no churn step, nothing failed...). */
  skipped?: string;
  from?: { ops: number; concurrency: number; events: number };
  to?: { ops: number; concurrency: number; events: number };
  /** Cell runs made: the search's and the verification of the written file. */
  runs: number;
  /** Of those, the search's. */
  searchRuns?: number;
  file?: string;
  /** The written scenario, run on its own, failed the target again. */
  verified?: boolean;
  seed?: number;
}

export interface ShrinkOptions {
  /** Where shrunk scenarios are written (<dir>/<scenario>-<cell>.yaml). */
  outDir: string;
  seed: number;
  signal: AbortSignal;
  /** Where candidate cells run (the same backends as the run being shrunk). */
  env: RunEnvironment;
  /** Cell runs at most (default 40). */
  maxRuns?: number;
  progress?: (message: string) => void;
  /** Runs one candidate; default: a real cell run through runCells (tests may stub it). */
  runCandidate?: (scenario: Scenario, plan: CellPlan) => Promise<CellReport>;
}

/** The churn step of a scenario (the first one). */
function churnStepIndex(scenario: Scenario): number {
  return scenario.steps.findIndex((s) => s.kind === 'churn');
}

/** The failing check to preserve: the earliest-violated invariant, else the first failing assertion. */
export function targetAssertion(report: CellReport): string | undefined {
  const failing = report.assertions.filter((a) => a.status === 'fail');
  const invariants = failing.filter((a) => a.phase === 'during').sort((a, b) => (a.firstViolationAt ?? Infinity) - (b.firstViolationAt ?? Infinity));
  return invariants[0]?.name ?? failing[0]?.name;
}

/** The schedule a cell ran, from its timeline: slot of each churn operation in order. */
export function executedSlots(report: CellReport): number[] {
  const ops = new Map<number, number>();
  for (const e of report.timeline) {
    if (e.kind !== 'op' || e.node === 'cluster') continue;
    const d = e.detail as { churn?: unknown; slot?: unknown } | undefined;
    if (typeof d?.churn === 'number' && typeof d.slot === 'number') ops.set(d.churn, d.slot);
  }
  const n = ops.size ? Math.max(...ops.keys()) + 1 : 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = ops.get(i);
    if (s === undefined) break; // a gap: the schedule is known up to here
    out.push(s);
  }
  return out;
}

/** Operations up to and including the one after which the target invariant first failed. */
function violationPrefix(report: CellReport, target: string): number | undefined {
  const a = report.assertions.find((x) => x.name === target && x.phase === 'during' && x.status === 'fail');
  const entry = a?.evidence.find((e) => typeof e.entry === 'number')?.entry as number | undefined;
  const op = entry === undefined ? undefined : report.timeline[entry];
  const churnIndex = op?.kind === 'op' ? (op.detail as { churn?: unknown } | undefined)?.churn : undefined;
  return typeof churnIndex === 'number' ? churnIndex + 1 : undefined;
}

function eventsOf(p: ChurnParams): ShrinkEvent[] {
  return (p.events ?? []).map((e) => (e['remove-network'] ? { afterOps: e.afterOps, kind: 'remove-network' as const, network: e['remove-network'].name } : { afterOps: e.afterOps, kind: 'restore-network' as const, network: e['restore-network']!.name }));
}

/** Churn parameters for a candidate (events past the end are dropped: they would never fire). */
export function churnParamsFor(base: ChurnParams, c: Candidate): ChurnParams {
  const { ops: _o, durationMs: _d, seed: _s, rate: _r, ...rest } = base;
  return {
    ...rest,
    slots: c.slots,
    concurrency: c.concurrency,
    events: c.events.filter((e) => e.afterOps <= c.slots.length).map((e) => ({ afterOps: e.afterOps, [e.kind]: { name: e.network } }) as NonNullable<ChurnParams['events']>[number]),
  };
}

/** The scenario of one candidate: the cell's values fixed, only the target check, expecting it to fail. */
export function candidateScenario(plan: CellPlan, target: string, c: Candidate, note: string): Scenario {
  const sc = plan.scenario;
  const idx = churnStepIndex(sc);
  const steps: StepSpec[] = sc.steps.map((s, i) => (i === idx ? { kind: 'churn', params: churnParamsFor(s.params as ChurnParams, c) as Record<string, unknown> } : s));
  const keep = (list: CheckSpec[]) => list.filter((x) => x.name === target);
  // A profile file beside the original scenario is written inline: the shrunk file lives elsewhere.
  const stack = withProfileFileInlined(Object.fromEntries(Object.entries(plan.stack).filter(([, v]) => v !== undefined)) as Scenario['cluster']['stack'], sc.file);
  return {
    ...sc,
    name: `${sc.name}-shrunk`.slice(0, 63).replace(/-+$/, ''),
    description: note,
    matrix: {},
    expect: [{ outcome: 'fail', failing: [target], reason: `shrunk from ${plan.id}` }],
    cluster: { ...sc.cluster, stack },
    steps,
    invariants: keep(sc.invariants),
    assertions: keep(sc.assertions),
  };
}

/** YAML text of a scenario, in the form a person writes it. */
export function scenarioYaml(sc: Scenario, header: string[]): string {
  const check = (c: CheckSpec) => ({ [c.kind]: c.params, ...(c.name !== c.kind ? { name: c.name } : {}) });
  const doc: Record<string, unknown> = {
    name: sc.name,
    description: sc.description,
    ...(sc.references.length ? { references: sc.references } : {}),
    ...(sc.expect.length ? { expect: sc.expect } : {}),
    cluster: sc.cluster,
    ...(sc.workload.length ? { workload: sc.workload } : {}),
    steps: sc.steps.map((s) => ({ [s.kind]: s.params })),
    ...(sc.invariants.length ? { invariants: sc.invariants.map(check) } : {}),
    ...(sc.assertions.length ? { assertions: sc.assertions.map(check) } : {}),
  };
  const body = yaml.dump(JSON.parse(JSON.stringify(doc)), { lineWidth: 110, noRefs: true, flowLevel: -1 });
  return [...header.map((l) => `# ${l}`), body].join('\n');
}

/** The single cell of a candidate (or of the written file). */
function planFor(scenario: Scenario, backend: string): CellPlan {
  return planCells([scenario], { backend })[0]!;
}

/** Shrinks one failing churn cell; never throws for a cell it cannot shrink (says why instead). */
export async function shrinkCell(plan: CellPlan, report: CellReport, opts: ShrinkOptions): Promise<ShrinkOutcome> {
  const out: ShrinkOutcome = { cell: plan.id, runs: 0, seed: opts.seed };
  const idx = churnStepIndex(plan.scenario);
  if (idx < 0) return { ...out, skipped: 'no churn step' };
  const target = targetAssertion(report);
  if (!target) return { ...out, skipped: 'no assertion failed' };
  if (report.error) return { ...out, skipped: `the cell ended in an error: ${report.error.message}` };
  out.target = target;
  const base = plan.scenario.steps[idx]!.params as ChurnParams;
  let slots = executedSlots(report);
  if (!slots.length) return { ...out, skipped: 'the churn ran no operation' };
  const original: Candidate = { slots, concurrency: base.concurrency ?? 1, events: eventsOf(base) };
  out.from = { ops: slots.length, concurrency: original.concurrency, events: original.events.length };
  const maxRuns = opts.maxRuns ?? 40;
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'faultline-shrink-'));
  const log = opts.progress ?? (() => undefined);

  const run = opts.runCandidate ?? (async (scenario: Scenario, p: CellPlan) => {
    const r = await runCells({ cells: [p], out: scratch, jobs: 1, seed: opts.seed, reporters: [], signal: opts.signal, ...opts.env });
    return r.cells[0]!;
  });
  const fails = async (c: Candidate): Promise<boolean> => {
    if (out.runs >= maxRuns) return false;
    opts.signal.throwIfAborted();
    out.runs++;
    const sc = candidateScenario(plan, target, c, 'shrink candidate');
    const r = await run(sc, planFor(sc, plan.backend));
    const ok = !r.error && r.assertions.some((a) => a.name === target && a.status === 'fail');
    log(`shrink ${plan.id}: run ${out.runs}: ${c.slots.length} op(s), concurrency ${c.concurrency}, events at ${c.events.filter((e) => e.afterOps <= c.slots.length).map((e) => e.afterOps).join(',') || '-'}: ${ok ? `fails ${target}` : 'holds'}`);
    return ok;
  };
  const withEvents = (c: Candidate): Candidate => ({ ...c, events: c.events.filter((e) => e.afterOps <= c.slots.length) });

  try {
    let cur = withEvents(original);
    // 1. Up to the first violation.
    const k0 = violationPrefix(report, target);
    if (k0 !== undefined && k0 < cur.slots.length) {
      const c = withEvents({ ...cur, slots: cur.slots.slice(0, k0) });
      if (await fails(c)) cur = c;
    }
    // 2. Serial.
    let serial = cur.concurrency === 1;
    if (!serial) {
      const c = { ...cur, concurrency: 1 };
      if (await fails(c)) {
        cur = c;
        serial = true;
      }
    }
    // 3. Events as early as possible, keeping their order.
    for (let i = 0; i < cur.events.length; i++) {
      const floor = i === 0 ? 0 : cur.events[i - 1]!.afterOps;
      let lo = floor;
      let hi = cur.events[i]!.afterOps;
      const at = (pos: number) => ({ ...cur, events: cur.events.map((e, j) => (j === i ? { ...e, afterOps: pos } : e)) });
      if (lo < hi && (await fails(at(lo)))) hi = lo;
      else {
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (await fails(at(mid))) hi = mid;
          else lo = mid;
        }
      }
      cur = at(hi);
    }
    // 4. The shortest prefix (the current length is known to fail; a prefix needs one operation).
    {
      let lo = 0;
      let hi = cur.slots.length;
      const prefix = (k: number) => withEvents({ ...cur, slots: cur.slots.slice(0, k) });
      while (hi - lo > 1 && out.runs < maxRuns) {
        const mid = Math.floor((lo + hi) / 2);
        if (await fails(prefix(mid))) hi = mid;
        else lo = mid;
      }
      cur = prefix(hi);
    }
    // 5. Remove chunks of operations.
    for (let chunk = Math.floor(cur.slots.length / 2); chunk >= 1 && out.runs < maxRuns; chunk = Math.floor(chunk / 2)) {
      for (let start = 0; start + chunk <= cur.slots.length && out.runs < maxRuns; ) {
        const slotsLeft = [...cur.slots.slice(0, start), ...cur.slots.slice(start + chunk)];
        if (!slotsLeft.length) break;
        const events = cur.events.map((e) => ({ ...e, afterOps: e.afterOps <= start ? e.afterOps : Math.max(start, e.afterOps - chunk) }));
        const c = { ...cur, slots: slotsLeft, events };
        if (await fails(c)) cur = c;
        else start += chunk;
      }
    }
    // 6. Events that are not needed.
    for (let i = cur.events.length - 1; i >= 0 && out.runs < maxRuns; i--) {
      const c = { ...cur, events: cur.events.filter((_, j) => j !== i) };
      if (await fails(c)) cur = c;
    }
    // 7. Lower concurrency.
    if (!serial && cur.concurrency > 1) {
      let lo = 1;
      let hi = cur.concurrency;
      while (hi - lo > 1 && out.runs < maxRuns) {
        const mid = Math.floor((lo + hi) / 2);
        if (await fails({ ...cur, concurrency: mid })) hi = mid;
        else lo = mid;
      }
      cur = { ...cur, concurrency: hi };
    }
    slots = cur.slots;
    out.to = { ops: cur.slots.length, concurrency: cur.concurrency, events: cur.events.length };
    out.searchRuns = out.runs;

    // Write it out, then run the file on its own.
    const note = [
      `Shrunk by faultline run --shrink from ${plan.id} (${path.relative(process.cwd(), plan.scenario.file) || plan.scenario.file}, seed ${opts.seed}):`,
      `${cur.slots.length} operation(s) at concurrency ${cur.concurrency} (from ${out.from.ops} at ${out.from.concurrency}) still fail ${target}.`,
      'The operations are given as explicit slots, so the schedule does not depend on a seed.',
      `Original description: ${plan.scenario.description}`,
    ].join(' ');
    const sc = candidateScenario(plan, target, cur, note);
    await mkdir(opts.outDir, { recursive: true });
    const file = path.join(opts.outDir, `${cellSlug(plan).replace(/^\d+-/, '')}.yaml`);
    await writeFile(file, scenarioYaml(sc, [
      `Shrunk from ${plan.id}: ${out.from.ops} ops at concurrency ${out.from.concurrency} -> ${cur.slots.length} at ${cur.concurrency}, found in ${out.runs} run(s).`,
      `Run it: faultline run ${file}`,
    ]));
    out.file = file;
    out.runs++;
    const loaded = await loadScenario(file);
    const r = await run(loaded, planFor(loaded, plan.backend));
    out.verified = !r.error && r.assertions.some((a) => a.name === target && a.status === 'fail');
    log(`shrink ${plan.id}: the written scenario ${out.verified ? `fails ${target} on its own` : `did NOT fail ${target} on its own`}`);
    return out;
  } catch (e) {
    if (opts.signal.aborted) throw e;
    return { ...out, skipped: `search stopped: ${errorMessage(e)}` };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
