// Checks of the references a scenario's steps and checks make (schema/dsl.ts `ref`): node names
// against the cluster's, and node paths and globs against the backend's file roots. One place for
// every fault and assertion, so no parameter can slip past them.
import type { Ref } from '../schema/dsl.ts';
import type { NodeFileRoots } from '../backends/types.ts';
import { mayReachBelow, matchSegment, segmentsOf } from '../util/glob.ts';

/** Why a path from a scenario is not confined to the node's root, or undefined if it is. */
export function pathProblem(p: string): string | undefined {
  if (p.includes('\0')) return `expected a path without NUL bytes, found ${JSON.stringify(p)}`;
  if (!p.startsWith('/')) return `expected an absolute path inside the node root (starting with /), found ${JSON.stringify(p)}`;
  if (p.split('/').includes('..')) return `path escapes the node root: ${JSON.stringify(p)} has a '..' segment`;
  return undefined;
}

/**
 * Why a node path or glob can never name a plain file of a node, or undefined. A node's files live
 * below the backend's roots (a root itself is a directory); kernel-backed places (pod network
 * namespaces under /run/netns) hold no plain files and are refused, so a fault never truncates a
 * namespace.
 */
export function nodeFileProblem(kind: 'node-path' | 'node-glob', target: string, roots: NodeFileRoots): string | undefined {
  const basic = pathProblem(target);
  if (basic) return basic;
  const what = kind === 'node-path' ? 'path' : 'glob';
  const all = [...roots.persistent, ...roots.volatile];
  const segments = segmentsOf(target);
  const under = all.some((r) => {
    const rs = segmentsOf(r);
    return segments.length > rs.length && rs.every((seg, i) => matchSegment(segments[i]!, seg));
  });
  if (!under) return `${what} ${target} can never name a node file: a node's files live under ${all.join(', ')}`;
  const kernel = roots.kernelBacked.find((k) => mayReachBelow(target, k));
  if (kernel) return `${what} ${target} reaches ${kernel}, which the kernel backs (network namespaces, not files); name files outside it`;
  return undefined;
}

/** The problem with one reference, or undefined. */
export function refProblem(ref: Ref, ctx: { nodeNames: readonly string[]; roots: NodeFileRoots }): string | undefined {
  if (ref.kind === 'node') {
    if (ctx.nodeNames.includes(ref.value)) return undefined;
    const list = ctx.nodeNames.length === 1 ? ctx.nodeNames[0] : `${ctx.nodeNames[0]}..${ctx.nodeNames.at(-1)}`;
    return `expected a node of this cluster (${list}), found ${JSON.stringify(ref.value)}`;
  }
  return nodeFileProblem(ref.kind, ref.value, ctx.roots);
}
