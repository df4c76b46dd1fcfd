// A fault (or action) is one file: its parameter schema and what it does. The scenario schema is
// composed from this registry, so adding a fault needs no change elsewhere.
import type { Schema } from '../schema/dsl.ts';
import type { CellContext } from '../context/cell-context.ts';

export interface FaultDef<P> {
  name: string;
  description: string;
  params: Schema<P>;
  /**
   * Checks against the scenario that can be made before anything runs (node exists, ...). A message
   * is reported at the step's key; with a `path` (relative to the parameters), at that value.
   */
  validate?(params: P, scenario: ValidationContext): string | LocatedMessage | undefined;
  /** Applies the fault; returns what it actually did, for the timeline. */
  run(ctx: CellContext, params: P): Promise<string>;
}

/** What a fault's or assertion's validate() knows of the scenario. */
export interface ValidationContext {
  nodeNames: string[];
  workloadNames: string[];
  /** Networks every cell's stack profile defines (default and secondary). */
  networkNames: string[];
  /** Pods per workload (replicasPerNode x its nodes). */
  workloadSizes?: Record<string, number>;
  /** Addresses host-local can hand out per node, by default network, where the profiles tell. */
  hostLocalCapacity?: Record<string, number>;
}

/** A validation message at a path inside the parameters (e.g. ['concurrency']). */
export interface LocatedMessage {
  path: (string | number)[];
  message: string;
}

export function defineFault<P>(def: FaultDef<P>): FaultDef<P> {
  return def;
}
