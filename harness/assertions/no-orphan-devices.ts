// A veth in a node whose other end is in a network namespace that no running pod owns (the pod was
// deleted but its DEL never completed), or whose peer namespace is gone.
import * as s from '../schema/dsl.ts';
import { defineAssertion, fail, pass } from './registry.ts';
import { nodeParam, selectNodes } from './node-filter.ts';
import type { Evidence } from '../model/verdict.ts';

export const noOrphanDevices = defineAssertion({
  name: 'no-orphan-devices',
  description: 'Every pod-facing veth in a node belongs to a running pod.',
  params: s.object({ node: nodeParam }),
  evaluate(ctx, snapshot, p) {
    const evidence: Evidence[] = [];
    let veths = 0;
    for (const n of selectNodes(snapshot, p.node)) {
      const liveNetns = new Set(ctx.agent(n.node).pods().filter((x) => x.phase === 'running').map((x) => x.netnsName));
      for (const l of n.links) {
        if (l.kind !== 'veth' || !l.peer) continue;
        // Pod sandboxes are named namespaces of the node (/run/netns); a veth into a namespace the
        // node has not named is not pod-facing (an external segment's link, e.g. ext0).
        if (l.peer.startsWith('netnsid:')) continue;
        veths++;
        if (!liveNetns.has(l.peer)) {
          const owner = ctx.agent(n.node).pods().find((x) => x.netnsName === l.peer);
          evidence.push({
            summary: `${n.node}: ${l.name}${l.master ? ` (on ${l.master})` : ''} peers into ${l.peer}, ${owner ? `pod ${owner.spec.name} is ${owner.phase}` : 'which no pod owns'}`,
            node: n.node,
            link: l.name,
            netns: l.peer,
          });
        }
      }
    }
    return evidence.length ? fail(evidence) : pass([{ summary: `${veths} pod veth(s), all owned by running pods` }]);
  },
});
