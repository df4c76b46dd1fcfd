// A fault (or action) is one file: its parameter schema and what it does. The scenario schema is
// composed from this registry, so adding a fault needs no change elsewhere.
import type { Schema } from '../schema/dsl.ts';
import type { CellContext } from '../context/cell-context.ts';
import type { KubeCellState } from '../context/kube-context.ts';
import { FaultlineError } from '../errors.ts';
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
  /**
   * The same step on a cell of real Kubernetes (kind): through the API and the node, never a node
   * agent. A step without it is refused at validation for such cells, with the reason.
   */
  kube?(ctx: KubeStepContext, params: P): Promise<string>;
  /** Only on real Kubernetes (the step needs the API): refused at validation for the other backends. */
  kubeOnly?: boolean;
}

/** The context of a step on a cell of real Kubernetes. */
export type KubeStepContext = CellContext & { readonly kube: KubeCellState };

/** A kube-only step's `run`: the loader refuses it for cells that are not on real Kubernetes. */
export function kubeOnlyRun(name: string): (ctx: CellContext) => Promise<string> {
  return () => Promise.reject(new FaultlineError('internal', `${name} runs on the kind backend only (validation should have refused it)`));
}

export function defineFault<P>(def: FaultDef<P>): FaultDef<P> {
  return def;
}
