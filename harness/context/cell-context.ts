// What a fault, an observation or an assertion gets to work with in one matrix cell: the cluster's
// nodes (backend contract), each node's agent (kubelet's role, over the cell's runtime), the cluster's
// network definitions, the timeline, and the cell's hooks. Never a concrete backend, agent or runtime.
import type { Cluster, Node } from '../backends/types.ts';
import type { Scenario } from '../model/scenario.ts';
import type { Timeline } from '../model/timeline.ts';
import type { NodeSnapshot } from '../model/snapshot.ts';
import type { ResolvedStack } from '../model/profile.ts';
import type { NodeAgent } from '../agent/types.ts';
import type { ClusterNetworks } from '../cluster/network-store.ts';
import type { KubeCellState } from './kube-context.ts';

export interface CellContext {
  readonly scenario: Scenario;
  /** This cell's matrix values (dimension -> value). */
  readonly matrix: Readonly<Record<string, string>>;
  readonly stack: ResolvedStack;
  readonly cluster: Cluster;
  readonly timeline: Timeline;
  /** One agent per node, in the cluster's node order. */
  readonly agents: readonly NodeAgent[];
  /** The agent of a node (throws for a node the cluster does not have). */
  agent(node: string): NodeAgent;
  /** The cluster's network definitions (NetworkAttachmentDefinition-like) and their placement. */
  readonly networks: ClusterNetworks;
  readonly signal: AbortSignal;
  /** Where this cell keeps artifacts (node dumps, plugin stderr) for the report. */
  readonly artifactsDir: string;
  /** Replayable randomness (churn schedules). */
  readonly seed: number;
  /**
   * Snapshot every node, append to the timeline, return it. `changesOnly` records only what changed
   * since the previous observation (steps inside repeats: a thousand full snapshots would swamp the
   * report).
   */
  observe(after: string, opts?: { changesOnly?: boolean }): Promise<NodeSnapshot[]>;
  /** Full boot of a node that is powered on: stage files, runtime start, workload reconcile. */
  boot(node: Node): Promise<void>;
  /** Evaluate the scenario's invariants now (during churn); returns true if all hold. */
  checkInvariants(after: string, opts?: InvariantCheckOptions): Promise<boolean>;
  /** Print progress (console reporter). */
  progress(message: string): void;
  /** On a backend of real Kubernetes (kind): the API and the cell's pods. Such a cell has no agents. */
  readonly kube?: KubeCellState;
}

export interface InvariantCheckOptions {
  /** Judge this snapshot instead of the latest observation (a cheap mid-churn one). */
  snapshot?: NodeSnapshot[];
  /** Only invariants marked cheap (they judge reservations, attachments and headroom only). */
  cheapOnly?: boolean;
  /** Timeline index of the operation that completed just before this check. */
  afterEntry?: number;
}
