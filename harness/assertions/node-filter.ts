// Shared by checks that take an optional `node`: which snapshots they judge.
import * as s from '../schema/dsl.ts';
import type { NodeSnapshot } from '../model/snapshot.ts';

export const nodeParam = s.opt(s.nodeRef('Only this node (default: every node).'));

export function selectNodes(snapshot: NodeSnapshot[], node?: string): NodeSnapshot[] {
  return node ? snapshot.filter((n) => n.node === node) : snapshot;
}

/** Every host-local range of the selected nodes (and network), with what the snapshot knows of it. */
export function hostLocalRanges(snapshot: NodeSnapshot[], node?: string, network?: string) {
  return selectNodes(snapshot, node).flatMap((n) =>
    Object.entries(n.headroom ?? {})
      .filter(([net]) => !network || net === network)
      .map(([net, h]) => ({ snap: n, node: n.node, network: net, ...h, reservations: n.reservations.filter((r) => r.network === net).length })),
  );
}
