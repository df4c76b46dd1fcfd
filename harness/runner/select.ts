// What a run runs: the scenarios named (files or directories), kept to a suite, their cells kept to
// the --only values, and of those the cells of one shard. Shared by `faultline run` and the API.
import path from 'node:path';
import { loadScenarios } from '../scenario/load.ts';
import type { OnlyFilter } from '../scenario/matrix.ts';
import type { Scenario } from '../model/scenario.ts';
import type { ShardInfo } from '../model/report.ts';
import { FaultlineError } from '../errors.ts';
import { planCells, type CellPlan } from './cell.ts';
import { selectShard, type ShardSpec } from './shard.ts';

export interface SelectOptions {
  /** Scenario files or directories (relative to the working directory). */
  paths: readonly string[];
  suite?: string;
  only?: OnlyFilter;
  /** Run every cell on this backend instead of the scenario's. */
  backend?: string;
  maxCells?: number;
  shard?: ShardSpec;
  /** Cell durations of an earlier report, to balance the shards. */
  durations?: ReadonlyMap<string, number>;
  /** Names the run, so shards of different runs never merge. */
  label?: string;
}

export interface Selection {
  scenarios: Scenario[];
  /** The cells to run (of this shard, when sharded), in plan order. */
  cells: CellPlan[];
  shard?: ShardInfo;
}

/** Loads and plans; a filter that selects nothing is a usage error naming it. */
export async function selectRun(opts: SelectOptions): Promise<Selection> {
  if (!opts.paths.length) throw new FaultlineError('usage', 'name at least one scenario file or directory, e.g. faultline run scenarios/');
  const load = (paths: readonly string[], backend: string | undefined) =>
    loadScenarios(paths, { ...(opts.maxCells !== undefined ? { maxCells: opts.maxCells } : {}), ...(backend ? { backend } : {}) });
  // With --suite, every file is validated as written (a kind scenario beside the suite is not
  // refused for --backend local); the suite's own scenarios are then loaded for --backend.
  let scenarios = await load(opts.paths.map((p) => path.resolve(p)), opts.suite === undefined ? opts.backend : undefined);
  if (opts.suite !== undefined) {
    const suite = opts.suite;
    scenarios = scenarios.filter((s) => s.suites.includes(suite));
    if (!scenarios.length) throw new FaultlineError('usage', `--suite ${suite}: no scenario in ${opts.paths.join(', ')} belongs to suite '${suite}'`);
    if (opts.backend) scenarios = await load(scenarios.map((s) => s.file), opts.backend);
  }
  const only = opts.only ?? new Map();
  // --only applies to scenarios that have the dimensions it names.
  const plans = planCells(scenarios, { only, ...(opts.backend ? { backend: opts.backend } : {}) });
  const unusedOnly = [...only.keys()].filter((dim) => !scenarios.some((s) => dim in s.matrix));
  if (unusedOnly.length) throw new FaultlineError('usage', `--only ${unusedOnly[0]}=...: no scenario has a matrix dimension '${unusedOnly[0]}'`);
  if (!plans.length) throw new FaultlineError('usage', 'no cell to run');
  if (!opts.shard) return { scenarios, cells: plans };
  // A shard may be empty (more shards than cells): it runs nothing and still writes its report.
  const { cells, shard } = selectShard(plans, opts.shard, { ...(opts.durations ? { durations: opts.durations } : {}), ...(opts.label !== undefined ? { label: opts.label } : {}) });
  return { scenarios, cells, shard };
}
