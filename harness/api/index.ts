// faultline's programmatic API, the package's main export: what `faultline run`, `validate` and
// `merge-reports` do, called from a JavaScript or TypeScript program (a test suite, a release script)
// instead of a shell. Results are the report types of report.json (schemas/report.schema.json).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allReapers, getBackend } from '../backends/index.ts';
import { defaultJobs, runCells } from '../runner/run.ts';
import { selectRun } from '../runner/select.ts';
import { parseShard, readDurations, type ShardSpec } from '../runner/shard.ts';
import { mergeReports as mergeShards } from '../runner/merge.ts';
import { duplicateNames, findScenarioFiles, loadScenario as loadScenarioFile } from '../scenario/load.ts';
import { cellCount, type OnlyFilter } from '../scenario/matrix.ts';
import { createReporters, type ReporterSpec } from '../reporters/index.ts';
import { FaultlineError, InvalidInputError, formatLocation, type Location } from '../errors.ts';
import type { RunReport } from '../model/report.ts';
import type { Scenario } from '../model/scenario.ts';

export type { RunReport, CellReport, Outcome, ShardInfo, MergeInfo, HostInfo } from '../model/report.ts';
export type { AssertionResult, Evidence, Verdict } from '../model/verdict.ts';
export type { TimelineEntry, NodeDelta } from '../model/timeline.ts';
export type { NodeSnapshot, Reservation, Attachment, LinkInfo, CacheEntry, IptablesChain, SandboxInfo } from '../model/snapshot.ts';
export type { Scenario } from '../model/scenario.ts';
export type { Reporter, ReporterSpec } from '../reporters/index.ts';
export type { Location } from '../errors.ts';
export { FaultlineError, InvalidInputError, EXIT } from '../errors.ts';
export { runExitCode } from '../runner/outcome.ts';

/** A scenario file or directory: a path (relative to the working directory) or a file: URL. */
export type ScenarioPath = string | URL;

export interface RunOptions {
  /** Scenario files or directories to run (directories are searched for *.yaml). */
  scenarios: ScenarioPath | readonly ScenarioPath[];
  /** Keep the cells with these matrix values, e.g. `{ runtime: ['libcni-1.1', 'libcni-1.2'] }` (--only). */
  only?: Readonly<Record<string, string | readonly string[]>>;
  /** Keep the scenarios of this suite (--suite). */
  suite?: string;
  /** Report directory; default `reports/<run-id>` under the working directory. */
  out?: string;
  /** Cells at once, each with its own nodes; default the number of cores. */
  jobs?: number;
  /** Seed for container ids and churn schedules; default random (the report states it). */
  seed?: number;
  /** Reporters: built-in names (json, junit, markdown, html, console), [name, options] or objects; default ['json']. */
  reporters?: readonly ReporterSpec[];
  /** Run every cell on this backend instead of the scenario's (--backend). */
  backend?: string;
  /** Run one shard of the cells: '2/4' or { index: 2, total: 4 } (--shard). */
  shard?: string | ShardSpec;
  /** With `shard`: balance by the durations of an earlier report.json (a path) or a map of cell id to ms. */
  durations?: string | ReadonlyMap<string, number>;
  /** With `shard`: names the run so shards of two runs never merge (--run-label). */
  runLabel?: string;
  /** Most cells one scenario's matrix may have (--max-cells). */
  maxCells?: number;
  /** Aborting stops the cells and cleans up; run() then rejects with an `interrupted` FaultlineError. */
  signal?: AbortSignal;
}

const toPath = (p: ScenarioPath): string => (p instanceof URL ? fileURLToPath(p) : p);
const list = <T>(v: T | readonly T[]): T[] => (Array.isArray(v) ? [...(v as readonly T[])] : [v as T]);

function integerOption(name: string, value: number | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new FaultlineError('usage', `Expected the \`${name}\` option to be an integer from ${min} to ${max}, got \`${String(value)}\` (${typeof value})`);
  }
  return value;
}

function onlyFilter(only: RunOptions['only']): OnlyFilter {
  const out: OnlyFilter = new Map();
  for (const [dim, values] of Object.entries(only ?? {})) {
    const vs = list(values as string | readonly string[]);
    if (!vs.length || vs.some((v) => typeof v !== 'string' || v === '')) {
      throw new FaultlineError('usage', `Expected the \`only.${dim}\` option to be a matrix value or a list of them, got \`${JSON.stringify(values)}\``);
    }
    out.set(dim, new Set(vs));
  }
  return out;
}

/** Runs the cells of the scenarios (as `faultline run` does) and resolves with the run's report. */
export async function run(options: RunOptions): Promise<RunReport> {
  const jobs = integerOption('jobs', options.jobs, 1, 1024);
  const seed = integerOption('seed', options.seed, 0, Number.MAX_SAFE_INTEGER);
  const maxCells = integerOption('maxCells', options.maxCells, 1, 1_000_000);
  const shard = options.shard === undefined ? undefined : typeof options.shard === 'string' ? parseShard(options.shard, 'shard') : parseShard(`${options.shard.index}/${options.shard.total}`, 'shard');
  if ((options.durations !== undefined || options.runLabel !== undefined) && !shard) throw new FaultlineError('usage', 'the `durations` and `runLabel` options need `shard`');
  if (options.backend !== undefined) getBackend(options.backend);
  const durations = typeof options.durations === 'string' ? await readDurations(options.durations, 'durations') : options.durations;
  const selection = await selectRun({
    paths: list(options.scenarios).map(toPath),
    only: onlyFilter(options.only),
    ...(options.suite !== undefined ? { suite: options.suite } : {}),
    ...(options.backend !== undefined ? { backend: options.backend } : {}),
    ...(maxCells !== undefined ? { maxCells } : {}),
    ...(shard ? { shard } : {}),
    ...(durations ? { durations } : {}),
    ...(options.runLabel !== undefined ? { label: options.runLabel } : {}),
  });
  return runCells({
    cells: selection.cells,
    ...(options.out !== undefined ? { out: options.out } : { reportsRoot: path.resolve('reports') }),
    jobs: jobs ?? defaultJobs(selection.cells.length),
    ...(seed !== undefined ? { seed } : {}),
    reporters: createReporters(options.reporters ?? ['json']),
    signal: options.signal ?? new AbortController().signal,
    backends: getBackend,
    reapers: allReapers(),
    argv: [],
    ...(selection.shard ? { shard: selection.shard } : {}),
  });
}

/** One problem of a scenario file, at file:line:col. */
export interface ValidationProblem {
  location: Location;
  /** "file:line:col" as the CLI prints it. */
  where: string;
  message: string;
}

export interface ValidationResult {
  ok: boolean;
  files: { file: string; ok: boolean; cells?: number; problems: ValidationProblem[] }[];
}

/** Checks scenario files (as `faultline validate` does) without running anything; never throws for a bad file. */
export async function validate(paths: ScenarioPath | readonly ScenarioPath[], options: { maxCells?: number } = {}): Promise<ValidationResult> {
  const maxCells = integerOption('maxCells', options.maxCells, 1, 1_000_000);
  const files = await findScenarioFiles(list(paths).map(toPath));
  const problem = (p: { location: Location; message: string }): ValidationProblem => ({ location: p.location, where: formatLocation(p.location), message: p.message });
  const result: ValidationResult['files'] = [];
  const loaded: Scenario[] = [];
  for (const file of files) {
    try {
      const scenario = await loadScenarioFile(file, maxCells === undefined ? {} : { maxCells });
      loaded.push(scenario);
      result.push({ file, ok: true, cells: cellCount(scenario.matrix), problems: [] });
    } catch (e) {
      if (!(e instanceof InvalidInputError)) throw e;
      result.push({ file, ok: false, problems: e.problems.map(problem) });
    }
  }
  for (const p of duplicateNames(loaded)) {
    const entry = result.find((r) => r.file === p.location.file)!;
    entry.ok = false;
    entry.problems.push(problem(p));
  }
  return { ok: result.every((r) => r.ok), files: result };
}

/** Loads and validates one scenario file; rejects with an InvalidInputError listing every problem. */
export async function loadScenario(file: ScenarioPath, options: { maxCells?: number } = {}): Promise<Scenario> {
  const maxCells = integerOption('maxCells', options.maxCells, 1, 1_000_000);
  return loadScenarioFile(toPath(file), maxCells === undefined ? {} : { maxCells });
}

/** Merges the shards of one run (as `faultline merge-reports` does); reporters default to json, junit, markdown, html. */
export async function mergeReports(options: { dirs: readonly string[]; out: string; reporters?: readonly ReporterSpec[]; allowMissing?: boolean }): Promise<RunReport> {
  return mergeShards({
    dirs: options.dirs,
    out: options.out,
    reporters: createReporters(options.reporters ?? ['json', 'junit', 'markdown', 'html']),
    ...(options.allowMissing ? { allowMissing: true } : {}),
  });
}
