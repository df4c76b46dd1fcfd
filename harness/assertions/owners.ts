// Who owned a leftover: the pod of a container id (the agent's state, else the timeline's ADDs), the
// pod that last got an address, the pod a bandwidth ifb device was made for. Evidence names them.
import { createHash } from 'node:crypto';
import type { CellContext } from '../context/cell-context.ts';
import { stepNumber, type TimelineEntry } from '../model/timeline.ts';

/** Who a container id belongs to, for evidence: "pod gw-n1-0 (terminating: <error>)". */
export function ownerText(ctx: CellContext, node: string, containerId: string | undefined): string {
  const st = containerId ? ctx.agent(node).pods().find((p) => p.containerId === containerId) : undefined;
  if (!st) {
    const added = containerId ? addsOn(ctx, node).find((a) => a.containerId === containerId) : undefined;
    return added ? `pod ${added.pod}, which no longer has a sandbox` : 'no pod the runtime knows of';
  }
  return `pod ${st.spec.name} (${st.phase}${st.error ? `: ${st.error.length > 200 ? st.error.slice(0, 197) + '...' : st.error}` : ''})`;
}

/** A successful ADD on a node, as the timeline recorded it. */
export interface RecordedAdd {
  pod: string;
  containerId: string;
  ips: string[];
  networks: { network: string; ifName: string; ips: string[] }[];
  /** Timeline index of the ADD. */
  entry: number;
  /** The step it happened in ("3.2.1"), or "boot" before the first step ended. */
  during: string;
}

/** Every successful ADD on a node, oldest first. */
export function addsOn(ctx: Pick<CellContext, 'timeline'>, node: string): RecordedAdd[] {
  const entries = ctx.timeline?.entries ?? [];
  const out: RecordedAdd[] = [];
  entries.forEach((e, i) => {
    if (e.kind !== 'op' || e.op !== 'add' || e.node !== node || e.result !== 'ok' || !e.pod) return;
    const d = (e.detail ?? {}) as { containerId?: unknown; ips?: unknown; networks?: unknown };
    if (typeof d.containerId !== 'string') return;
    out.push({
      pod: e.pod,
      containerId: d.containerId,
      ips: Array.isArray(d.ips) ? d.ips.filter((x): x is string => typeof x === 'string') : [],
      networks: Array.isArray(d.networks) ? (d.networks as RecordedAdd['networks']) : [],
      entry: i,
      during: stepOf(entries, i),
    });
  });
  return out;
}

/**
 * The step an entry happened in: the step entry recorded after it (steps are recorded when they end)
 * whose own entries began at or before it; before the first step, the boot.
 */
function stepOf(entries: readonly TimelineEntry[], index: number): string {
  for (let i = index + 1; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.kind !== 'step') continue;
    if (e.firstEntry === undefined || e.firstEntry <= index) return `step ${stepNumber(e)}`;
    break;
  }
  return entries.some((e, i) => i < index && e.kind === 'step') ? 'between steps' : 'boot';
}

/** The pod that last got this address on the node (of this network, where the timeline says). */
export function lastOwnerOfAddress(ctx: Pick<CellContext, 'timeline'>, node: string, ip: string, network?: string): RecordedAdd | undefined {
  const adds = addsOn(ctx, node);
  for (let i = adds.length - 1; i >= 0; i--) {
    const a = adds[i]!;
    const nets = a.networks.filter((n) => n.ips.includes(ip));
    if (nets.length ? !network || nets.some((n) => n.network === network) : a.ips.includes(ip)) return a;
  }
  return undefined;
}

/**
 * The ifb device the bandwidth plugin makes for a container's egress shaping:
 * "bwp" + sha512(network name + container id) in hex, cut to 15 characters (plugins' getIfbDeviceName).
 */
export function bandwidthIfbName(network: string, containerId: string): string {
  return `bwp${createHash('sha512').update(network + containerId).digest('hex')}`.slice(0, 15);
}

/**
 * "; last owned by pod web-n1-3 (container 1a2b3c4d5e6f, added at step 2.3.1), which ..." for an
 * address whose reservation cannot be read, with the same facts as evidence fields.
 */
export function lastOwnerText(ctx: CellContext, node: string, ip: string, network?: string): { text: string; fields: Record<string, string> } {
  const last = lastOwnerOfAddress(ctx, node, ip, network);
  if (!last) return { text: '; no pod of this run got that address', fields: {} };
  const st = ctx.agent(node).pods().find((p) => p.containerId === last.containerId);
  const now = st ? (st.phase === 'running' ? 'is still running' : `is ${st.phase}`) : 'no longer has a sandbox';
  return {
    text: `; last owned by pod ${last.pod} (container ${last.containerId.slice(0, 12)}, added at ${last.during}), which ${now}`,
    fields: { lastOwner: last.pod, lastOwnerContainer: last.containerId, lastOwnerAddedAt: last.during },
  };
}
