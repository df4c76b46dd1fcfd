// The runtime's CNI garbage collection (libcni >= 1.2, CNI spec 1.1.0) on every network of a node,
// with the attachments of the sandboxes the runtime still holds as the valid set: libcni first DELs
// cached attachments that are not valid (skipping cache files it cannot parse), then sends GC to the
// plugins when the config's cniVersion is >= 1.1.0. What it did goes into the timeline: attachments
// DELed, plugins GC'd with their exit, files skipped, and the host-local reservations before and after.
import * as s from '../schema/dsl.ts';
import { defineFault } from './registry.ts';
import type { Node } from '../backends/types.ts';
import type { CellContext } from '../context/cell-context.ts';
import { FaultlineError, errorMessage } from '../errors.ts';
import { CniRuntimeError } from '../runtime/libcni/errors.ts';
import type { GcReport } from '../runtime/libcni/cni-runtime.ts';
import { readReservations } from '../observe/reservations.ts';

export const gc = defineFault({
  name: 'gc',
  description: "Run the runtime's CNI GC on every network of a node (default: every running node), with the live attachments as the valid set.",
  requires: ['cni-gc'],
  params: s.object({
    node: s.opt(s.nodeRef('Only this node (default: every running node).')),
  }),
  async run(ctx, p) {
    const nodes = p.node ? [ctx.cluster.node(p.node)] : ctx.cluster.nodes.filter((n) => n.running);
    const lines: string[] = [];
    for (const node of nodes) lines.push(...(await gcNode(ctx, node)));
    return lines.join('\n');
  },
});

async function gcNode(ctx: CellContext, node: Node): Promise<string[]> {
  if (!node.running) throw new FaultlineError('invalid-input', `gc: node ${node.name} is powered off`);
  const agent = ctx.agent(node.name);
  const rt = agent.runtime.gc;
  if (!rt) throw new FaultlineError('invalid-input', `gc: the runtime of ${node.name} (${agent.runtime.description}) has no CNI GC`);
  const networks = await rt.networks();
  if (!networks.length) throw new FaultlineError('invalid-input', `gc: ${node.name} has no network config in /etc/cni/net.d`);
  // Sandboxes the runtime still holds (running, or whose DEL failed) are valid; a crashed ADD left none.
  const held = agent.pods().filter((x) => x.phase !== 'failed').flatMap((x) => x.attachments);
  const lines: string[] = [];
  for (const list of networks) {
    const valid = held.filter((a) => a.network === list.name).map((a) => ({ containerId: a.containerId, ifName: a.ifName }));
    const before = await readReservations(node);
    const t0 = Date.now();
    let report: GcReport;
    try {
      report = await rt.gcNetwork(list, valid);
    } catch (e) {
      if (e instanceof CniRuntimeError && e.kind === 'unsupported') {
        throw new FaultlineError('invalid-input', `gc: ${e.message}; choose a runtime profile with GC (libcni-1.2 or later) in cluster.stack.runtime`);
      }
      throw e;
    }
    const after = await readReservations(node);
    const ofNet = (rs: typeof before) => rs.filter((r) => r.network === list.name).length;
    const released = before.filter((r) => r.network === list.name && !after.some((a) => a.file === r.file)).map((r) => r.file);
    const detail = {
      network: list.name,
      cniVersion: report.cniVersion,
      valid: valid.length,
      deleted: report.deleted,
      deleteFailed: report.deleteFailed,
      kept: report.kept.length,
      skipped: report.skipped,
      gc: report.gc,
      ...(report.gcNotSent ? { gcNotSent: report.gcNotSent } : {}),
      reservationsBefore: ofNet(before),
      reservationsAfter: ofNet(after),
      released,
    };
    ctx.timeline.add({ kind: 'op', op: 'gc', node: node.name, result: report.ok ? 'ok' : 'error', ...(report.ok ? {} : { error: report.errors.join('; ') }), durationMs: Date.now() - t0, detail });
    lines.push(describeGc(node.name, report, detail.reservationsBefore, detail.reservationsAfter));
  }
  ctx.progress(`gc ${node.name}: ${lines.join(' | ')}`);
  return lines;
}

/** One line per network: the verdict first, then what was DELed, sent, skipped, and released. */
export function describeGc(node: string, r: GcReport, before: number, after: number): string {
  const parts: string[] = [`${node}/${r.network} (cniVersion ${r.cniVersion}): GC ${r.ok ? 'succeeded' : `failed: ${r.errors.join('; ')}`}`];
  const ids = r.deleted.slice(0, 5).map((d) => `${d.containerId.slice(0, 12)}/${d.ifName}`).join(', ') + (r.deleted.length > 5 ? ', ...' : '');
  parts.push(`${r.deleted.length} stale cached attachment(s) DELed${r.deleted.length ? ` (${ids})` : ''}`);
  if (r.deleteFailed.length) parts.push(`${r.deleteFailed.length} DEL(s) failed`);
  parts.push(`${r.kept.length} valid attachment(s) kept`);
  if (r.skipped.length) {
    const empty = r.skipped.filter((x) => x.state === 'empty').length;
    const states = [empty && `${empty} empty`, r.skipped.length - empty && `${r.skipped.length - empty} corrupt`].filter(Boolean).join(', ');
    parts.push(`${r.skipped.length} unparsable cache file(s) skipped (${states}; ${r.skipped.some((x) => x.removed) ? 'some removed' : 'left in place'})`);
  }
  parts.push(r.gcNotSent ? `GC not sent to plugins: ${r.gcNotSent}` : `GC sent to ${r.gc.map((g) => `${g.plugin} (${g.ok ? 'exit 0' : `failed: ${errorMessage(g.error)}`})`).join(', ')}`);
  parts.push(`host-local reservations ${before} before, ${after} after (released ${Math.max(0, before - after)})`);
  return parts.join('; ');
}
