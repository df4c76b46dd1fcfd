// Delete pods as the kubelet does: StopPodSandbox (CNI DEL through the runtime, reverse chain order),
// then the netns goes. A failed DEL is an outcome, not a harness error: it is recorded with the
// runtime's exact error (`failed to destroy network for sandbox "<id>": ...`), the sandbox stays, and
// the step carries on with the other pods. Checks such as del-succeeds judge it.
import * as s from '../schema/dsl.ts';
import { defineFault } from './registry.ts';
import { FaultlineError } from '../errors.ts';

const POD_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const deletePods = defineFault({
  name: 'delete-pods',
  description: 'Delete pods (by name, by workload, or all) on a node or every node; DEL failures are recorded, not fatal.',
  params: s.object({
    node: s.opt(s.nodeRef('Only pods on this node (default: every node).')),
    pods: s.opt(s.array(s.string({ pattern: POD_NAME, expected: 'a pod name like web-n1-0' }), { minItems: 1, unique: true, description: 'Pods to delete, by name.' })),
    workload: s.opt(s.string({ minLength: 1, description: 'Delete every pod of this workload.' })),
    all: s.opt(s.boolean('Delete every pod.')),
  }),
  validate(p, sc) {
    const given = [p.pods !== undefined && 'pods', p.workload !== undefined && 'workload', p.all !== undefined && 'all'].filter(Boolean);
    if (given.length !== 1) return `give exactly one of 'pods' (names), 'workload' (a name) or 'all: true'${given.length ? `, found ${given.join(' and ')}` : ''}`;
    if (p.all === false) return `'all: false' selects nothing; write 'all: true', or name 'pods' or a 'workload'`;
    if (p.workload !== undefined && !sc.workloadNames.includes(p.workload)) {
      return `unknown workload '${p.workload}'; the scenario has ${sc.workloadNames.length ? sc.workloadNames.join(', ') : 'no workload'}`;
    }
    return undefined;
  },
  async run(ctx, p) {
    const nodes = p.node ? [ctx.cluster.node(p.node)] : [...ctx.cluster.nodes];
    // Every pod the node knows of: sandboxes, and desired pods that have none (yet).
    const known = (node: string) => [...new Set([...ctx.agent(node).pods().map((x) => x.spec.name), ...ctx.agent(node).desired().map((x) => x.name)])].sort();
    const targets: { node: (typeof nodes)[number]; pod: string }[] = [];
    for (const node of nodes) {
      for (const pod of known(node.name)) {
        const spec = ctx.agent(node.name).pod(pod)?.spec ?? ctx.agent(node.name).desired().find((x) => x.name === pod);
        if (p.all || p.pods?.includes(pod) || (p.workload !== undefined && spec?.workload === p.workload)) targets.push({ node, pod });
      }
    }
    const missing = (p.pods ?? []).filter((name) => !targets.some((t) => t.pod === name));
    if (missing.length) {
      const where = p.node ?? 'any node';
      const all = nodes.flatMap((n) => known(n.name));
      throw new FaultlineError('invalid-input', `delete-pods: no pod named ${missing.join(', ')} on ${where} (pods: ${all.length ? all.join(', ') : 'none'})`);
    }
    if (!targets.length) return `no pod matched (${p.workload !== undefined ? `workload ${p.workload}` : 'all'}${p.node ? ` on ${p.node}` : ''})`;

    const failures: string[] = [];
    let ok = 0;
    for (const t of targets) {
      ctx.signal.throwIfAborted();
      const r = await ctx.agent(t.node.name).deletePod(t.pod);
      if (r.ok) ok++;
      else failures.push(`${t.node.name}/${t.pod}: ${r.error}`);
    }
    ctx.progress(`delete-pods: ${ok}/${targets.length} deleted${failures.length ? `, ${failures.length} DEL failed` : ''}`);
    const head = `deleted ${ok} of ${targets.length} pod(s)`;
    return failures.length ? `${head}; DEL failed for ${failures.length}:\n${failures.join('\n')}` : head;
  },
  // Through the API: the pods go as kubelet deletes them (StopPodSandbox: the runtime's CNI DEL).
  async kube(ctx, p) {
    const targets = ctx.kube
      .pods()
      .filter((x) => (!p.node || x.node === p.node) && (p.all || p.pods?.includes(x.name) || (p.workload !== undefined && x.workload === p.workload)));
    const missing = (p.pods ?? []).filter((name) => !targets.some((t) => t.name === name));
    if (missing.length) throw new FaultlineError('invalid-input', `delete-pods: no pod named ${missing.join(', ')} on ${p.node ?? 'any node'} (pods: ${ctx.kube.pods().map((x) => x.name).join(', ') || 'none'})`);
    const r = await ctx.kube.deletePods(targets.map((t) => t.name));
    return `deleted ${r.deleted} of ${targets.length} pod(s) through the API${r.failed.length ? `; failed: ${r.failed.join('; ')}` : ''}`;
  },
});
