// The nodes of one cell on the local backend. down() powers every node off (SIGKILL of everything
// inside) and keeps the disk for the report; it is idempotent and collects every error.
import { FaultlineError } from '../../errors.ts';
import { tearDownAll } from '../teardown.ts';
import type { Cluster } from '../types.ts';
import type { LocalNode } from './local-node.ts';
import type { Segment } from './segment.ts';

export class LocalCluster implements Cluster {
  readonly nodes: readonly LocalNode[];
  /** The cell's work dir on the host (node dirs live in <workDir>/nodes/<name>). */
  readonly workDir: string;

  /** External segments shared by the nodes (see segment.ts); torn down after the nodes. */
  readonly segments: readonly Segment[];

  constructor(nodes: readonly LocalNode[], workDir: string, segments: readonly Segment[] = []) {
    this.nodes = nodes;
    this.workDir = workDir;
    this.segments = segments;
  }

  node(name: string): LocalNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) {
      throw new FaultlineError('invalid-input', `no node named ${name} (nodes: ${this.nodes.map((n) => n.name).join(', ')})`);
    }
    return node;
  }

  async down(): Promise<void> {
    // Nodes first: a segment's links go with the nodes' namespaces.
    await tearDownAll(this.nodes.map((n) => ({ name: `node ${n.name}`, down: () => n.powerOff() })), [
      ...this.segments.map((g) => ({ name: `segment ${g.name}`, down: () => g.down() })),
    ]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }
}
