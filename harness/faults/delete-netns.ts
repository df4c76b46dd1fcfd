// A pod's network namespace disappears while its sandbox lives on: the mount under /run/netns and
// the file both go, as after a crash of the runtime or a node agent that lost them (kubelet and
// containerd then carry on with the sandbox). The pod's later DEL finds no namespace: containerd
// checks the path (NetNS.Closed) and passes CNI_NETNS="" to the plugins, and so does the model.
// Plugins that need the namespace to find what they made leave it behind (bridge's ipMasq chain,
// plugins#810).
import * as s from '../schema/dsl.ts';
import { defineFault } from './registry.ts';
import { FaultlineError } from '../errors.ts';

const POD_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const deleteNetns = defineFault({
  name: 'delete-netns',
  description: "Remove pods' network namespaces (the mount and the file) while their sandboxes live on, so their later DEL finds no namespace (CNI_NETNS is empty, as containerd passes it).",
  params: s.object({
    node: s.req(s.nodeRef('The node the pods run on.')),
    workload: s.opt(s.string({ minLength: 1, description: 'Every pod of this workload on the node.' })),
    pods: s.opt(s.array(s.string({ pattern: POD_NAME, expected: 'a pod name like web-n1-0' }), { minItems: 1, unique: true, description: 'These pods, by name.' })),
  }),
  validate(p, sc) {
    const given = [p.workload !== undefined && 'workload', p.pods !== undefined && 'pods'].filter(Boolean);
    if (given.length !== 1) return `give exactly one of 'workload' (a name) or 'pods' (names)${given.length ? `, found ${given.join(' and ')}` : ''}`;
    if (p.workload !== undefined && !sc.workloadNames.includes(p.workload)) {
      return { path: ['workload'], message: `unknown workload '${p.workload}'; the scenario has ${sc.workloadNames.length ? sc.workloadNames.join(', ') : 'no workload'}` };
    }
    return undefined;
  },
  async run(ctx, p) {
    const node = ctx.cluster.node(p.node);
    const agent = ctx.agent(p.node);
    const pods = agent.pods().filter((x) => (p.workload !== undefined ? x.spec.workload === p.workload : p.pods!.includes(x.spec.name)));
    const missing = (p.pods ?? []).filter((name) => !pods.some((x) => x.spec.name === name));
    if (missing.length) {
      throw new FaultlineError('invalid-input', `delete-netns: no pod named ${missing.join(', ')} with a sandbox on ${p.node} (pods: ${agent.pods().map((x) => x.spec.name).join(', ') || 'none'})`);
    }
    if (!pods.length) return `${p.node}: no pod of workload ${p.workload} has a sandbox`;
    const present = new Set(await node.listNetns());
    const done: string[] = [];
    const skipped: string[] = [];
    for (const pod of pods.sort((a, b) => a.spec.name.localeCompare(b.spec.name))) {
      ctx.signal.throwIfAborted();
      if (!pod.netnsName || !present.has(pod.netnsName)) {
        skipped.push(`${pod.spec.name} (${pod.netnsName ? `${pod.netns} is already gone` : 'no namespace'})`);
        continue;
      }
      const started = Date.now();
      await node.deleteNetns(pod.netnsName);
      ctx.timeline.add({ kind: 'op', op: 'delete-netns', node: p.node, pod: pod.spec.name, result: 'ok', durationMs: Date.now() - started, detail: { containerId: pod.containerId, netns: pod.netns } });
      done.push(`${pod.spec.name} (${pod.netns})`);
    }
    ctx.progress(`delete-netns ${p.node}: ${done.length} namespace(s) removed`);
    const head = done.length ? `${p.node}: removed the network namespace of ${done.join(', ')}; the sandboxes live on` : `${p.node}: no namespace removed`;
    return skipped.length ? `${head}; skipped ${skipped.join(', ')}` : head;
  },
});
