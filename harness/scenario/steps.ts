// The steps of a scenario as a list: repeats unrolled for counting, and every step (inner ones
// included) with its key path for validation.
import { REPEAT_STEP, type RepeatParams, type StepSpec } from '../model/scenario.ts';

type KeyPath = readonly (string | number)[];

/** A step with its key path in the file, inner steps of repeats included (in order). */
export interface LocatedStep {
  step: StepSpec;
  at: KeyPath;
}

/** Every step of a list, the steps inside repeats included, with their key paths. */
export function allSteps(steps: readonly StepSpec[], at: KeyPath = ['steps']): LocatedStep[] {
  return steps.flatMap((step, i) => {
    const here = [...at, i];
    if (step.kind !== REPEAT_STEP) return [{ step, at: here }];
    return [{ step, at: here }, ...allSteps((step.params as unknown as RepeatParams).steps, [...here, REPEAT_STEP, 'steps'])];
  });
}

/** The most steps a scenario's steps may expand to (repeats unrolled): a run must end. */
export const MAX_EXPANDED_STEPS = 1000;

/** How many steps these run once repeats are unrolled (a repeat itself runs none). */
export function expandedStepCount(steps: readonly StepSpec[]): number {
  let n = 0;
  for (const step of steps) {
    if (step.kind === REPEAT_STEP) {
      const p = step.params as unknown as RepeatParams;
      n += p.times * expandedStepCount(p.steps);
    } else n++;
  }
  return n;
}

