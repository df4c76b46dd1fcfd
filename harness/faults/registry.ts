// A fault (or action) is one file: its parameter schema and what it does. The scenario schema is
// composed from this registry, so adding a fault needs no change elsewhere.
import type { Schema } from '../schema/dsl.ts';
import type { CellContext } from '../context/cell-context.ts';
import type { LocatedMessage, RuntimeCapability, ValidationContext } from '../model/scenario.ts';

export type { LocatedMessage, ValidationContext };

export interface FaultDef<P> {
  name: string;
  description: string;
  params: Schema<P>;
  /**
   * Checks against the scenario that can be made before anything runs (node exists, ...). A message
   * is reported at the step's key; with a `path` (relative to the parameters), at that value.
   */
  validate?(params: P, scenario: ValidationContext): string | LocatedMessage | undefined;
  /**
   * What the cell's runtime must be able to do (the loader refuses cells whose runtime cannot, at the
   * step, with the reason).
   */
  requires?: readonly RuntimeCapability[];
  /** Applies the fault; returns what it actually did, for the timeline. */
  run(ctx: CellContext, params: P): Promise<string>;
}

export function defineFault<P>(def: FaultDef<P>): FaultDef<P> {
  return def;
}
