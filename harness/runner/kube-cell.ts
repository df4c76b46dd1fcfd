// One cell on a backend of real Kubernetes (kind): the kind stack resolved (its pinned files fetched and
// verified), the cluster created, the stack installed and ready, the workload's pods created through
// the API, then the steps with an observation after each (node files + API objects), the checks, and
// always `kind export logs` into the cell's artifacts and the teardown. Times of cluster create, CNI
// ready and every reboot-to-Ready are on the timeline and in the report.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Node } from '../backends/types.ts';
import type { KubeBackend, KubeCluster, KubeClusterSpec, KubeConfigSpec, KubePreflightCell } from '../backends/kube-types.ts';
import type { CellReport } from '../model/report.ts';
import type { AssertionResult } from '../model/verdict.ts';
import type { NodeSnapshot } from '../model/snapshot.ts';
import type { KubeObservation } from '../model/kube.ts';
import { Timeline } from '../model/timeline.ts';
import type { CellContext } from '../context/cell-context.ts';
import type { KubeCellState, PodsReady } from '../context/kube-context.ts';
import { getFault } from '../faults/index.ts';
import { getAssertion } from '../assertions/index.ts';
import { asExpected, decideOutcome } from './outcome.ts';
import { FaultlineError, errorMessage, formatLocation } from '../errors.ts';
import { locate } from '../schema/yaml.ts';
import { loadKindStack, type KindStack } from '../kube/stack.ts';
import { Kubectl } from '../kube/kubectl.ts';
import { installStack, type InstallRecord } from '../kube/install.ts';
import { observeKube } from '../kube/observe.ts';
import { waitBooted, until } from '../kube/boot-checks.ts';
import { WORKLOAD_NAMESPACE, namespaceManifest, podManifest, workloadPodSpecs, type KubePodSpec } from '../kube/workload.ts';
import { loadStackProfile } from '../profiles/stack-profile.ts';
import { planStages } from '../boot/yip-stages.ts';
import { readReservations } from '../observe/reservations.ts';
import { observeMultusConfig } from '../observe/multus-config.ts';
import { substitute } from '../scenario/matrix.ts';
import { cellSlug, dumpNodeState, errorCode, errorSource, locatedError, type CellEnv, type CellPlan } from './cell.ts';

/** How long the cell's pods may take to be Ready after a step before the wait gives up. */
const PODS_READY_TIMEOUT_MS = 5 * 60_000;

/** The kind stack a cell names (cluster.stack.profile kind/<name>). */
export function cellKindStackName(plan: Pick<CellPlan, 'stack'>): string {
  // The loader refuses a kind cell without a kind stack profile.
  return plan.stack.profile ?? '';
}

/** The cell's generated-config inputs, with where each value is written. */
export function kubeConfigSpec(plan: CellPlan, stack: KindStack): KubeConfigSpec {
  const sc = plan.scenario;
  const src = (p: (string | number)[]) => ({ file: sc.file, positions: sc.positions, path: p });
  const image = sc.cluster.kind?.nodeImage === undefined ? undefined : substitute(sc.cluster.kind.nodeImage, plan.values);
  return {
    ...(image ? { nodeImage: image } : {}),
    podSubnet: sc.cluster.podCIDR,
    disableDefaultCNI: stack.disableDefaultCNI ?? false,
    ...(stack.config ? { extra: stack.config as Record<string, unknown> } : {}),
    sources: {
      ...(image ? { nodeImage: src(['cluster', 'kind', 'nodeImage']) } : {}),
      podSubnet: src(['cluster', 'podCIDR']),
      disableDefaultCNI: { file: stack.file, positions: stack.positions, path: ['disableDefaultCNI'] },
      ...(stack.config ? { extra: { file: stack.file, positions: stack.positions, path: ['config'] } } : {}),
    },
  };
}

/** What the backend checks before anything runs, per cell. */
export async function kubePreflightCells(plans: readonly CellPlan[], backend: KubeBackend, runId: string): Promise<KubePreflightCell[]> {
  const out: KubePreflightCell[] = [];
  for (const plan of plans) {
    const stack = await loadKindStack(cellKindStackName(plan));
    const sc = plan.scenario;
    out.push({
      id: plan.id,
      clusterName: backend.kube.clusterName(runId, cellSlug(plan)),
      nodes: sc.cluster.nodes,
      config: kubeConfigSpec(plan, stack),
      reboots: sc.steps.some((s) => s.kind === 'hard-reboot'),
      location: { file: sc.file, ...locate(sc.positions, ['cluster']) },
    });
  }
  return out;
}

class KubeCell implements KubeCellState {
  private podList: KubePodSpec[] = [];
  private observations: KubeObservation[] = [];

  constructor(
    readonly cluster: KubeCluster,
    readonly kubectl: Kubectl,
    readonly stack: KindStack,
    private readonly timeline: Timeline,
    private readonly signal: AbortSignal,
  ) {}

  pods(): readonly KubePodSpec[] {
    return this.podList;
  }

  latest(): KubeObservation | undefined {
    return this.observations.at(-1);
  }

  record(o: KubeObservation): void {
    this.observations.push(o);
  }

  async waitBooted(node: Node, since: number) {
    const t = await waitBooted(this.kubectl, this.cluster.kubeNodeName(node.name), since, { signal: this.signal });
    this.timeline.add({ kind: 'op', op: 'boot', node: node.name, result: 'ok', durationMs: t.podsRunningMs, detail: { bootedAtMs: node.bootedAtMs, apiReadyMs: t.apiReadyMs, nodeReadyMs: t.nodeReadyMs, podsRunningMs: t.podsRunningMs, pods: t.pods } });
    if (this.podList.some((p) => p.node === node.name)) await this.waitPodsReady(`boot of ${node.name}`, PODS_READY_TIMEOUT_MS);
    return t;
  }

  async createPods(specs: readonly KubePodSpec[], timeoutMs: number): Promise<PodsReady> {
    await this.kubectl.apply(JSON.stringify(namespaceManifest()), `namespace ${WORKLOAD_NAMESPACE}`);
    await this.kubectl.apply(specs.map((p) => JSON.stringify(podManifest(p))).join('\n'), `${specs.length} pod(s)`);
    this.podList.push(...specs);
    return this.waitPodsReady(`create ${specs.length} pod(s)`, timeoutMs, specs.map((s) => s.name));
  }

  async deletePods(names: readonly string[], o: { gracePeriodS?: number } = {}) {
    const failed: string[] = [];
    let deleted = 0;
    for (const name of names) {
      const r = await this.kubectl.delete('pod', name, WORKLOAD_NAMESPACE, { wait: true, ...(o.gracePeriodS !== undefined ? { gracePeriodS: o.gracePeriodS } : {}) });
      if (r.exitCode === 0) deleted++;
      else failed.push(`${name}: ${r.stderr}`);
      this.timeline.add({ kind: 'op', op: 'delete-pod', node: this.podList.find((p) => p.name === name)?.node ?? '?', pod: name, result: r.exitCode === 0 ? 'ok' : 'error', durationMs: r.durationMs, ...(r.exitCode === 0 ? {} : { error: r.stderr }) });
    }
    this.podList = this.podList.filter((p) => !names.includes(p.name) || failed.some((f) => f.startsWith(`${p.name}:`)));
    return { deleted, failed };
  }

  async waitPodsReady(after: string, timeoutMs: number, only?: readonly string[]): Promise<PodsReady> {
    const want = this.podList.filter((p) => !only || only.includes(p.name)).map((p) => p.name);
    const t0 = Date.now();
    let notReady: string[] = want;
    let result: 'ok' | 'error' = 'ok';
    try {
      await until(`${want.length} pod(s) Ready`, t0 + timeoutMs, async () => {
        const items = (await this.kubectl.list('pods', { namespace: WORKLOAD_NAMESPACE })) ?? [];
        const byName = new Map(items.map((p) => [String(p.metadata?.name), p]));
        notReady = want.filter((n) => !((byName.get(n)?.status?.conditions ?? []) as { type?: string; status?: string }[]).some((c) => c.type === 'Ready' && c.status === 'True'));
        return notReady.length ? undefined : true;
      }, () => notReady.join(', '), this.signal);
    } catch (e) {
      if (e instanceof FaultlineError && e.code === 'environment') result = 'error';
      else throw e;
    }
    const durationMs = Date.now() - t0;
    // Why each pod is not Ready: its waiting reason and its latest warning event.
    const obs = result === 'error' ? await observeKube(this.kubectl, after, this.timeline.now()).catch(() => undefined) : undefined;
    const why = notReady.map((n) => {
      const pod = obs?.pods.find((p) => p.namespace === WORKLOAD_NAMESPACE && p.name === n);
      const ev = obs?.events.filter((e) => e.object === `Pod/${n}`).at(-1);
      return `${n}: ${pod?.waiting ?? pod?.phase ?? 'missing'}${ev ? ` (${ev.reason}: ${ev.message.slice(0, 300)})` : ''}`;
    });
    this.timeline.add({ kind: 'op', op: 'pods-ready', node: 'cluster', result, durationMs, detail: { after, ready: want.length - notReady.length, total: want.length, notReady: why } });
    return { ready: want.length - notReady.length, total: want.length, durationMs, notReady: why };
  }
}

/** A kind cell's context: a CellContext without node agents, with the API. */
function kubeContext(base: Omit<CellContext, 'stack' | 'agents' | 'agent' | 'networks' | 'boot'>, kube: KubeCellState): CellContext {
  const noAgent = (what: string) => () => {
    throw new FaultlineError('internal', `a kind cell has no ${what}: the step or check should have been refused at validation`);
  };
  return {
    ...base,
    kube,
    agents: [],
    agent: noAgent('node agent'),
    get stack(): never {
      return noAgent('resolved node stack')() as never;
    },
    get networks(): never {
      return noAgent('network store')() as never;
    },
    boot: (node: Node) => kube.waitBooted(node, node.bootedAtMs ?? Date.now()).then(() => undefined),
  };
}

export async function runKubeCell(plan: CellPlan, env: CellEnv & { backend: KubeBackend }): Promise<CellReport> {
  const started = Date.now();
  const timeline = new Timeline();
  const slug = cellSlug(plan);
  const artifactsDir = path.join(env.reportDir, 'artifacts', slug);
  const results: AssertionResult[] = [];
  let stack: KindStack | undefined;
  let cluster: KubeCluster | undefined;
  let installed: InstallRecord[] = [];
  let cniReadyMs: number | undefined;
  let harnessError: Error | undefined;
  const progress = (m: string) => env.progress(plan.id, m);
  const sc = plan.scenario;

  try {
    env.signal.throwIfAborted();
    stack = await loadKindStack(cellKindStackName(plan)).catch((e: unknown) => {
      throw locatedError(e, sc, ['cluster', 'stack', 'profile']);
    });
    const st = stack;
    const stages = st.stageFilesFrom ? planStages((await loadStackProfile(st.stageFilesFrom)).stageFiles) : undefined;
    for (const w of stages?.warnings ?? []) timeline.warn(w);
    const spec: KubeClusterSpec = {
      runId: env.runId,
      cellId: slug,
      workDir: path.join(env.workDir, 'cells', slug),
      nodes: env.backend.nodeNames(sc.cluster.nodes).map((name) => ({ name, pluginDir: '', podSubnet: sc.cluster.podCIDR })),
      config: kubeConfigSpec(plan, st),
      ...(st.reboot && !st.reboot.controlPlane ? { rebootRefusals: { 'node-1': `the control plane cannot be rebooted with this stack: ${st.reboot.why}` } } : {}),
      ...(stages?.steps.length ? { bootStages: stages.steps.map((s) => ({ name: `${s.stage}: ${s.name}`, commands: s.commands })) } : {}),
    };
    progress(`creating kind cluster (${sc.cluster.nodes} node(s), ${spec.config.nodeImage ?? 'default node image'})`);
    const t0 = Date.now();
    cluster = await env.backend.kube.up(spec, env.signal);
    const c = cluster;
    timeline.add({ kind: 'op', op: 'kind-create', node: 'cluster', result: 'ok', durationMs: Date.now() - t0, detail: { cluster: c.info.clusterName, provider: c.info.provider, nodeImage: c.info.nodeImage } });
    progress(`cluster create ${(c.info.createMs / 1000).toFixed(1)} s`);
    const kubectl = new Kubectl(c.info.kubectl.path, c.kubeconfig);
    const kube = new KubeCell(c, kubectl, st, timeline, env.signal);
    const t1 = Date.now();
    const inst = await installStack(kubectl, st, { signal: env.signal, onProgress: progress });
    installed = inst.installed;
    cniReadyMs = Date.now() - t1;
    timeline.add({ kind: 'op', op: 'cni-ready', node: 'cluster', result: 'ok', durationMs: cniReadyMs, detail: { installed: installed.map((i) => ({ name: i.name, sha256: i.sha256, durationMs: Math.round(i.durationMs) })), rolloutsMs: Math.round(inst.readyMs) } });
    progress(`CNI ready ${(cniReadyMs / 1000).toFixed(1)} s`);
    for (const node of c.nodes) await kube.waitBooted(node, node.bootedAtMs ?? t0);
    const nodes = c.nodes.map((n) => ({ name: n.name, kubeNode: c.kubeNodeName(n.name) }));
    const pods = workloadPodSpecs(sc.workload, nodes);
    if (pods.length) await kube.createPods(pods, PODS_READY_TIMEOUT_MS);

    const invariantState = new Map<string, AssertionResult>();
    const ctx = kubeContext(
      {
        scenario: sc,
        matrix: plan.values,
        cluster: c,
        timeline,
        signal: env.signal,
        artifactsDir,
        seed: env.seed,
        progress,
        async observe(after) {
          const snaps: NodeSnapshot[] = await Promise.all(c.nodes.map((n) => observeKubeNode(n)));
          timeline.observe(after, snaps);
          const obs = await observeKube(kubectl, after, timeline.now());
          kube.record(obs);
          timeline.add({ kind: 'op', op: 'observe-api', node: 'cluster', result: 'ok', durationMs: 0, detail: { after, pods: obs.pods.length, warnings: obs.events.length, ...(obs.ips ? { ips: obs.ips.length } : {}), ...(obs.subnets ? { subnets: obs.subnets.map((x) => ({ name: x.name, v4usingIPs: x.v4usingIPs, v4availableIPs: x.v4availableIPs })) } : {}), ...(obs.nads ? { nads: obs.nads.length } : {}) } });
          return snaps;
        },
        async checkInvariants(after) {
          const snap = timeline.currentSnapshot() ?? (await ctx.observe(after));
          let ok = true;
          for (const [index, inv] of sc.invariants.entries()) {
            if (invariantState.get(inv.name)?.status === 'fail') continue;
            const j = await judge(ctx, snap, inv, ['invariants', index, inv.kind]);
            const res: AssertionResult = { name: inv.name, phase: 'during', status: j.status, evidence: j.evidence };
            if (j.status === 'fail') {
              res.firstViolationAt = timeline.add({ kind: 'verdict', result: res });
              ok = false;
            }
            invariantState.set(inv.name, res);
          }
          return ok;
        },
      },
      kube,
    );
    await ctx.observe('boot');
    await ctx.checkInvariants('boot');
    for (const [i, step] of sc.steps.entries()) {
      env.signal.throwIfAborted();
      const fault = getFault(step.kind);
      const t = Date.now();
      progress(`step ${i + 1}/${sc.steps.length}: ${step.kind}`);
      try {
        if (!fault.kube) throw new FaultlineError('internal', `${step.kind} has no kind implementation (validation should have refused it)`);
        const detail = await fault.kube(ctx as CellContext & { kube: KubeCellState }, step.params);
        timeline.add({ kind: 'step', index: i, step: step.kind, detail, result: 'ok', durationMs: Date.now() - t });
      } catch (e) {
        timeline.add({ kind: 'step', index: i, step: step.kind, detail: errorMessage(e), result: 'error', error: errorMessage(e), durationMs: Date.now() - t });
        throw locatedError(e, sc, ['steps', i, step.kind]);
      }
      await ctx.observe(`step ${i + 1}: ${step.kind}`);
      await ctx.checkInvariants(`step ${i + 1}: ${step.kind}`);
    }
    results.push(...invariantState.values());
    const final = timeline.currentSnapshot()!;
    for (const [index, a] of sc.assertions.entries()) {
      const j = await judge(ctx, final, a, ['assertions', index, a.kind]);
      const res: AssertionResult = { name: a.name, phase: 'end', status: j.status, evidence: j.evidence };
      timeline.add({ kind: 'verdict', result: res });
      results.push(res);
    }
  } catch (e) {
    harnessError = e instanceof Error ? e : new Error(String(e));
  } finally {
    if (cluster) {
      const c = cluster;
      await mkdir(artifactsDir, { recursive: true }).catch(() => undefined);
      await writeFile(path.join(artifactsDir, 'kind-config.yaml'), c.info.config).catch(() => undefined);
      await dumpNodeState(c, path.join(artifactsDir, 'nodes'), (m) => timeline.warn(m)).catch((e) => timeline.warn(`could not save node state: ${errorMessage(e)}`));
      // kind's own view of every node (journals, /var/log, crictl inspect): kept for any cell that did not pass.
      if (harnessError || results.some((r) => r.status !== 'pass')) {
        await c.exportLogs(path.join(artifactsDir, 'kind-logs')).catch((e) => timeline.warn(`kind export logs: ${errorMessage(e)}`));
      }
      await c.down().catch((e) => timeline.warn(`teardown: ${errorMessage(e)}`));
    }
  }

  const aborted = env.signal.aborted;
  const located = harnessError instanceof FaultlineError && harnessError.location ? `${formatLocation(harnessError.location)}: ` : '';
  const errText = harnessError ? (aborted ? `interrupted: ${errorMessage(env.signal.reason)}` : `${located}${errorMessage(harnessError)}`) : undefined;
  const cellError = harnessError ? { message: errText!, source: errorSource(harnessError), ...(aborted ? { interrupted: true } : {}) } : undefined;
  const { outcome, reason } = decideOutcome(results, plan.expectation, cellError);
  const info = cluster?.info;
  return {
    id: plan.id,
    scenario: sc.name,
    scenarioFile: sc.file,
    matrix: plan.values,
    outcome,
    reason,
    asExpected: asExpected(outcome, plan.expectation, cellError),
    expected: { outcome: plan.expectation.outcome, failing: plan.expectation.failing, ...(plan.expectation.reason ? { reason: plan.expectation.reason } : {}), ...(plan.expectation.error ? { error: { ...plan.expectation.error } } : {}) },
    assertions: results,
    warnings: timeline.warnings,
    stack: {
      profile: stack?.name ?? cellKindStackName(plan),
      cni: { version: stack?.name ?? cellKindStackName(plan), source: 'kind stack (pinned manifests)', dir: '', sha256: Object.fromEntries((stack?.install ?? []).map((i) => [i.name, i.sha256])) },
      runtime: 'the node image (containerd of the kind node)',
      kind: {
        ...(info ? { cluster: info.clusterName, provider: info.provider, engine: info.engine, nodeImage: info.nodeImage, kind: info.kind, kubectl: info.kubectl } : {}),
        manifests: (stack?.install ?? []).map((i) => ({ name: i.name, url: i.url, sha256: i.sha256, type: i.type ?? 'manifest', ...(i.images ? { images: i.images } : {}) })),
        timings: {
          ...(info ? { clusterCreateMs: Math.round(info.createMs) } : {}),
          ...(cniReadyMs !== undefined ? { cniReadyMs } : {}),
          rebootToReadyMs: timeline.entries.flatMap((e) => (e.kind === 'op' && e.op === 'boot' && e.detail && timeline.entries.some((x) => x.kind === 'op' && x.op === 'power-cut' && x.node === e.node && x.at < e.at) ? [{ node: e.node, nodeReadyMs: Number(e.detail.nodeReadyMs), podsRunningMs: Number(e.detail.podsRunningMs) }] : [])),
        },
      },
      substitutions: [],
      conflistCniVersion: 'as the stack writes it',
    },
    seed: env.seed,
    durationMs: Date.now() - started,
    ...(cellError ? { error: { message: cellError.message, code: aborted ? 'interrupted' : errorCode(harnessError), source: cellError.source, ...(located && !aborted ? { location: located.slice(0, -2) } : {}) } } : {}),
    timeline: timeline.entries,
    artifacts: cluster ? [path.relative(env.reportDir, artifactsDir)] : [],
  };
}

/** A kind node's snapshot: its real host-local reservations, its live sandboxes (crictl), Multus's config. */
async function observeKubeNode(node: Node): Promise<NodeSnapshot> {
  const reservations = await readReservations(node);
  const snap: NodeSnapshot = { node: node.name, running: node.running, reservations, attachments: [], links: [], netns: [] };
  if (node.bootedAtMs !== undefined) snap.bootedAtMs = node.bootedAtMs;
  const multus = await observeMultusConfig(node);
  if (multus.present) snap.multusConfig = multus;
  if (node.running) {
    snap.netns = await node.listNetns();
    const r = await node.exec(['crictl', 'pods', '-o', 'json'], { timeoutMs: 30_000 });
    if (r.exitCode === 0) {
      const items = ((JSON.parse(r.stdout) as { items?: Record<string, any>[] }).items ?? []);
      snap.sandboxes = items.map((s) => ({ id: String(s.id), pod: `${s.metadata?.namespace}/${s.metadata?.name}`, state: s.state === 'SANDBOX_READY' ? 'ready' : 'notready', createdAtMs: Math.round(Number(s.createdAt ?? 0) / 1e6) }));
      // host-local's files name the sandbox id and the ifname: a reservation of a ready sandbox is live.
      const ready = new Map(snap.sandboxes.filter((s) => s.state === 'ready').map((s) => [s.id, s.pod]));
      snap.attachments = reservations.filter((x) => x.containerId && ready.has(x.containerId)).map((x) => ({ pod: ready.get(x.containerId!)!, network: x.network, containerId: x.containerId!, ifName: x.ifName ?? 'eth0', netns: '', ips: [x.ip] }));
    }
  }
  return snap;
}

async function judge(ctx: CellContext, snap: NodeSnapshot[], check: { kind: string; params: Record<string, unknown> }, at: (string | number)[]) {
  try {
    return await getAssertion(check.kind).evaluate(ctx, snap, check.params);
  } catch (e) {
    if (e instanceof FaultlineError && e.code === 'invalid-input') throw locatedError(e, ctx.scenario, at);
    return { status: 'unknown' as const, evidence: [{ summary: `${check.kind} could not judge: ${errorMessage(e)}` }] };
  }
}
