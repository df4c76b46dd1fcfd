// The node's container runtime dies or restarts while the node stays up.
//   kill-runtime     SIGKILL of the runtime and its shims (an OOM kill, a crash): sandboxes lose
//                    their pause processes; with `restart` (default, as systemd restarts it) the
//                    runtime comes back and kubelet reconciles (dead sandboxes stopped and removed,
//                    pods started again). On the model, only the runtime's memory is lost.
//   restart-runtime  a clean restart (SIGTERM, start): sandboxes live on; kubelet reconciles.
import * as s from '../schema/dsl.ts';
import { defineFault } from './registry.ts';
import type { CellContext } from '../context/cell-context.ts';

async function afterRestart(ctx: CellContext, node: string): Promise<string> {
  const agent = ctx.agent(node);
  await agent.runtime.start();
  const r = await agent.reconcile();
  return `${agent.runtime.description} back; kubelet removed ${r.removed} dead sandbox(es)${r.stuck ? `, ${r.stuck} stuck` : ''}, started ${r.started} pod(s)${r.failed ? `, ${r.failed} failed` : ''}`;
}

export const killRuntime = defineFault({
  name: 'kill-runtime',
  description: "SIGKILL the node's container runtime and its shims; the node stays up. With restart (default) it comes back and kubelet reconciles.",
  params: s.object({
    node: s.req(s.nodeRef()),
    restart: s.opt(s.boolean('Start the runtime again afterwards, as its service manager does (default true).'), true),
  }),
  async run(ctx, p) {
    const agent = ctx.agent(p.node);
    await agent.runtime.kill();
    ctx.progress(`kill-runtime ${p.node}: ${agent.runtime.description} killed`);
    if (!p.restart) return `${p.node}: ${agent.runtime.description} killed, left down`;
    return `${p.node}: ${agent.runtime.description} killed; ${await afterRestart(ctx, p.node)}`;
  },
});

export const restartRuntime = defineFault({
  name: 'restart-runtime',
  description: "Restart the node's container runtime cleanly (SIGTERM, then start); sandboxes live on.",
  params: s.object({ node: s.req(s.nodeRef()) }),
  async run(ctx, p) {
    const agent = ctx.agent(p.node);
    await agent.runtime.restart();
    ctx.progress(`restart-runtime ${p.node}: done`);
    return `${p.node}: ${agent.runtime.description} restarted; ${await afterRestart(ctx, p.node)}`;
  },
});
