// An assertion is one file: its parameter schema and a judge over the cell's state and timeline.
// A judge that throws yields 'unknown', never a pass.
import type { Schema } from '../scenario/schema-dsl.ts';
import type { CellContext } from '../runner/context.ts';
import type { Evidence, NodeSnapshot, Verdict } from '../runner/timeline.ts';

export interface Judgement {
  status: Verdict;
  evidence: Evidence[];
}

export interface AssertionDef<P> {
  name: string;
  description: string;
  params: Schema<P>;
  validate?(params: P, scenario: { nodeNames: string[]; workloadNames: string[]; networkNames: string[] }): string | undefined;
  /** Judge on the latest snapshot (and the timeline, via ctx). */
  evaluate(ctx: CellContext, snapshot: NodeSnapshot[], params: P): Promise<Judgement> | Judgement;
}

export function defineAssertion<P>(def: AssertionDef<P>): AssertionDef<P> {
  return def;
}

export const pass = (evidence: Evidence[] = []): Judgement => ({ status: 'pass', evidence });
export const fail = (evidence: Evidence[]): Judgement => ({ status: 'fail', evidence });
export const unknown = (summary: string): Judgement => ({ status: 'unknown', evidence: [{ summary }] });
