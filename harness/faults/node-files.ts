// Shared by the faults that damage files on a node (truncate-file, corrupt-file): the `path` or
// `glob` parameter, its static check, and its resolution to the files it names at run time.
import * as s from '../schema/dsl.ts';
import type { Node } from '../backends/types.ts';
import type { NodeAgent } from '../agent/types.ts';
import { FaultlineError } from '../errors.ts';

export const fileTargetFields = {
  node: s.req(s.nodeRef()),
  path: s.opt(s.ref('node-path', { minLength: 1, description: 'One file on the node, e.g. /var/lib/cni/results/lab-net-<id>-eth0.' })),
  glob: s.opt(s.ref('node-glob', { minLength: 1, description: 'Files on the node matching this pattern (* and ? within a path segment), e.g. /var/lib/cni/results/lab-net-*.' })),
  cacheOf: s.opt(s.string({ pattern: /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, expected: 'a pod name like victim-n1-0', description: "The CNI result cache files of this pod's sandbox (/var/lib/cni/results/<network>-<sandbox id>-<ifname>, loopback's excepted)." })),
};

export interface FileTarget {
  node: string;
  path?: string;
  glob?: string;
  cacheOf?: string;
}

/**
 * What can be known before the run beyond what the loader checks for every node and path reference
 * (the node exists, the path is under the backend's file roots and not kernel-backed): exactly one
 * of path and glob.
 */
export function checkFileTarget(p: FileTarget): string | undefined {
  const given = (['path', 'glob', 'cacheOf'] as const).filter((k) => p[k] !== undefined);
  if (given.length !== 1) return `give exactly one of 'path' (a file), 'glob' (a pattern) or 'cacheOf' (a pod)${given.length ? `, found ${given.join(' and ')}` : ''}`;
  return undefined;
}

/**
 * The regular files the target names now. A glob that matches no regular file, or a path that does
 * not exist (or is a directory, a FIFO, a socket...), is an error naming it.
 */
export async function resolveFileTarget(node: Node, p: FileTarget, fault: string, agent?: NodeAgent): Promise<string[]> {
  if (p.cacheOf !== undefined) {
    const pod = agent?.pod(p.cacheOf);
    if (!pod?.containerId) throw new FaultlineError('invalid-input', `${fault}: no pod named ${p.cacheOf} with a sandbox on ${node.name} (pods: ${agent?.pods().map((x) => x.spec.name).join(', ') || 'none'})`);
    const files = (await node.glob(`/var/lib/cni/results/*-${pod.containerId}-*`)).filter((f) => !f.split('/').pop()!.startsWith('cni-loopback-'));
    if (!files.length) throw new FaultlineError('invalid-input', `${fault}: pod ${p.cacheOf} (sandbox ${pod.containerId.slice(0, 12)}) has no CNI result cache on ${node.name}`);
    return files;
  }
  if (p.glob !== undefined) {
    const matched = await node.glob(p.glob);
    const files: string[] = [];
    for (const f of matched) {
      const st = await node.stat(f);
      if (st?.isFile) files.push(f);
    }
    if (!files.length) {
      const others = matched.length ? ` (only directories or special files: ${matched.join(', ')})` : '';
      throw new FaultlineError('invalid-input', `${fault}: glob ${p.glob} matched no file on ${node.name}${others}`);
    }
    return files;
  }
  const st = await node.stat(p.path!);
  if (!st) throw new FaultlineError('invalid-input', `${fault}: ${p.path} does not exist on ${node.name}`);
  if (st.isDirectory) throw new FaultlineError('invalid-input', `${fault}: ${p.path} on ${node.name} is a directory, not a file`);
  if (!st.isFile) throw new FaultlineError('invalid-input', `${fault}: ${p.path} on ${node.name} is not a regular file (a FIFO, socket or device)`);
  return [p.path!];
}
