// Start pods of a workload as the scheduler and kubelet do: RunPodSandbox for each, `concurrency`
// at once. Without `count` the workload comes back to its desired count (pods deleted or failed are
// started again); with `count`, that many more pods on each selected node, which from then on count
// as desired (a reboot's reconcile starts them again). A failed ADD is an outcome, not a harness
// error: the pod is left failed with the runtime's error, and checks such as pods-running judge it.
// On kind the same step creates the pods through the API (bound to their node) and waits for Ready.
import * as s from '../schema/dsl.ts';
import { defineFault, type KubeStepContext } from './registry.ts';
import { podIndex, workloadPod } from '../agent/pods.ts';
import type { PodSpec } from '../agent/types.ts';
import type { Workload } from '../model/scenario.ts';
import type { KubePodSpec } from '../kube/workload.ts';

/** The most pods one create-pods step may start on a node (replicasPerNode's bound). */
export const MAX_CREATE_COUNT = 250;
/** The most RunPodSandbox calls in flight at once. */
export const MAX_CREATE_CONCURRENCY = 256;

const unknownWorkload = (name: string, names: string[]) => `unknown workload '${name}'; the scenario has ${names.length ? names.join(', ') : 'no workload'}`;

export const createPods = defineFault({
  name: 'create-pods',
  description: 'Start pods of a workload, `concurrency` at once: without `count` up to its desired count (deleted or failed pods start again); with `count`, that many more on each selected node, which then count as desired. A failed ADD leaves the pod failed with its error (pods-running judges it). On kind, the pods are created through the API and waited for (readyTimeoutMs).',
  params: s.object({
    workload: s.req(s.string({ minLength: 1, description: 'The workload whose pods start (its capabilities, networks and role).' })),
    node: s.opt(s.nodeRef('Only on this node (default: every node of the workload).')),
    count: s.opt(s.integer({ min: 1, max: MAX_CREATE_COUNT, description: 'This many more pods on each selected node (default: start the pods the workload is missing).' })),
    concurrency: s.opt(s.integer({ min: 1, max: MAX_CREATE_CONCURRENCY, description: 'How many pods are created at once (RunPodSandbox calls in flight; on kind the API gets them all at once).' }), 1),
    readyTimeoutMs: s.opt(s.integer({ min: 1000, max: 3_600_000, description: 'kind: how long the pods may take to be Ready (the pods not Ready by then are reported).' }), 300_000),
  }),
  validate(p, sc) {
    if (!sc.workloadNames.includes(p.workload)) return { path: ['workload'], message: unknownWorkload(p.workload, sc.workloadNames) };
    const wl = sc.workloads?.find((w) => w.name === p.workload);
    if (!wl) return undefined;
    if (p.node !== undefined && wl.nodes && !wl.nodes.includes(p.node)) {
      return { path: ['node'], message: `workload '${p.workload}' runs on ${wl.nodes.join(', ')} only (its nodes); the scheduler would not place its pods on ${p.node}` };
    }
    const hostPorts = (wl.capabilities?.portMappings ?? []).map((m) => m.hostPort);
    if (hostPorts.length && p.count !== undefined && (wl.replicasPerNode ?? 1) + p.count > 1) {
      return { path: ['count'], message: `workload '${p.workload}' maps hostPort ${hostPorts.join(', ')}: a node runs at most one of its pods (the scheduler refuses a second), so count can add none beside its ${wl.replicasPerNode ?? 1} replica(s)` };
    }
    return undefined;
  },
  async run(ctx, p) {
    const wl = ctx.scenario.workload.find((w) => w.name === p.workload);
    if (!wl) throw new Error(`create-pods: ${unknownWorkload(p.workload, ctx.scenario.workload.map((w) => w.name))}`);
    const nodes = ctx.cluster.nodes.map((n, i) => ({ name: n.name, number: i + 1 })).filter((n) => (p.node === undefined ? !wl.nodes || wl.nodes.includes(n.name) : n.name === p.node));
    const targets: PodSpec[] = [];
    for (const node of nodes) targets.push(...podsToStart(ctx, wl, node, p.count));
    if (!targets.length) return `${p.workload}: every pod is running (${nodes.map((n) => n.name).join(', ')})`;

    // A pool of `concurrency` workers; a harness failure (an incompatible stack) stops new starts,
    // lets the ones under way finish, and is rethrown.
    const queue = [...targets];
    let stop: unknown;
    const failures: string[] = [];
    let running = 0;
    const worker = async () => {
      while (queue.length && stop === undefined) {
        if (ctx.signal.aborted) {
          stop = ctx.signal.reason;
          break;
        }
        const spec = queue.shift()!;
        try {
          const st = await ctx.agent(spec.node).startPod(spec, { detail: { createPods: true } });
          if (st.phase === 'running') running++;
          else failures.push(`${spec.name}: ${st.error ?? st.phase}`);
        } catch (e) {
          stop ??= e;
        }
      }
    };
    const concurrency = Math.min(p.concurrency!, targets.length);
    await Promise.all(Array.from({ length: concurrency }, worker));
    if (stop !== undefined) throw stop;
    ctx.progress(`create-pods ${p.workload}: ${running}/${targets.length} running${failures.length ? `, ${failures.length} failed` : ''}`);
    const where = p.node ?? nodes.map((n) => n.name).join(', ');
    const head = `${where}: started ${targets.length} pod(s) of ${p.workload}, ${concurrency} at once: ${running} running, ${failures.length} failed`;
    const shown = failures.slice(0, 5);
    return failures.length ? `${head}\n${shown.join('\n')}${failures.length > shown.length ? `\n... and ${failures.length - shown.length} more` : ''}` : head;
  },
  kube: (ctx, p) => createKubePods(ctx, p),
});

/** On kind: the workload's missing pods, or `count` more per node, created through the API. */
async function createKubePods(ctx: KubeStepContext, p: { workload: string; node?: string; count?: number; readyTimeoutMs?: number }): Promise<string> {
  const wl = ctx.scenario.workload.find((w) => w.name === p.workload);
  if (!wl) throw new Error(`create-pods: ${unknownWorkload(p.workload, ctx.scenario.workload.map((w) => w.name))}`);
  const existing = new Set(ctx.kube.pods().map((x) => x.name));
  const specs: KubePodSpec[] = [];
  ctx.cluster.nodes.forEach((n, i) => {
    if (p.node === undefined ? wl.nodes && !wl.nodes.includes(n.name) : n.name !== p.node) return;
    const spec = (r: number): KubePodSpec => ({ name: workloadPod(wl, n.name, i + 1, r).name, node: n.name, kubeNode: ctx.kube.cluster.kubeNodeName(n.name), workload: wl.name, networks: wl.networks ?? [] });
    if (p.count === undefined) {
      for (let r = 0; r < (wl.replicasPerNode ?? 1); r++) if (!existing.has(spec(r).name)) specs.push(spec(r));
      return;
    }
    let next = Math.max(-1, ...[...existing].map((x) => podIndex(x, wl.name, i + 1) ?? -1)) + 1;
    for (let k = 0; k < p.count; k++) specs.push(spec(next++));
  });
  if (!specs.length) return `${p.workload}: every pod exists`;
  const r = await ctx.kube.createPods(specs, p.readyTimeoutMs!);
  return `created ${specs.length} pod(s) of ${p.workload}; ${r.ready} Ready after ${Math.round(r.durationMs)} ms${r.notReady.length ? `; not Ready: ${r.notReady.join('; ')}` : ''}`;
}

/**
 * The pods to start on one node: `count` new ones (added to the desired pods, named after the highest
 * number the workload ever used there), or without a count the workload's replicas back in the
 * desired pods and every desired pod of the workload that has no sandbox or a failed one.
 */
function podsToStart(ctx: Parameters<typeof createPods.run>[0], wl: Workload, node: { name: string; number: number }, count: number | undefined): PodSpec[] {
  const agent = ctx.agent(node.name);
  if (count !== undefined) {
    const used = new Set<string>([...agent.desired().map((x) => x.name), ...agent.pods().map((x) => x.spec.name)]);
    for (const e of ctx.timeline.entries) if (e.kind === 'op' && e.node === node.name && e.pod) used.add(e.pod);
    let next = Math.max(-1, ...[...used].map((n) => podIndex(n, wl.name, node.number) ?? -1)) + 1;
    const out: PodSpec[] = [];
    for (let i = 0; i < count; i++) {
      const spec = workloadPod(wl, node.name, node.number, next++);
      agent.addDesired(spec);
      out.push(spec);
    }
    return out;
  }
  for (let i = 0; i < (wl.replicasPerNode ?? 1); i++) {
    const spec = workloadPod(wl, node.name, node.number, i);
    if (!agent.desired().some((x) => x.name === spec.name)) agent.addDesired(spec);
  }
  return agent.desired().filter((x) => x.workload === wl.name && (agent.pod(x.name) === undefined || agent.pod(x.name)!.phase === 'failed'));
}
