// Numeric flags: plain decimal integers in a range, nothing else ("0x10", "1e3", " 5", "+5" and
// "5.0" are mistakes Number() would accept), each refused with the flag named.
import { FaultlineError } from '../errors.ts';
import { DEFAULT_MAX_CELLS, MAX_CELLS_CEILING } from '../scenario/matrix.ts';

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** The value of `--<name>` as an integer in [min, max], or undefined when the flag is absent. */
export function decimalFlag(name: string, raw: unknown, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const text = String(raw);
  const n = DECIMAL.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new FaultlineError('usage', `Expected the \`--${name}\` option to be a decimal integer from ${min} to ${max}, got \`${text}\``);
  }
  return n;
}

/** `--max-cells N`: most cells one scenario's matrix may have (run, validate and list take it). */
export const maxCellsOption = { 'max-cells': { type: 'string' } } as const;
export const maxCellsHelp = { 'max-cells': `most cells one scenario's matrix may have (default ${DEFAULT_MAX_CELLS}, at most ${MAX_CELLS_CEILING})` };

export function maxCellsFlag(values: Record<string, unknown>): { maxCells?: number } {
  const n = decimalFlag('max-cells', values['max-cells'], 1, MAX_CELLS_CEILING);
  return n === undefined ? {} : { maxCells: n };
}
