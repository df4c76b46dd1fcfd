// An assertion is one file: its parameter schema and a judge over the cell's state and timeline.
// A judge that throws yields 'unknown', never a pass.
import type { Schema } from '../schema/dsl.ts';
import type { CellContext } from '../context/cell-context.ts';
import type { LocatedMessage, ValidationContext } from '../model/scenario.ts';
import type { Evidence, Verdict } from '../model/verdict.ts';
import type { NodeSnapshot } from '../model/snapshot.ts';

export interface Judgement {
  status: Verdict;
  evidence: Evidence[];
}

export interface AssertionDef<P> {
  name: string;
  description: string;
  params: Schema<P>;
  validate?(params: P, scenario: ValidationContext): string | LocatedMessage | undefined;
  /**
   * Judges only reservations, attachments, headroom and inFlight of the snapshot, so it can run
   * after every churn operation on a cheap snapshot (others run at step boundaries only).
   */
  cheap?: boolean;
  /** Judge on the latest snapshot (and the timeline, via ctx). */
  evaluate(ctx: CellContext, snapshot: NodeSnapshot[], params: P): Promise<Judgement> | Judgement;
  /**
   * Where it can judge: `node` (default) needs faultline's node agents; `any` reads only snapshots,
   * node files and the timeline (also real Kubernetes); `kube` needs the API (kind only). The loader
   * refuses a check on cells where it cannot judge, with the reason.
   */
  runsOn?: 'node' | 'any' | 'kube';
}

export function defineAssertion<P>(def: AssertionDef<P>): AssertionDef<P> {
  return def;
}

export const pass = (evidence: Evidence[] = []): Judgement => ({ status: 'pass', evidence });
export const fail = (evidence: Evidence[]): Judgement => ({ status: 'fail', evidence });
export const unknown = (summary: string): Judgement => ({ status: 'unknown', evidence: [{ summary }] });
