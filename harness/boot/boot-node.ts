// A node's boot after power-on: stage files (yip semantics), the CNI daemon writing its configs (and
// Multus's thin entrypoint, when the stack has it, generating 00-multus.conf from them), the runtime
// starting, then the kubelet reconciling (dead sandboxes stopped and removed, desired pods started).
import type { ResolvedStack } from '../model/profile.ts';
import type { Timeline } from '../model/timeline.ts';
import type { NodeAgent } from '../agent/types.ts';
import { planStages } from './yip-stages.ts';
import { renderConflist } from '../cluster/render.ts';
import { startMultus } from '../daemons/multus-daemon.ts';

export async function bootNode(agent: NodeAgent, stack: ResolvedStack, timeline: Timeline): Promise<void> {
  const node = agent.node;
  const started = Date.now();
  const plan = planStages(stack.profile.stageFiles);
  for (const w of plan.warnings) timeline.warn(w);
  for (const step of plan.steps) {
    if (step.if !== undefined) {
      const cond = await node.exec(['sh', '-c', step.if]);
      if (cond.exitCode !== 0) continue;
    }
    for (const cmd of step.commands) {
      // Stage commands are the release's own file content (profile data), run as yip runs them.
      const r = await node.exec(['sh', '-c', cmd]);
      timeline.add({ kind: 'op', op: `stage ${step.stage}`, node: node.name, result: r.exitCode === 0 ? 'ok' : 'error', durationMs: r.durationMs, detail: { name: step.name, command: cmd }, ...(r.exitCode !== 0 ? { error: r.stderr.trim() } : {}) });
    }
  }
  // Secondary networks are API objects (NetworkAttachmentDefinitions), not files in net.d.
  for (const net of stack.profile.networks.filter((n) => !n.secondary)) {
    const list = renderConflist(net, node.spec.podSubnet, stack.conflistCniVersion);
    await node.writeFile(`/etc/cni/net.d/${net.file}`, JSON.stringify(list, null, 2) + '\n', 0o644);
  }
  // Multus's DaemonSet pod starts once the master config is there (it waits for one otherwise).
  if (stack.multus) {
    const t0 = Date.now();
    const { start } = await startMultus(node, stack.multus.component, { cleanupConfigOnExit: stack.multus.cleanupConfigOnExit });
    timeline.add({ kind: 'op', op: 'multus start', node: node.name, result: 'ok', durationMs: Date.now() - t0, detail: { version: stack.multus.component.version, args: start.args, wrote: start.file } });
  }
  // The runtime starts once the node's CNI config is there (containerd's CRI is network-ready then).
  await agent.runtime.start();
  const { started: running, failed } = await agent.reconcile();
  // Every boot is on the timeline, so checks can tell first boots from reboots.
  timeline.add({ kind: 'op', op: 'boot', node: node.name, result: 'ok', durationMs: Date.now() - started, detail: { bootedAtMs: node.bootedAtMs, podsStarted: running, podsFailed: failed } });
}
