// A fault (or action) is one file: its parameter schema and what it does. The scenario schema is
// composed from this registry, so adding a fault needs no change elsewhere.
import type { Schema } from '../scenario/schema-dsl.ts';
import type { CellContext } from '../runner/context.ts';

export interface FaultDef<P> {
  name: string;
  description: string;
  params: Schema<P>;
  /** Checks against the scenario that can be made before anything runs (node exists, ...). */
  validate?(params: P, scenario: { nodeNames: string[]; workloadNames: string[]; networkNames: string[] }): string | undefined;
  /** Applies the fault; returns what it actually did, for the timeline. */
  run(ctx: CellContext, params: P): Promise<string>;
}

export function defineFault<P>(def: FaultDef<P>): FaultDef<P> {
  return def;
}
