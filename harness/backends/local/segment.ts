// External segments of the local backend (ClusterSpec.segments): a network shared by the cell's nodes
// and by nothing else. Each segment is a namespace holder of its own (a LocalNode that is not part of
// the cluster: same holder script, same ledger entry, same power-off and gc), holding a bridge `br0`.
// Every node gets a veth whose node end is named after the segment (the macvlan parent, e.g. ext0)
// and whose other end sits on the bridge. Both ends are created inside the segment's namespace and
// one is moved into the node's: no link ever exists in the host's root namespace, and the segment has
// no address and no route, so nothing leaves the run's own namespaces.
// A node's power cut destroys its veth (the pair dies with the node's namespace); powering on links
// it again.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FaultlineError } from '../../errors.ts';
import type { Node } from '../types.ts';
import type { Run } from '../../ledger/ledger.ts';
import { cellDirName } from '../../ledger/ledger.ts';
import { LocalNode, NODE_PATH_ENV } from './local-node.ts';
import { execa } from 'execa';
import { runCgroupRoot } from './reaper.ts';

/** Segment names are link names in every node: a letter, then up to 9 of [a-z0-9-]. */
export const SEGMENT_NAME_RE = /^[a-z][a-z0-9-]{0,9}$/;
const BRIDGE = 'br0';

/** A node a segment links, reached by the pid holding its namespaces (a holder, a container's init). */
export interface SegmentMember extends Pick<Node, 'name' | 'exec'> {
  readonly holderPid: number | undefined;
}

/** What holds a segment's bridge: a namespace holder of its own (or a container on that backend). */
export interface SegmentHolder extends SegmentMember, Pick<Node, 'powerOff'> {}

export class Segment {
  constructor(
    readonly name: string,
    /** The segment's namespace holder. */
    readonly holder: SegmentHolder,
  ) {}

  /** Creates the veth for a node that just powered on, and brings both ends up. */
  async link(node: SegmentMember): Promise<void> {
    const pid = node.holderPid;
    if (pid === undefined) throw new FaultlineError('internal', `segment ${this.name}: node ${node.name} is not running`);
    if (node.name.length > 15) throw new FaultlineError('invalid-input', `segment ${this.name}: node name ${node.name} is longer than a link name may be (15)`);
    // A leftover of the node's previous power-on (normally gone with its namespace).
    await this.holder.exec(['ip', 'link', 'del', node.name]);
    const batch = [
      `link add ${node.name} type veth peer name ${this.name} netns ${pid}`,
      `link set ${node.name} master ${BRIDGE} up`,
    ].join('\n');
    // In the segment's network namespace but the host's pid namespace: `netns <pid>` names the node's
    // holder by its host pid, which the segment's own pid namespace cannot see.
    const segPid = this.holder.holderPid;
    if (segPid === undefined) throw new FaultlineError('internal', `segment ${this.name} is not running`);
    const r = await execa('nsenter', ['-t', String(segPid), '-n', '--', 'ip', '-batch', '-'], { input: batch + '\n', reject: false, env: { PATH: NODE_PATH_ENV }, extendEnv: false });
    if (r.exitCode !== 0) throw new FaultlineError('environment', `segment ${this.name}: cannot link node ${node.name}: ${r.stderr.trim()}`);
    const up = await node.exec(['ip', 'link', 'set', this.name, 'up']);
    if (up.exitCode !== 0) throw new FaultlineError('environment', `segment ${this.name}: cannot bring ${this.name} up in ${node.name}: ${up.stderr.trim()}`);
  }

  /** Links of the bridge (node names whose veth is attached), for tests and diagnostics. */
  async ports(): Promise<string[]> {
    const r = await this.holder.exec(['ip', '-j', 'link', 'show', 'master', BRIDGE]);
    if (r.exitCode !== 0) return [];
    return (JSON.parse(r.stdout || '[]') as { ifname: string }[]).map((l) => l.ifname).sort();
  }

  async down(): Promise<void> {
    await this.holder.powerOff();
  }
}

export interface SegmentOptions {
  runId: string;
  cellId: string;
  /** The cell's work dir; a segment's holder dir is <workDir>/segments/<name>. */
  workDir: string;
  run: Run;
  readyTimeoutMs: number;
}

/** Segment names are link names: valid and unique. */
export function checkSegmentNames(names: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (!SEGMENT_NAME_RE.test(name)) throw new FaultlineError('invalid-input', `segment name ${JSON.stringify(name)} is not valid (a letter, then up to 9 of a-z, 0-9, '-')`);
    if (seen.has(name)) throw new FaultlineError('invalid-input', `segment ${name} appears twice`);
    seen.add(name);
  }
}

/** The segment's bridge, inside its freshly powered-on holder. */
export async function addBridge(name: string, holder: SegmentHolder): Promise<void> {
  const r = await holder.exec(['ip', '-batch', '-'], { stdin: `link add ${BRIDGE} type bridge\nlink set ${BRIDGE} up\n` });
  if (r.exitCode !== 0) throw new FaultlineError('environment', `segment ${name}: cannot create its bridge: ${r.stderr.trim()}`);
}

/** Starts one holder per segment with its bridge. On failure, whatever started is powered off. */
export async function startSegments(names: readonly string[], opts: SegmentOptions): Promise<Segment[]> {
  checkSegmentNames(names);
  const segments: Segment[] = [];
  try {
    for (const name of names) {
      const dir = join(opts.workDir, 'segments', name);
      // The holder mounts a plugin dir read-only at /opt/cni/bin; a segment runs no plugin.
      const noPlugins = join(dir, 'no-plugins');
      await mkdir(noPlugins, { recursive: true, mode: 0o755 });
      const holder = new LocalNode({
        spec: { name: `seg-${name}`, pluginDir: noPlugins, podSubnet: '0.0.0.0/32' },
        runId: opts.runId,
        cellId: opts.cellId,
        nodeDir: dir,
        tag: `faultline.${opts.runId}.${cellDirName(opts.cellId)}.seg-${name}`,
        run: opts.run,
        readyTimeoutMs: opts.readyTimeoutMs,
        cgroupParent: `${runCgroupRoot(opts.runId)}/${cellDirName(opts.cellId)}/seg-${name}`,
      });
      const seg = new Segment(name, holder);
      segments.push(seg);
      await holder.powerOn();
      await addBridge(name, holder);
    }
  } catch (e) {
    await Promise.allSettled(segments.map((s) => s.down()));
    throw e;
  }
  return segments;
}
