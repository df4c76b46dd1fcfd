// A node daemon restarts the way its pod does: SIGKILL (a crash, an OOM kill, `crictl stop --timeout
// 0`: nothing cleans up) or SIGTERM (kubelet deleting or evicting the pod; SIGKILL after the grace
// period), then the DaemonSet starts it again on the same node. For Multus's thin entrypoint the
// difference is its 00-multus.conf: SIGKILL leaves it; SIGTERM lets v4.1.0 remove it when it runs with
// --cleanup-config-on-exit (multus-cni PR #1299). A v4.0.x thin plugin then takes a 00-multus.conf left
// behind as its master config and nests itself (FACTS.md section 4; multus-cni#1162, #1312, #1324).
import * as s from '../schema/dsl.ts';
import { defineFault } from './registry.ts';
import { FaultlineError } from '../errors.ts';
import { multusOn } from '../daemons/multus-daemon.ts';

export const restartDaemon = defineFault({
  name: 'restart-daemon',
  description: "Restart a node daemon as a pod restart or eviction does (signal KILL: no cleanup; TERM: its own shutdown, KILL after graceMs), then start it again.",
  params: s.object({
    node: s.req(s.nodeRef()),
    daemon: s.req(s.literal(['multus'] as const, "The daemon: multus (the thin entrypoint of cluster.stack.multus).")),
    signal: s.opt(s.literal(['KILL', 'TERM'] as const, 'KILL (default): a crash or `crictl stop --timeout 0`; TERM: a pod delete or eviction.'), 'KILL'),
    graceMs: s.opt(s.integer({ min: 0, max: 300_000, description: "After TERM, how long before the KILL (the pod's termination grace period; default 30000)." }), 30_000),
  }),
  validate(p, sc) {
    if (p.daemon === 'multus' && sc.stack && !sc.stack.multus) return { path: ['daemon'], message: 'the stack runs no multus: set cluster.stack.multus (e.g. v4.1.0)' };
    return undefined;
  },
  async run(ctx, p) {
    const node = ctx.cluster.node(p.node);
    const daemon = multusOn(node);
    if (!daemon) throw new FaultlineError('invalid-input', `restart-daemon: node ${p.node} runs no multus (cluster.stack.multus is not set)`);
    const t0 = Date.now();
    const stop = await daemon.stop(p.signal!, p.graceMs!);
    ctx.timeline.add({ kind: 'op', op: 'daemon stop', node: p.node, result: 'ok', durationMs: Date.now() - t0, detail: { daemon: 'multus', signal: p.signal, exit: stop.exit, killedAfterGrace: stop.killedAfterGrace, left: stop.left } });
    const t1 = Date.now();
    const start = await daemon.start();
    ctx.timeline.add({ kind: 'op', op: 'daemon start', node: p.node, result: 'ok', durationMs: Date.now() - t1, detail: { daemon: 'multus', wrote: start.file } });
    const left = stop.left.length ? `left ${stop.left.join(', ')}` : 'left no config';
    ctx.progress(`restart-daemon ${p.node} multus: SIG${p.signal} -> ${stop.exit}, ${left}; started again`);
    return `${p.node}: multus ${daemon.multus.version} SIG${p.signal}${stop.killedAfterGrace ? ` (still up after ${p.graceMs} ms: SIGKILL)` : ''} -> ${stop.exit}, ${left}; started again, wrote ${start.file}`;
  },
});
