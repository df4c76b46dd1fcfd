// Harvester PR #1035's test plan: after a reboot, the state directory is absent or holds only files
// newer than the boot. (A directory mtime proves nothing: it changes whenever a file is added.)
import * as s from '../schema/dsl.ts';
import { defineAssertion, fail, pass, unknown } from './registry.ts';
import type { Evidence } from '../model/verdict.ts';

export const staleStateClearedOnBoot = defineAssertion({
  name: 'stale-state-cleared-on-boot',
  description: 'After the last boot, the directory is absent or holds only files newer than the boot.',
  runsOn: 'any',
  params: s.object({
    path: s.opt(s.ref('node-path', { description: 'Directory on the node.' }), '/var/lib/cni/networks/k8s-pod-network'),
    node: s.opt(s.nodeRef('Only this node (default: every node that rebooted).')),
  }),
  async evaluate(ctx, _snapshot, p) {
    const evidence: Evidence[] = [];
    const judged: string[] = [];
    for (const node of ctx.cluster.nodes) {
      if (p.node && node.name !== p.node) continue;
      const boots = ctx.timeline.entries.filter((e) => e.kind === 'op' && e.op === 'boot' && e.node === node.name).length;
      const rebooted = boots > 1;
      if (!rebooted || node.bootedAtMs === undefined) continue;
      judged.push(node.name);
      const dir = p.path!;
      for (const name of (await node.list(dir)).sort()) {
        if (name === 'lock') continue; // host-local's flock file carries no state
        const st = await node.stat(`${dir}/${name}`);
        if (st && st.mtimeMs < node.bootedAtMs) {
          evidence.push({ summary: `${node.name}: ${dir}/${name} predates the boot by ${((node.bootedAtMs - st.mtimeMs) / 1000).toFixed(1)} s`, node: node.name, file: `${dir}/${name}` });
        }
      }
    }
    if (!judged.length) return unknown('no node was rebooted, nothing to judge');
    return evidence.length ? fail(evidence) : pass([{ summary: `${judged.join(', ')}: ${p.path} holds nothing older than the last boot` }]);
  },
});
