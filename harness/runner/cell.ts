// One matrix cell from start to verdict: resolve the stack, build the cluster, boot, run the steps
// with an observation (and invariants) after each, judge, and always tear down.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Backend, Cluster, Node } from '../backends/types.ts';
import { REPEAT_STEP, type CellExpectation, type ErrorSource, type RepeatParams, type Scenario, type StackSelection, type StepSpec } from '../model/scenario.ts';
import { expandedStepCount } from '../scenario/steps.ts';
import { expandMatrix, selectCells, substitute, type OnlyFilter } from '../scenario/matrix.ts';
import type { CellReport } from '../model/report.ts';
import type { AssertionResult } from '../model/verdict.ts';
import type { NodeSnapshot } from '../model/snapshot.ts';
import { Timeline, formatStepNumber } from '../model/timeline.ts';
import type { CellContext } from '../context/cell-context.ts';
import { resolveStack } from './stack.ts';
import { composeAgents } from './compose.ts';
import { bootNode } from '../boot/boot-node.ts';
import { observeNode } from '../observe/snapshot.ts';
import { getFault } from '../faults/index.ts';
import { getAssertion } from '../assertions/index.ts';
import { asExpected, decideOutcome } from './outcome.ts';
import { createRng } from '../util/rng.ts';
import { formatCidr, parseCidr, subnetAt } from '../util/net.ts';
import { FaultlineError, errorMessage, formatLocation, isSystemError } from '../errors.ts';
import { locate, pathString } from '../schema/yaml.ts';
import type { ResolvedStack } from '../model/profile.ts';
import { CniPluginError, CniRuntimeError } from '../runtime/libcni/errors.ts';
import { RuntimeCrash, StackIncompatibleError } from '../runtime/types.ts';

export interface CellPlan {
  index: number;
  id: string;
  scenario: Scenario;
  values: Record<string, string>;
  stack: StackSelection;
  expectation: CellExpectation;
  /** The backend the cell runs on: the scenario's, or --backend. */
  backend: string;
  /** What the node agent does in this cell (placeholders filled). */
  agent: { reconcileAfterBoot: boolean };
}

/** The agent options of a cell: `${dim}` placeholders take the cell's "true" or "false". */
export function cellAgent(scenario: Pick<Scenario, 'cluster'>, values: Readonly<Record<string, string>>): CellPlan['agent'] {
  const raw = scenario.cluster.agent?.reconcileAfterBoot ?? true;
  return { reconcileAfterBoot: typeof raw === 'boolean' ? raw : substitute(raw, values) !== 'false' };
}

/**
 * The cells of these scenarios in run order, each with its plan index; `only` keeps the cells with
 * those matrix values (in scenarios that have the dimension), `backend` overrides every scenario's.
 */
export function planCells(scenarios: readonly Scenario[], opts: { only?: OnlyFilter; backend?: string } = {}): CellPlan[] {
  const plans: CellPlan[] = [];
  for (const scenario of scenarios) {
    const only = new Map([...(opts.only ?? new Map())].filter(([dim]) => dim in scenario.matrix));
    for (const c of selectCells(scenario, expandMatrix(scenario), only)) {
      plans.push({ index: plans.length, id: c.id, scenario, values: { ...c.values }, stack: c.stack, expectation: c.expectation, backend: opts.backend ?? scenario.cluster.backend, agent: cellAgent(scenario, c.values) });
    }
  }
  return plans;
}

export interface CellEnv {
  runId: string;
  backend: Backend;
  /** The run's work dir; the cell's state lives below it. */
  workDir: string;
  reportDir: string;
  seed: number;
  signal: AbortSignal;
  progress(cellId: string, message: string): void;
}

/** Node names (the backend's) and subnets: the i-th node gets the i-th subnet of the pod CIDR. */
export function nodeLayout(scenario: Scenario, backend: Pick<Backend, 'nodeNames'>): { name: string; podSubnet: string }[] {
  const parent = parseCidr(scenario.cluster.podCIDR)!;
  return backend.nodeNames(scenario.cluster.nodes).map((name, i) => ({ name, podSubnet: formatCidr(subnetAt(parent, scenario.cluster.nodeMask, i)) }));
}

export function cellSlug(plan: CellPlan): string {
  return `${String(plan.index).padStart(2, '0')}-${plan.id.replace(/[^A-Za-z0-9.=-]+/g, '_').replace(/_+$/, '')}`.slice(0, 100);
}

export async function runCell(plan: CellPlan, env: CellEnv): Promise<CellReport> {
  const started = Date.now();
  const timeline = new Timeline();
  const slug = cellSlug(plan);
  const artifactsDir = path.join(env.reportDir, 'artifacts', slug);
  const results: AssertionResult[] = [];
  let stack: ResolvedStack | undefined;
  let cluster: Cluster | undefined;
  let harnessError: FaultlineError | Error | undefined;
  const progress = (m: string) => env.progress(plan.id, m);

  try {
    env.signal.throwIfAborted();
    stack = await resolveStack(plan.stack, { signal: env.signal, onProgress: progress, scenarioFile: plan.scenario.file, locate: (field) => ({ file: plan.scenario.file, ...locate(plan.scenario.positions, ['cluster', 'stack', field]) }) });
    const resolved = stack;
    cluster = await env.backend.up(
      {
        runId: env.runId,
        cellId: slug,
        workDir: path.join(env.workDir, 'cells', slug),
        nodes: nodeLayout(plan.scenario, env.backend).map((n) => ({ ...n, pluginDir: resolved.plugins.dir, ...(resolved.runtime.kind === 'containerd' ? { runtimeDir: resolved.runtime.containerd.dir } : {}), ...(resolved.multus ? { multusDir: resolved.multus.component.dir } : {}) })),
        ...externalSegments(resolved),
        onProgress: progress,
      },
      env.signal,
    );
    const c = cluster;
    const { agents, networks } = composeAgents(c.nodes, resolved, timeline, createRng(env.seed).fork(plan.id), plan.scenario.workload, plan.agent);
    const agentOf = (name: string) => {
      const a = agents.find((x) => x.node.name === name);
      if (!a) throw new FaultlineError('invalid-input', `no node named ${name} (nodes: ${agents.map((x) => x.node.name).join(', ')})`);
      return a;
    };
    const invariantState = new Map<string, AssertionResult>();

    const ctx: CellContext = {
      scenario: plan.scenario,
      matrix: plan.values,
      stack: resolved,
      cluster: c,
      timeline,
      agents,
      agent: agentOf,
      networks,
      signal: env.signal,
      artifactsDir,
      seed: env.seed,
      progress,
      async observe(after, opts = {}) {
        const nodes: NodeSnapshot[] = await Promise.all(agents.map((a) => observeNode(a, networks)));
        if (opts.changesOnly) timeline.observeChanges(after, nodes);
        else timeline.observe(after, nodes);
        return nodes;
      },
      boot: (node: Node) => bootNode(agentOf(node.name), resolved, timeline),
      async checkInvariants(after, opts = {}) {
        const snap = opts.snapshot ?? timeline.currentSnapshot() ?? (await ctx.observe(after));
        let ok = true;
        for (const [index, inv] of plan.scenario.invariants.entries()) {
          const prev = invariantState.get(inv.name);
          if (prev?.status === 'fail') continue; // keep the first violation
          if (opts.cheapOnly && !getAssertion(inv.kind).cheap) continue;
          const j = await judge(ctx, snap, inv, ['invariants', index, inv.kind]);
          // A verdict entry when the status changes (a churn checks thousands of times).
          const at = prev?.status === j.status ? undefined : timeline.add({ kind: 'verdict', result: { name: inv.name, phase: 'during', status: j.status, evidence: j.evidence } });
          const res: AssertionResult = { name: inv.name, phase: 'during', status: j.status, evidence: j.evidence, ...(j.status === 'fail' ? { firstViolationAt: at! } : {}) };
          if (j.status === 'fail') {
            const before = opts.afterEntry === undefined ? {} : { entry: opts.afterEntry };
            res.evidence = [{ summary: `first violated after: ${after}`, ...before }, ...j.evidence];
          }
          if (j.status !== 'pass' || !prev) invariantState.set(inv.name, res);
          if (j.status === 'fail') ok = false;
        }
        return ok;
      },
    };

    progress(`booting ${c.nodes.length} node(s) (${resolved.profile.name}, plugins ${resolved.plugins.version}, ${resolved.runtime.name})`);
    for (const node of c.nodes) await ctx.boot(node);
    await ctx.observe('boot');
    await ctx.checkInvariants('boot');

    // Steps in order, repeats unrolled; each is numbered as every message names it (3.2.1: step 3,
    // iteration 2, inner step 1) and observed, with the invariants checked, after it ran.
    const total = expandedStepCount(plan.scenario.steps);
    let ran = 0;
    const runSteps = async (steps: readonly StepSpec[], at: (string | number)[], prefix: number[], top: number | undefined): Promise<void> => {
      for (const [i, step] of steps.entries()) {
        env.signal.throwIfAborted();
        const parts = [...prefix, i + 1];
        const keyPath = [...at, i];
        const index = top ?? i;
        if (step.kind === REPEAT_STEP) {
          const p = step.params as unknown as RepeatParams;
          for (let it = 1; it <= p.times; it++) await runSteps(p.steps, [...keyPath, REPEAT_STEP, 'steps'], [...parts, it], index);
          continue;
        }
        const number = formatStepNumber(parts);
        const fault = getFault(step.kind);
        const t0 = Date.now();
        progress(`step ${number} (${++ran}/${total}): ${step.kind}`);
        const entry = { kind: 'step' as const, index, number, path: pathString(keyPath), firstEntry: timeline.entries.length, step: step.kind };
        try {
          const detail = await fault.run(ctx, step.params);
          timeline.add({ ...entry, detail, result: 'ok', durationMs: Date.now() - t0 });
        } catch (e) {
          timeline.add({ ...entry, detail: errorMessage(e), result: 'error', error: errorMessage(e), durationMs: Date.now() - t0 });
          throw locatedError(e, plan.scenario, [...keyPath, step.kind], number);
        }
        await ctx.observe(`step ${number}: ${step.kind}`, { changesOnly: prefix.length > 0 });
        await ctx.checkInvariants(`step ${number}: ${step.kind}`);
      }
    };
    await runSteps(plan.scenario.steps, ['steps'], [], undefined);

    results.push(...invariantState.values());
    const final = timeline.currentSnapshot()!;
    for (const [index, a] of plan.scenario.assertions.entries()) {
      const j = await judge(ctx, final, a, ['assertions', index, a.kind]);
      const res: AssertionResult = { name: a.name, phase: 'end', status: j.status, evidence: j.evidence };
      timeline.add({ kind: 'verdict', result: res });
      results.push(res);
    }
  } catch (e) {
    harnessError = e instanceof Error ? e : new Error(String(e));
  } finally {
    if (cluster) {
      await dumpNodeState(cluster, artifactsDir, (m) => timeline.warn(m)).catch((e) => timeline.warn(`could not save node state: ${errorMessage(e)}`));
      await cluster.down().catch((e) => timeline.warn(`teardown: ${errorMessage(e)}`));
    }
  }

  const aborted = env.signal.aborted;
  const located = harnessError instanceof FaultlineError && harnessError.location ? `${formatLocation(harnessError.location)}: ` : '';
  const errText = harnessError ? (aborted ? `interrupted: ${errorMessage(env.signal.reason)}` : `${located}${errorMessage(harnessError)}`) : undefined;
  const cellError = harnessError ? { message: errText!, source: errorSource(harnessError), ...(aborted ? { interrupted: true } : {}) } : undefined;
  const { outcome, reason } = decideOutcome(results, plan.expectation, cellError);
  return {
    id: plan.id,
    scenario: plan.scenario.name,
    scenarioFile: plan.scenario.file,
    matrix: plan.values,
    outcome,
    reason,
    asExpected: asExpected(outcome, plan.expectation, cellError),
    expected: { outcome: plan.expectation.outcome, failing: plan.expectation.failing, ...(plan.expectation.reason ? { reason: plan.expectation.reason } : {}), ...(plan.expectation.error ? { error: { ...plan.expectation.error } } : {}), ...(plan.expectation.evidence ? { evidence: { ...plan.expectation.evidence } } : {}) },
    assertions: results,
    warnings: timeline.warnings,
    stack: {
      profile: stack?.profile.name ?? plan.stack.profile ?? 'inline',
      cni: stack ? { version: stack.plugins.version, source: stack.plugins.source, dir: stack.plugins.dir, sha256: stack.plugins.sha256, ...(stack.plugins.build ? { build: stack.plugins.build } : {}) } : { version: plan.stack.cni ?? '?', source: '', dir: '', sha256: {} },
      runtime: stack?.runtime.name ?? plan.stack.runtime ?? '?',
      ...(stack?.runtime.kind === 'containerd'
        ? { containerd: { version: stack.runtime.containerd.version, libcni: stack.runtime.containerd.libcni, source: stack.runtime.containerd.source, sha256: stack.runtime.containerd.sha256, criApi: stack.runtime.containerd.protoSource, ...(stack.runtime.containerd.build ? { build: stack.runtime.containerd.build } : {}) } }
        : {}),
      ...(stack?.multus ? { multus: { version: stack.multus.component.version, source: stack.multus.component.source, sha256: stack.multus.component.sha256, cleanupConfigOnExit: stack.multus.cleanupConfigOnExit, ...(stack.multus.component.build ? { build: stack.multus.component.build } : {}) } } : {}),
      substitutions: stack?.profile.substitutions ?? [],
      conflistCniVersion: stack?.conflistCniVersion ?? plan.stack.cniVersion ?? '?',
      ...(stack ? resolvedStackFacts(stack) : {}),
    },
    seed: env.seed,
    durationMs: Date.now() - started,
    ...(cellError ? { error: { message: cellError.message, code: aborted ? 'interrupted' : errorCode(harnessError), source: cellError.source, ...(located && !aborted ? { location: located.slice(0, -2) } : {}) } } : {}),
    timeline: timeline.entries,
    artifacts: cluster ? [path.relative(env.reportDir, artifactsDir)] : [],
  };
}

/** Where the stack came from and what its networks are, as the report shows them. */
function resolvedStackFacts(stack: ResolvedStack): Pick<CellReport['stack'], 'origin' | 'networks' | 'stageFiles'> {
  const p = stack.profile;
  return {
    origin: { kind: p.origin?.kind ?? 'profile', file: p.file, inline: [...(p.origin?.inline ?? [])] },
    networks: p.networks.map((n) => ({
      file: n.file,
      name: n.conflist.name,
      secondary: n.secondary === true,
      plugins: n.conflist.plugins.map((x) => String(x.type ?? '?')),
      conflist: structuredClone(n.conflist) as Record<string, unknown>,
    })),
    stageFiles: p.stageFiles.map((f) => ({ path: f.path, source: f.source })),
  };
}

/** Whether `e` or one of its causes is an error of `type`. */
function causedBy(e: unknown, type: abstract new (...args: any[]) => Error): boolean {
  let c: unknown = e;
  for (let depth = 0; c instanceof Error && depth < 10; depth++) {
    if (c instanceof type) return true;
    c = (c as Error).cause;
  }
  return false;
}

/**
 * Where a cell's error came from: a CNI plugin's own error (also wrapped, e.g. an incompatible stack
 * caused by one), the runtime's own error or failure, else the harness (faultline, the machine, the
 * input).
 */
export function errorSource(e: unknown): ErrorSource {
  if (causedBy(e, CniPluginError)) return 'plugin';
  if (causedBy(e, CniRuntimeError) || causedBy(e, RuntimeCrash) || causedBy(e, StackIncompatibleError)) return 'runtime';
  return 'harness';
}

/**
 * The code a cell's error is reported with: a FaultlineError's own; what the machine (an errno) or
 * the stack (the runtime, a plugin) did is an environment failure; only the rest is internal (a bug).
 */
export function errorCode(e: unknown): string {
  if (e instanceof FaultlineError) return e.code;
  if (isSystemError(e)) return 'environment';
  if (causedBy(e, CniRuntimeError) || causedBy(e, StackIncompatibleError) || causedBy(e, RuntimeCrash)) return 'environment';
  return 'internal';
}

/** Error codes of a path that does not name what the scenario said (gone, a directory, a FIFO...). */
const PATH_ERRNOS = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ENXIO', 'ELOOP', 'ENAMETOOLONG', 'EINVAL']);

/**
 * A step's error as the cell reports it: at the step's key in the scenario (file:line:col and key
 * path), with what the machine did (an errno) an environment error, or a bad input where the path
 * was not what the scenario said; only anything else stays internal (a bug of faultline).
 */
export function locatedError(e: unknown, scenario: Pick<Scenario, 'file' | 'positions'>, at: (string | number)[], stepNumber?: string): FaultlineError {
  if (e instanceof FaultlineError && e.location) return e; // located where it arose (a check inside a churn step)
  const location = { file: scenario.file, ...locate(scenario.positions, at, true) };
  // Faults start their messages with their own name, which the key path already says.
  const text = errorMessage(e);
  const kind = String(at.at(-1));
  const message = `${pathString(at)}${stepNumber ? ` (step ${stepNumber})` : ''}: ${text.startsWith(`${kind}: `) ? text.slice(kind.length + 2) : text}`;
  if (e instanceof FaultlineError) return new FaultlineError(e.code, message, { cause: e, location, ...(e.hint ? { hint: e.hint } : {}) });
  if (isSystemError(e)) return new FaultlineError(PATH_ERRNOS.has(e.code!) ? 'invalid-input' : 'environment', message, { cause: e, location });
  return new FaultlineError('internal', message, { cause: e, location });
}

/** External segments the stack's networks use (macvlan parents shared by the nodes). */
function externalSegments(stack: ResolvedStack): { segments?: string[] } {
  const names = [...new Set(stack.profile.networks.flatMap((n) => (n.segment ? [n.segment] : [])))];
  return names.length ? { segments: names } : {};
}

/**
 * A judge that throws yields unknown, never a pass; one that finds its own parameters impossible (a
 * bad input only the running cell shows) ends the cell as that error, at the check's key.
 */
async function judge(ctx: CellContext, snap: NodeSnapshot[], check: { kind: string; params: Record<string, unknown> }, at: (string | number)[]) {
  try {
    return await getAssertion(check.kind).evaluate(ctx, snap, check.params);
  } catch (e) {
    if (e instanceof FaultlineError && e.code === 'invalid-input') throw locatedError(e, ctx.scenario, at);
    return { status: 'unknown' as const, evidence: [{ summary: `${check.kind} could not judge: ${errorMessage(e)}` }] };
  }
}

/** The most of one node file the report keeps: node state files are a few KiB. */
export const MAX_ARTIFACT_FILE_BYTES = 1024 * 1024;

/**
 * Copies each node's persistent state (what survives a reboot) into the report: regular files only,
 * each cut at MAX_ARTIFACT_FILE_BYTES with a warning (a sparse 1 GiB file must not become 1 GiB of
 * report).
 */
export async function dumpNodeState(cluster: Pick<Cluster, 'nodes'>, dir: string, warn: (message: string) => void): Promise<void> {
  const walk = async (node: Node, nodePath: string, dest: string): Promise<void> => {
    for (const name of await node.list(nodePath)) {
      const p = `${nodePath}/${name}`;
      const st = await node.stat(p);
      if (!st) continue;
      if (st.isDirectory) await walk(node, p, path.join(dest, name));
      else if (st.isFile) {
        await mkdir(dest, { recursive: true });
        const data = await node.readFile(p, { maxBytes: MAX_ARTIFACT_FILE_BYTES });
        await writeFile(path.join(dest, name), data);
        if (st.size > data.length) warn(`artifact ${node.name}:${p}: kept the first ${data.length} of its ${st.size} bytes`);
      }
    }
  };
  for (const node of cluster.nodes) {
    for (const root of ['/var/lib/cni', '/etc/cni', '/var/log']) await walk(node, root, path.join(dir, node.name, root));
  }
}
