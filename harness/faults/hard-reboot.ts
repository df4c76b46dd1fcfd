// Power cut and boot: every kernel object of the node dies, the disk stays; then the boot runs (stage
// files, CNI configs, runtime, kubelet's reconcile). Nobody calls DEL for the sandboxes that died
// unless kubelet finds them after the boot.
// `lostWrites`: a real power cut loses what was still in the page cache. libcni writes its result
// cache with a plain write, no fsync (cni#1149), so files written shortly before the cut come back
// empty (cni#1055, containerd#8197). Files under the globs modified within `windowMs` before the cut
// are truncated to 0 bytes, a seeded `fraction` of them, after the power is off.
import * as s from '../schema/dsl.ts';
import { defineFault } from './registry.ts';
import type { CellContext } from '../context/cell-context.ts';
import type { Node } from '../backends/types.ts';
import { createRng } from '../util/rng.ts';

export const DEFAULT_LOST_WRITE_GLOBS = ['/var/lib/cni/results/*'];

const lostWritesSchema = s.object(
  {
    paths: s.opt(s.array(s.ref('node-glob', { minLength: 1 }), { minItems: 1, description: 'Files that may lose their content (default: the CNI result cache, /var/lib/cni/results/*).' }), DEFAULT_LOST_WRITE_GLOBS),
    windowMs: s.opt(s.integer({ min: 0, max: 3_600_000, description: 'Files modified this long before the cut had not reached the disk yet.' }), 30_000),
    fraction: s.opt(s.number({ min: 0, max: 1, description: 'Share of those files that come back empty (seeded choice; 1: all).' }), 1),
  },
  { description: 'Unsynced writes lost in the power cut (default off).' },
);

type LostWrites = s.Infer<typeof lostWritesSchema>;

/** The files of `lw` written within the window before `cutAt`, and the seeded share that is lost. */
async function chooseLost(node: Node, lw: LostWrites, cutAt: number, seed: number, label: string): Promise<{ recent: string[]; lost: string[] }> {
  const recent = new Set<string>();
  for (const glob of lw.paths ?? DEFAULT_LOST_WRITE_GLOBS) {
    for (const f of await node.glob(glob)) {
      const st = await node.stat(f);
      if (st && !st.isDirectory && st.mtimeMs >= cutAt - lw.windowMs!) recent.add(f);
    }
  }
  const files = [...recent].sort();
  const rng = createRng(seed).fork(label);
  for (let i = files.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [files[i], files[j]] = [files[j]!, files[i]!];
  }
  return { recent: [...recent].sort(), lost: files.slice(0, Math.round(files.length * lw.fraction!)).sort() };
}

export const hardReboot = defineFault({
  name: 'hard-reboot',
  description: 'Cut the power of a node and boot it again, `repeat` times; `lostWrites` empties files written shortly before the cut.',
  params: s.object({
    node: s.req(s.nodeRef()),
    repeat: s.opt(s.integer({ min: 1, max: 100 }), 1),
    downMs: s.opt(s.integer({ min: 0, max: 60_000, description: 'Time powered off before the boot.' }), 0),
    lostWrites: s.opt(lostWritesSchema),
  }),
  async run(ctx: CellContext, p) {
    const node = ctx.cluster.node(p.node);
    const agent = ctx.agent(p.node);
    const results: string[] = [];
    for (let i = 1; i <= p.repeat!; i++) {
      ctx.signal.throwIfAborted();
      const cutAt = Date.now();
      const cuts = ctx.timeline.entries.filter((e) => e.kind === 'op' && e.op === 'power-cut').length;
      const lost = p.lostWrites ? await chooseLost(node, p.lostWrites, cutAt, ctx.seed, `${p.node}#${cuts}`) : undefined;
      await node.powerOff();
      agent.onPowerOff();
      for (const f of lost?.lost ?? []) await node.truncateFile(f, 0);
      ctx.timeline.add({ kind: 'op', op: 'power-cut', node: p.node, result: 'ok', durationMs: Date.now() - cutAt, detail: { ...(lost ? { recentWrites: lost.recent, lostWrites: lost.lost } : {}) } });
      if (p.downMs) await new Promise((r) => setTimeout(r, p.downMs));
      await node.powerOn();
      await ctx.boot(node);
      const pods = agent.pods();
      const lostNote = lost ? `, ${lost.lost.length} of ${lost.recent.length} recent write(s) lost${lost.lost.length ? ` (${lost.lost.join(', ')})` : ''}` : '';
      results.push(`#${i}: ${pods.filter((x) => x.phase === 'running').length}/${agent.desired().length} pods running${lostNote}`);
      ctx.progress(`hard-reboot ${p.node} ${i}/${p.repeat}: ${results.at(-1)}`);
      if (i < p.repeat!) await ctx.observe(`hard-reboot ${p.node} #${i}`);
    }
    return `${p.node}: ${results.join('; ')}`;
  },
  // A kind node: SIGKILL of its container and a start of the same container (kind-node.ts); the boot
  // is the node's own (systemd, containerd, kubelet), judged through the API and timed.
  async kube(ctx, p) {
    const node = ctx.cluster.node(p.node);
    const results: string[] = [];
    for (let i = 1; i <= p.repeat!; i++) {
      ctx.signal.throwIfAborted();
      const cutAt = Date.now();
      const cuts = ctx.timeline.entries.filter((e) => e.kind === 'op' && e.op === 'power-cut').length;
      const lost = p.lostWrites ? await chooseLost(node, p.lostWrites, cutAt, ctx.seed, `${p.node}#${cuts}`) : undefined;
      await node.powerOff();
      for (const f of lost?.lost ?? []) await node.truncateFile(f, 0);
      ctx.timeline.add({ kind: 'op', op: 'power-cut', node: p.node, result: 'ok', durationMs: Date.now() - cutAt, detail: { ...(lost ? { recentWrites: lost.recent, lostWrites: lost.lost } : {}) } });
      if (p.downMs) await new Promise((r) => setTimeout(r, p.downMs));
      const since = Date.now();
      await node.powerOn();
      const t = await ctx.kube.waitBooted(node, since);
      const lostNote = lost ? `, ${lost.lost.length} of ${lost.recent.length} recent write(s) lost` : '';
      results.push(`#${i}: API ready ${t.apiReadyMs} ms, node Ready ${t.nodeReadyMs} ms, ${t.pods} pod(s) Running ${t.podsRunningMs} ms after power-on${lostNote}`);
      ctx.progress(`hard-reboot ${p.node} ${i}/${p.repeat}: reboot-to-Ready ${t.nodeReadyMs} ms, pods Running ${t.podsRunningMs} ms`);
      if (i < p.repeat!) await ctx.observe(`hard-reboot ${p.node} #${i}`);
    }
    return `${p.node}: ${results.join('; ')}`;
  },
});
