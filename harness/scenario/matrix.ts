// A scenario's matrix becomes cells: one per combination of dimension values, each with its stack
// (placeholders filled in) and the outcome expected of it.
import { FaultlineError } from '../errors.ts';
import { failingName, type CellExpectation, type Expectation, type ScenarioDoc } from '../model/scenario.ts';

export type Stack = ScenarioDoc['cluster']['stack'];


/** One combination of matrix values of one scenario. */
export interface Cell {
  /** `name[dim=v,dim2=w]`, or just `name` without a matrix. */
  id: string;
  scenario: string;
  values: Readonly<Record<string, string>>;
  stack: Stack;
  expectation: CellExpectation;
}

const PLACEHOLDER = /\$\{([^}]*)\}/g;

/** Dimension names a template refers to, in order (`harvester/${harvester}` → ['harvester']). */
export function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** Fills `${dim}` from `values`; unknown names stay as written (validation reports them). */
export function substitute(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);
}

/** The stack of a cell: every string field with its placeholders filled. */
export function substituteStack(stack: Stack, values: Readonly<Record<string, string>>): Stack {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(stack)) out[k] = typeof v === 'string' ? substitute(v, values) : v;
  return out as unknown as Stack;
}

/** Cells a matrix has when --max-cells does not say otherwise. */
export const DEFAULT_MAX_CELLS = 1000;
/** The most --max-cells may allow: beyond it a run would never end on one machine. */
export const MAX_CELLS_CEILING = 1_000_000;

/**
 * How many cells the matrix has: the product of its dimensions' sizes, computed without building
 * them (Infinity once it exceeds what a number holds).
 */
export function cellCount(matrix: Readonly<Record<string, readonly string[]>>): number {
  let n = 1;
  for (const vals of Object.values(matrix)) n *= vals.length;
  return n;
}

/** A cell count for messages: exact while it is, else its order of magnitude. */
export function formatCellCount(n: number): string {
  if (n <= Number.MAX_SAFE_INTEGER) return String(n);
  return n === Infinity ? 'more than 1e308' : `about ${n.toExponential(1)}`;
}

/** Every combination of the matrix, in dimension order (the last dimension varies fastest). */
export function combinations(matrix: Readonly<Record<string, readonly string[]>>): Record<string, string>[] {
  // The loader refuses bigger matrices; this keeps any other caller from exhausting the heap.
  const count = cellCount(matrix);
  if (count > MAX_CELLS_CEILING) throw new FaultlineError('invalid-input', `the matrix has ${formatCellCount(count)} cells; at most ${MAX_CELLS_CEILING} can be expanded`);
  let out: Record<string, string>[] = [{}];
  for (const [dim, vals] of Object.entries(matrix)) {
    out = out.flatMap((partial) => vals.map((v) => ({ ...partial, [dim]: v })));
  }
  return out;
}

/** `name[dim=v,dim2=w]`. */
export function cellId(name: string, values: Readonly<Record<string, string>>): string {
  const parts = Object.entries(values).map(([k, v]) => `${k}=${v}`);
  return parts.length ? `${name}[${parts.join(',')}]` : name;
}

/** Indices of the expectations whose `when` matches these values. */
export function matchingExpectations(expect: readonly Expectation[], values: Readonly<Record<string, string>>): number[] {
  const out: number[] = [];
  expect.forEach((e, i) => {
    if (Object.entries(e.when ?? {}).every(([k, v]) => values[k] === v)) out.push(i);
  });
  return out;
}

/**
 * Cells of a scenario, in dimension order. The expectation is the one matching expectation (the
 * loader guarantees at most one), else pass.
 */
export function expandMatrix(scenario: Pick<ScenarioDoc, 'name' | 'matrix' | 'expect' | 'cluster'>): Cell[] {
  const expect = scenario.expect ?? [];
  return combinations(scenario.matrix ?? {}).map((values) => {
    const index = matchingExpectations(expect, values)[0];
    const e = index === undefined ? undefined : expect[index];
    const evidence = Object.fromEntries((e?.failing ?? []).flatMap((f) => (typeof f === 'string' ? [] : [[f.name, f.evidence]])));
    const expectation: CellExpectation = e
      ? { outcome: e.outcome, failing: (e.failing ?? []).map(failingName), ...(Object.keys(evidence).length ? { evidence } : {}), ...(e.error ? { error: { ...e.error } } : {}), ...(e.reason ? { reason: e.reason } : {}), index }
      : { outcome: 'pass', failing: [] };
    return {
      id: cellId(scenario.name, values),
      scenario: scenario.name,
      values,
      stack: substituteStack(scenario.cluster.stack, values),
      expectation,
    };
  });
}

/** `--only dim=value` flags, grouped: a cell is kept when, for every dimension named, its value is one of those given. */
export type OnlyFilter = Map<string, Set<string>>;

/** Parses repeatable `--only dim=value` flags; a flag without '=' is a usage error. */
export function parseOnly(flags: readonly string[] | string | undefined): OnlyFilter {
  const list = flags === undefined ? [] : typeof flags === 'string' ? [flags] : flags;
  const out: OnlyFilter = new Map();
  for (const flag of list) {
    const m = /^([^=\s]+)=(.+)$/.exec(flag.trim());
    if (!m) throw new FaultlineError('usage', `--only ${flag}: expected dimension=value, e.g. --only harvester=v1.4.2`);
    const set = out.get(m[1]!) ?? new Set<string>();
    set.add(m[2]!);
    out.set(m[1]!, set);
  }
  return out;
}

/**
 * Keeps the cells that match every `--only` dimension. A dimension or value the scenario does not
 * have is a usage error naming the flag (a typo must not silently select nothing).
 */
export function selectCells(scenario: Pick<ScenarioDoc, 'name' | 'matrix'>, cells: readonly Cell[], only: OnlyFilter | readonly string[]): Cell[] {
  const filter = only instanceof Map ? only : parseOnly(only);
  const matrix = scenario.matrix ?? {};
  for (const [dim, vals] of filter) {
    const known = matrix[dim];
    if (!known) {
      const dims = Object.keys(matrix);
      throw new FaultlineError('usage', `--only ${dim}=${[...vals][0]}: scenario '${scenario.name}' has no matrix dimension '${dim}'; ${dims.length ? `dimensions: ${dims.join(', ')}` : 'it has no matrix'}`);
    }
    for (const v of vals) {
      if (!known.includes(v)) throw new FaultlineError('usage', `--only ${dim}=${v}: dimension '${dim}' of scenario '${scenario.name}' has no value '${v}'; values: ${known.join(', ')}`);
    }
  }
  return cells.filter((c) => [...filter].every(([dim, vals]) => vals.has(c.values[dim]!)));
}
