// The container runtime dies in the middle of a pod's ADD (power loss, OOM kill, a restart).
//   at: cache-write  every plugin succeeded; libcni has created the result cache file (create/truncate)
//                    but not written it: the file stays empty (cni#1055, #1149).
//   at: mid-chain    plugins 1..afterPlugin succeeded, the rest of the chain never ran, no cache file.
// The netns and what the plugins made in the kernel and on disk (veth, address, iptables rules) stay;
// the runtime's memory of the ADD is gone and the pod is not running. Its sandbox record stays, so a
// later delete-pods DELs it.
import * as s from '../schema/dsl.ts';
import { defineFault } from './registry.ts';
import { FaultlineError } from '../errors.ts';
import type { NodeAgent, PodSpec } from '../agent/types.ts';
import { RuntimeCrash, type CrashPoints } from '../runtime/types.ts';

export const crashDuringAdd = defineFault({
  name: 'crash-during-add',
  description: 'Create a pod and crash the runtime during its ADD: while the cache file is written (empty file left) or after plugin N of the chain.',
  requires: ['crash-points'],
  params: s.object({
    node: s.req(s.nodeRef()),
    pod: s.req(s.string({ pattern: /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, expected: 'a lowercase pod name like victim-0', description: 'Name of the pod to create; no pod of that name may exist on the node.' })),
    workload: s.opt(s.string({ minLength: 1, description: 'Create the pod as a member of this workload (its networks and role); default a plain pod.' })),
    at: s.opt(s.literal(['cache-write', 'mid-chain'] as const, 'cache-write: after every plugin succeeded, with the cache file created empty; mid-chain: after plugin `afterPlugin`.'), 'cache-write'),
    afterPlugin: s.opt(s.integer({ min: 1, max: 32, description: 'For mid-chain: crash after this many plugins of the chain (1 = after the first) succeeded.' })),
  }),
  validate(p, sc) {
    if (p.workload !== undefined && !sc.workloadNames.includes(p.workload)) {
      return `unknown workload '${p.workload}'; the scenario has ${sc.workloadNames.length ? sc.workloadNames.join(', ') : 'no workload'}`;
    }
    if (p.afterPlugin !== undefined && p.at !== 'mid-chain') return `'afterPlugin' applies only to at: mid-chain`;
    return undefined;
  },
  async run(ctx, p) {
    const node = ctx.cluster.node(p.node);
    const agent = ctx.agent(p.node);
    if (!agent.runtime.capabilities.crashPoints) {
      throw new FaultlineError('invalid-input', `crash-during-add: the runtime of ${node.name} (${agent.runtime.description}) has no crash points inside an ADD`);
    }
    const existing = agent.pod(p.pod) ?? agent.desired().find((x) => x.name === p.pod);
    if (existing) {
      throw new FaultlineError('invalid-input', `crash-during-add: a pod named ${p.pod} already exists on ${node.name}; name a pod to create (existing: ${podNames(agent)})`);
    }
    const wl = p.workload === undefined ? undefined : ctx.scenario.workload.find((w) => w.name === p.workload);
    const spec: PodSpec = { name: p.pod, node: node.name, workload: p.workload ?? p.pod, networks: wl?.networks ?? [], role: wl?.role ?? 'pod' };

    const afterPlugin = p.afterPlugin ?? 1;
    let where: string | undefined;
    let cacheFile: string | undefined;
    const crash: CrashPoints =
      p.at === 'mid-chain'
        ? {
            afterPluginAdd(index, type) {
              if (index + 1 !== afterPlugin) return;
              where = `after plugin ${index + 1} (${type}) of the chain`;
              throw new RuntimeCrash(`runtime crashed during ADD of ${p.pod} ${where}`);
            },
          }
        : {
            duringCacheWrite(file) {
              cacheFile = file;
              where = `while writing the result cache ${file}`;
              throw new RuntimeCrash(`runtime crashed during ADD of ${p.pod} ${where}`);
            },
          };

    agent.addDesired(spec);
    let state;
    try {
      state = await agent.startPod(spec, { crash });
    } catch (e) {
      if (!(e instanceof RuntimeCrash)) {
        agent.removeDesired(spec.name);
        throw e;
      }
    }
    if (!where) {
      // The ADD ended (failed or succeeded) without reaching the crash point.
      const why = state?.phase === 'failed' ? `the ADD failed first: ${state.error}` : p.at === 'mid-chain' ? `the chain has fewer than ${afterPlugin} plugin(s)` : 'the ADD never wrote a cache file';
      if (state) await agent.deletePod(spec.name).catch(() => undefined);
      throw new FaultlineError('invalid-input', `crash-during-add: pod ${p.pod} on ${node.name} never reached the crash point (${p.at}${p.at === 'mid-chain' ? ` after plugin ${afterPlugin}` : ''}): ${why}`);
    }
    const reason = `runtime crashed during ADD ${where}`;
    const st = agent.crashed(spec.name, reason, { at: p.at, ...(cacheFile ? { cacheFile } : {}), ...(p.at === 'mid-chain' ? { afterPlugin } : {}) });
    let cacheNote = '';
    if (cacheFile) {
      const size = (await node.stat(cacheFile).catch(() => undefined))?.size;
      cacheNote = size === undefined ? `; ${cacheFile} is missing` : `; ${cacheFile} left with ${size} bytes`;
    }
    ctx.progress(`crash-during-add ${node.name}/${p.pod}: ${where}`);
    return `${node.name}: pod ${p.pod} (sandbox ${st.containerId}, netns ${st.netnsName}): ${reason}${cacheNote}`;
  },
});

function podNames(agent: NodeAgent): string {
  const names = agent.pods().map((x) => x.spec.name);
  return names.length ? names.join(', ') : 'none';
}
