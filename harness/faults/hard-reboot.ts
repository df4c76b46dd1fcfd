// Power cut and boot: every kernel object of the node dies, the disk stays; then the boot runs
// (stage files, CNI daemon, runtime, kubelet reconcile with new sandboxes). Nobody calls DEL for the
// sandboxes that died.
import * as s from '../schema/dsl.ts';
import { defineFault } from './registry.ts';

export const hardReboot = defineFault({
  name: 'hard-reboot',
  description: 'Cut the power of a node and boot it again, `repeat` times.',
  params: s.object({
    node: s.req(s.nodeRef()),
    repeat: s.opt(s.integer({ min: 1, max: 100 }), 1),
    downMs: s.opt(s.integer({ min: 0, max: 60_000, description: 'Time powered off before the boot.' }), 0),
  }),
  async run(ctx, p) {
    const node = ctx.cluster.node(p.node);
    const agent = ctx.agent(p.node);
    const results: string[] = [];
    for (let i = 1; i <= p.repeat!; i++) {
      ctx.signal.throwIfAborted();
      await node.powerOff();
      agent.onPowerOff();
      if (p.downMs) await new Promise((r) => setTimeout(r, p.downMs));
      await node.powerOn();
      await ctx.boot(node);
      const pods = agent.pods();
      results.push(`#${i}: ${pods.filter((x) => x.phase === 'running').length}/${agent.desired().length} pods running`);
      ctx.progress(`hard-reboot ${p.node} ${i}/${p.repeat}: ${results.at(-1)}`);
      if (i < p.repeat!) await ctx.observe(`hard-reboot ${p.node} #${i}`);
    }
    return `${p.node}: ${results.join('; ')}`;
  },
});
