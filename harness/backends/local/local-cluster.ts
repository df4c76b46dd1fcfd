// The nodes of one cell on the local backend. down() powers every node off (SIGKILL of everything
// inside) and keeps the disk for the report; it is idempotent and collects every error.
import { FaultlineError, errorMessage } from '../../errors.ts';
import type { Cluster } from '../types.ts';
import type { LocalNode } from './local-node.ts';

export class LocalCluster implements Cluster {
  readonly nodes: readonly LocalNode[];
  /** The cell's work dir on the host (node dirs live in <workDir>/nodes/<name>). */
  readonly workDir: string;

  constructor(nodes: readonly LocalNode[], workDir: string) {
    this.nodes = nodes;
    this.workDir = workDir;
  }

  node(name: string): LocalNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) {
      throw new FaultlineError('invalid-input', `no node named ${name} (nodes: ${this.nodes.map((n) => n.name).join(', ')})`);
    }
    return node;
  }

  async down(): Promise<void> {
    const results = await Promise.allSettled(this.nodes.map((n) => n.powerOff()));
    const problems = results.flatMap((r, i) => (r.status === 'rejected' ? [`node ${this.nodes[i]!.name}: ${errorMessage(r.reason)}`] : []));
    if (problems.length) {
      throw new FaultlineError('environment', `cluster teardown left problems:\n${problems.join('\n')}`, {
        cause: new AggregateError(results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []))),
        hint: "run 'faultline gc' once faultline has exited",
      });
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }
}
