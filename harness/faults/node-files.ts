// Shared by the faults that damage files on a node (truncate-file, corrupt-file): the `path` or
// `glob` parameter, its static check, and its resolution to the files it names at run time.
import * as s from '../schema/dsl.ts';
import type { Node } from '../backends/types.ts';
import { FaultlineError } from '../errors.ts';
import { PERSISTENT_ROOTS, VOLATILE_ROOTS } from '../backends/local/node-paths.ts';

/** Where a node has files at all: its persistent disk and its tmpfs mounts. */
export const NODE_FILE_ROOTS: readonly string[] = [...PERSISTENT_ROOTS, ...VOLATILE_ROOTS];

export const fileTargetFields = {
  node: s.req(s.string({ pattern: /^node-\d+$/, expected: 'a node name like node-1' })),
  path: s.opt(s.string({ minLength: 1, description: 'One file on the node, e.g. /var/lib/cni/results/lab-net-<id>-eth0.' })),
  glob: s.opt(s.string({ minLength: 1, description: 'Files on the node matching this pattern (* and ? within a path segment), e.g. /var/lib/cni/results/lab-net-*.' })),
};

export interface FileTarget {
  node: string;
  path?: string;
  glob?: string;
}

/** What can be known before the run: a node of the cluster, exactly one of path/glob, under a node root. */
export function checkFileTarget(p: FileTarget, sc: { nodeNames: string[] }): string | undefined {
  if (!sc.nodeNames.includes(p.node)) return `unknown node '${p.node}'; the cluster has ${sc.nodeNames.join(', ')}`;
  if ((p.path === undefined) === (p.glob === undefined)) return `give exactly one of 'path' (a file) or 'glob' (a pattern)${p.path !== undefined ? `, found both` : ''}`;
  const target = (p.path ?? p.glob)!;
  const what = p.path !== undefined ? 'path' : 'glob';
  if (!target.startsWith('/')) return undefined; // the loader reports relative paths at the value
  // Some root must match the pattern's leading segments (a node file is always below a root).
  const segments = target.split('/').filter((x) => x !== '');
  const under = NODE_FILE_ROOTS.some((r) => {
    const rs = r.split('/').filter((x) => x !== '');
    return segments.length > rs.length && rs.every((seg, i) => segmentMatches(segments[i]!, seg));
  });
  if (!under) return `${what} ${target} can never name a node file: a node's files live under ${NODE_FILE_ROOTS.join(', ')}`;
  return undefined;
}

/**
 * The regular files the target names now. A glob that matches no file, or a path that does not exist
 * (or is a directory), is an error naming it.
 */
export async function resolveFileTarget(node: Node, p: FileTarget, fault: string): Promise<string[]> {
  if (p.glob !== undefined) {
    const matched = await node.glob(p.glob);
    const files: string[] = [];
    for (const f of matched) {
      const st = await node.stat(f);
      if (st && !st.isDirectory) files.push(f);
    }
    if (!files.length) {
      const dirs = matched.length ? ` (only directories: ${matched.join(', ')})` : '';
      throw new FaultlineError('invalid-input', `${fault}: glob ${p.glob} matched no file on ${node.name}${dirs}`);
    }
    return files;
  }
  const st = await node.stat(p.path!);
  if (!st) throw new FaultlineError('invalid-input', `${fault}: ${p.path} does not exist on ${node.name}`);
  if (st.isDirectory) throw new FaultlineError('invalid-input', `${fault}: ${p.path} on ${node.name} is a directory, not a file`);
  return [p.path!];
}

/** `*` and `?` within one path segment, as the node's glob reads them. */
function segmentMatches(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === name;
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(name);
}
