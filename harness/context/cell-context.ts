// What a fault, an observation or an assertion gets to work with in one matrix cell.
import type { Cluster, Node } from '../backends/types.ts';
import type { Scenario } from '../scenario/schema.ts';
import type { NodeSnapshot, Timeline } from '../model/timeline.ts';
import type { ResolvedStack } from '../model/profile.ts';
import type { PodManager } from '../agent/node-agent.ts';

export interface CellContext {
  readonly scenario: Scenario;
  /** This cell's matrix values (dimension -> value). */
  readonly matrix: Readonly<Record<string, string>>;
  readonly stack: ResolvedStack;
  readonly cluster: Cluster;
  readonly timeline: Timeline;
  readonly pods: PodManager;
  readonly signal: AbortSignal;
  /** Where this cell keeps artifacts (node dumps, plugin stderr) for the report. */
  readonly artifactsDir: string;
  /** Replayable randomness (churn schedules). */
  readonly seed: number;
  /** Snapshot every node, append to the timeline, return it. */
  observe(after: string): Promise<NodeSnapshot[]>;
  /** Full boot of a node that is powered on: stage files, runtime start, workload reconcile. */
  boot(node: Node): Promise<void>;
  /** Evaluate the scenario's invariants now (during churn); returns true if all hold. */
  checkInvariants(after: string, opts?: InvariantCheckOptions): Promise<boolean>;
  /** Print progress (console reporter). */
  progress(message: string): void;
}

export interface InvariantCheckOptions {
  /** Judge this snapshot instead of the latest observation (a cheap mid-churn one). */
  snapshot?: NodeSnapshot[];
  /** Only invariants marked cheap (they judge reservations, attachments and headroom only). */
  cheapOnly?: boolean;
  /** Timeline index of the operation that completed just before this check. */
  afterEntry?: number;
}
