// Node paths -> host paths, confined to the node's own state. A node path is absolute as the node
// sees it (/var/lib/cni/networks/x). Persistent roots live in the node's disk dir on the host and work
// while the node is off; volatile roots are reached through /proc/<holder>/root while it runs.
// Symlinks are resolved as the node would resolve them, and only while they stay inside the roots.
// Sync metadata calls: a node path resolves in microseconds, an async hop per segment costs far more.
import { lstatSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { FaultlineError } from '../../errors.ts';

export const PERSISTENT_ROOTS = ['/var/lib/cni', '/etc/cni', '/var/log', '/var/lib/containerd', '/etc/containerd'] as const;
export const VOLATILE_ROOTS = ['/run', '/tmp'] as const;
const ALL_ROOTS: readonly string[] = [...PERSISTENT_ROOTS, ...VOLATILE_ROOTS];
const MAX_SYMLINKS = 40;

export interface ResolvedPath {
  /** The node path after symlink resolution. */
  nodePath: string;
  hostPath: string;
  /** The allowed root the path is under, e.g. /var/lib/cni. */
  root: string;
}

/** Where a node's state lives on the host. */
export interface NodeStateLocation {
  nodeName: string;
  /** Host dir holding etc/cni, var/lib/cni, var/log. */
  diskDir: string;
  /** Where a persistent root is on the host, when not <diskDir><root> (a container's volume). */
  persistentHostPath?(root: string): string;
  /** Pid of the running holder, undefined while the node is off. */
  holderPid(): number | undefined;
}

/** Validates a node path: absolute, no '..', no NUL; returns it normalized. */
export function normalizeNodePath(path: string): string {
  if (typeof path !== 'string' || path === '') throw new FaultlineError('invalid-input', 'empty node path');
  if (path.includes('\0')) throw new FaultlineError('invalid-input', `path ${JSON.stringify(path)} contains a NUL byte`);
  if (!path.startsWith('/')) {
    throw new FaultlineError('invalid-input', `path ${path} is not absolute (node paths start with /)`);
  }
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) {
    throw new FaultlineError('invalid-input', `path ${path} contains '..': escapes from the node's state are not allowed`);
  }
  return '/' + segments.join('/');
}

/** The allowed root a normalized node path is under, if any. */
export function rootOf(nodePath: string): string | undefined {
  return ALL_ROOTS.find((r) => nodePath === r || nodePath.startsWith(r + '/'));
}

function outside(path: string, via?: string): FaultlineError {
  const how = via === undefined ? '' : ` (through the symlink ${via})`;
  return new FaultlineError(
    'invalid-input',
    `path ${path} is outside the node's state${how} (allowed: ${ALL_ROOTS.join(', ')})`,
  );
}

export class NodePaths {
  constructor(private readonly loc: NodeStateLocation) {}

  /** Host path of an allowed root; throws for a volatile root while the node is off. */
  rootHostPath(root: string): string {
    if ((PERSISTENT_ROOTS as readonly string[]).includes(root)) return this.loc.persistentHostPath?.(root) ?? posix.join(this.loc.diskDir, root);
    const pid = this.loc.holderPid();
    if (pid === undefined) {
      throw new FaultlineError('environment', `node ${this.loc.nodeName} is powered off: ${root} exists only while it runs`);
    }
    return `/proc/${pid}/root${root}`;
  }

  /** Roots that can be reached now (volatile ones only while running). */
  availableRoots(): string[] {
    return this.loc.holderPid() === undefined ? [...PERSISTENT_ROOTS] : [...ALL_ROOTS];
  }

  /**
   * Maps a node path to the host, following symlinks inside the roots (the last component only
   * when `followFinal`). Throws invalid-input for anything outside the node's state.
   */
  async resolve(path: string, opts: { followFinal: boolean }): Promise<ResolvedPath> {
    return this.resolveFrom(path, opts.followFinal, 0, path);
  }

  private async resolveFrom(path: string, followFinal: boolean, depth: number, original: string): Promise<ResolvedPath> {
    const nodePath = normalizeNodePath(path);
    const root = rootOf(nodePath);
    if (root === undefined) throw outside(original, depth > 0 ? nodePath : undefined);
    const rootHost = this.rootHostPath(root);
    const rest = nodePath === root ? [] : nodePath.slice(root.length + 1).split('/');
    let host = rootHost;
    let node = root;
    for (let i = 0; i < rest.length; i++) {
      const segment = rest[i]!;
      const nextHost = `${host}/${segment}`;
      const nextNode = `${node}/${segment}`;
      const last = i === rest.length - 1;
      let isLink = false;
      try {
        isLink = lstatSync(nextHost).isSymbolicLink();
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
        // Does not exist (yet): the remainder is lexical and stays under this root.
        return { nodePath: [nextNode, ...rest.slice(i + 1)].join('/'), hostPath: [nextHost, ...rest.slice(i + 1)].join('/'), root };
      }
      if (isLink && (!last || followFinal)) {
        if (depth >= MAX_SYMLINKS) {
          throw new FaultlineError('invalid-input', `path ${original}: too many levels of symbolic links`);
        }
        const target = readlinkSync(nextHost);
        const joined = target.startsWith('/') ? target : posix.join(node, target);
        // '..' in a link target is resolved lexically (the part before it has no links left).
        const next = posix.normalize([joined, ...rest.slice(i + 1)].join('/'));
        if (rootOf(next) === undefined || next.split('/').includes('..')) throw outside(original, nextNode);
        return this.resolveFrom(next, followFinal, depth + 1, original);
      }
      host = nextHost;
      node = nextNode;
    }
    return { nodePath: node, hostPath: host, root };
  }
}
