// `faultline bisect`: which value of one matrix dimension first changes a scenario's outcome. Each
// probe is one cell of the scenario, with the dimension set to that value and every other dimension
// fixed, run by the ordinary runner on the ordinary backends. A probe's outcome is what its checks
// said (which assertions failed, or the cell's error), not how that compares to `expect`, which names
// only the matrix's own values. Builds are cached by the component caches; probe results are cached
// per scenario text, value, other values, seed and backend, so a bisect run again (or another bisect
// crossing the same values) runs nothing twice.
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { FaultlineError, InvalidInputError, errorMessage } from '../errors.ts';
import type { Scenario } from '../model/scenario.ts';
import type { CellReport } from '../model/report.ts';
import { FAULTLINE_VERSION } from '../version.ts';
import { loadScenario, parseScenario, type LoadOptions } from '../scenario/load.ts';
import { placeholders, substitute, type OnlyFilter } from '../scenario/matrix.ts';
import { planCells } from '../runner/cell.ts';
import { runCells, type RunEnvironment } from '../runner/run.ts';
import type { Reporter } from '../reporters/types.ts';
import { JsonReporter, MarkdownReporter } from '../reporters/index.ts';
import { cniCacheDir } from '../cni-versions/cache.ts';
import { PLUGINS_MODULE } from '../cni-versions/go.ts';
import { MULTUS_MODULE_V4 } from '../components/multus.ts';
import { componentsCacheDir, containerdModule } from '../components/containerd.ts';

/** A scenario ready for probes: the dimension takes every value, the others one each. */
export interface BisectPlan {
  scenario: Scenario;
  /** The scenario file's text (part of every probe's cache key). */
  text: string;
  dim: string;
  values: string[];
  /** The other dimensions' values, fixed for every probe. */
  fixed: Record<string, string>;
}

/**
 * Loads `file` and checks the bisect's arguments: the dimension exists, every value is one the
 * scenario accepts there (the loader's own checks), the other dimensions are fixed by --only or take
 * their first value.
 */
export async function prepareBisect(file: string, dim: string, values: readonly string[], only: OnlyFilter, opts: LoadOptions = {}): Promise<BisectPlan> {
  const original = await loadScenario(file, opts);
  const dims = Object.keys(original.matrix);
  if (!dims.includes(dim)) throw new FaultlineError('usage', `--dim ${dim}: scenario '${original.name}' has no matrix dimension '${dim}' (${dims.length ? `dimensions: ${dims.join(', ')}` : 'it has no matrix'})`);
  if (values.length < 2) throw new FaultlineError('usage', `--dim ${dim}: bisect needs at least two values, found ${values.length}${values.length ? ` (${values.join(', ')})` : ''}`);
  const dup = values.find((v, i) => values.indexOf(v) !== i);
  if (dup) throw new FaultlineError('usage', `--values: '${dup}' is listed twice`);
  const fixed: Record<string, string> = {};
  for (const d of dims.filter((x) => x !== dim)) {
    const chosen = only.get(d);
    if (chosen && chosen.size !== 1) throw new FaultlineError('usage', `--only ${d}=...: a bisect fixes every other dimension to one value, found ${[...chosen].join(', ')}`);
    const v = chosen ? [...chosen][0]! : original.matrix[d]![0]!;
    if (!original.matrix[d]!.includes(v)) throw new FaultlineError('usage', `--only ${d}=${v}: dimension '${d}' has no value '${v}'; values: ${original.matrix[d]!.join(', ')}`);
    fixed[d] = v;
  }
  for (const d of only.keys()) if (!dims.includes(d) || d === dim) throw new FaultlineError('usage', `--only ${d}=...: ${d === dim ? `'${d}' is the dimension being bisected` : `scenario '${original.name}' has no matrix dimension '${d}'`}`);
  const text = await readFile(file, 'utf8');
  // The same file with the matrix narrowed to the probes (and no expectations, which name matrix
  // values): the loader then checks every value as it checks the file's own.
  const doc = parseDocument(text);
  doc.setIn(['matrix', dim], doc.createNode([...values], { flow: true }));
  for (const [d, v] of Object.entries(fixed)) doc.setIn(['matrix', d], doc.createNode([v], { flow: true }));
  doc.set('expect', doc.createNode([]));
  let scenario: Scenario;
  try {
    scenario = parseScenario(doc.toString(), file, opts);
  } catch (e) {
    if (!(e instanceof InvalidInputError)) throw e;
    throw new FaultlineError('usage', `the values for ${dim} do not fit scenario '${original.name}':\n${e.problems.map((p) => `  ${p.message}`).join('\n')}`);
  }
  return { scenario, text, dim, values: [...values], fixed };
}

/** One probe's outcome: what the checks said about this value. */
export interface ProbeOutcome {
  value: string;
  /** What is compared: `pass`, `fail: a, b`, `unknown: c`, or `error`. */
  key: string;
  /** One line per piece of evidence: failing checks' first findings, or the error. */
  evidence: string[];
  /** The component the dimension selected, as resolved (version, source, build sum). */
  component: string;
  durationMs: number;
  reportDir?: string;
  /** When the result came from the probe cache: when it was first run. */
  cachedFrom?: string;
}

/** The comparable outcome of a probe's cell. */
export function probeOutcome(plan: Pick<BisectPlan, 'dim'>, value: string, cell: CellReport): Omit<ProbeOutcome, 'reportDir' | 'cachedFrom'> {
  const failing = cell.assertions.filter((a) => a.status === 'fail');
  const unknown = cell.assertions.filter((a) => a.status === 'unknown');
  let key: string;
  let evidence: string[];
  if (cell.error) {
    key = 'error';
    evidence = [cell.error.message];
  } else if (failing.length) {
    key = `fail: ${failing.map((a) => a.name).sort().join(', ')}`;
    evidence = failing.flatMap((a) => (a.evidence ?? []).slice(0, 2).map((e) => `${a.name}: ${e.summary}`));
  } else if (unknown.length) {
    key = `unknown: ${unknown.map((a) => a.name).sort().join(', ')}`;
    evidence = unknown.map((a) => `${a.name}: ${a.evidence?.[0]?.summary ?? 'could not judge'}`);
  } else {
    key = 'pass';
    evidence = [`all ${cell.assertions.length} check(s) held`];
  }
  return { value, key, evidence, component: componentText(plan.dim, cell), durationMs: cell.durationMs };
}

function componentText(dim: string, cell: CellReport): string {
  const s = cell.stack;
  const sum = (b: { sum: string; go: string } | undefined) => (b ? `, ${b.sum}, ${b.go}` : '');
  const parts: string[] = [];
  if (s.cni?.source) parts.push(`plugins ${s.cni.version} (${s.cni.source}${sum(s.cni.build)})`);
  if (s.containerd) parts.push(`containerd ${s.containerd.version}, libcni ${s.containerd.libcni} (${s.containerd.source}${sum(s.containerd.build)})`);
  if (s.multus) parts.push(`multus ${s.multus.version} (${s.multus.source}${sum(s.multus.build)})`);
  return parts.join('; ') || `${dim}=${cell.matrix[dim]}`;
}

/** $FAULTLINE_BISECT_CACHE_DIR, else $XDG_CACHE_HOME/faultline/bisect, else ~/.cache/faultline/bisect. */
export function bisectCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FAULTLINE_BISECT_CACHE_DIR) return path.resolve(env.FAULTLINE_BISECT_CACHE_DIR);
  const xdg = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : path.join(homedir(), '.cache');
  return path.join(xdg, 'faultline', 'bisect');
}

export interface ProbeEnv extends RunEnvironment {
  seed: number;
  /** The bisect's report dir; each probe writes its report below it. */
  outDir: string;
  signal: AbortSignal;
  onProgress?: (message: string) => void;
  /** Probe results already known (default bisectCacheDir()); `fresh` runs every probe again. */
  cacheDir?: string;
  fresh?: boolean;
}

function probeKey(plan: BisectPlan, value: string, env: Pick<ProbeEnv, 'seed'>): string {
  const backend = plan.scenario.cluster.backend;
  return createHash('sha256').update(JSON.stringify([FAULTLINE_VERSION, plan.scenario.file, plan.text, plan.dim, value, plan.fixed, env.seed, backend])).digest('hex').slice(0, 32);
}

/** Runs the scenario's cell for `value` (or finds its earlier result), as one probe. */
export async function runProbe(plan: BisectPlan, value: string, index: number, env: ProbeEnv): Promise<ProbeOutcome> {
  const cacheDir = env.cacheDir ?? bisectCacheDir();
  const cacheFile = path.join(cacheDir, `${probeKey(plan, value, env)}.json`);
  if (!env.fresh) {
    try {
      const hit = JSON.parse(await readFile(cacheFile, 'utf8')) as ProbeOutcome & { ranAt: string };
      if (hit.value === value && typeof hit.key === 'string') {
        const { ranAt, ...rest } = hit;
        return { ...rest, cachedFrom: ranAt };
      }
    } catch {
      // not probed before
    }
  }
  const [cell] = planCells([plan.scenario], { only: new Map([[plan.dim, new Set([value])]]) });
  if (!cell) throw new FaultlineError('internal', `no cell for ${plan.dim}=${value}`);
  const reportDir = path.join(env.outDir, `probe-${String(index + 1).padStart(2, '0')}-${value.replace(/[^A-Za-z0-9.=-]+/g, '_')}`);
  const progress: Reporter = { onProgress: (_id, m) => env.onProgress?.(m) };
  const report = await runCells({ cells: [cell], out: reportDir, jobs: 1, seed: env.seed, reporters: [progress, new JsonReporter(), new MarkdownReporter()], signal: env.signal, backends: env.backends, reapers: env.reapers });
  const c = report.cells[0];
  if (!c) throw new FaultlineError('internal', `probe ${plan.dim}=${value} produced no cell report`);
  // A cell that never got its nodes (a component could not be provisioned, the backend failed) says
  // nothing about the value's behaviour.
  if (c.error && c.artifacts.length === 0) {
    const code = c.error.code === 'invalid-input' || c.error.code === 'usage' ? 'invalid-input' : c.error.code === 'interrupted' ? 'interrupted' : 'environment';
    throw new FaultlineError(code, `probe ${plan.dim}=${value}: the cell could not be set up: ${c.error.message}`);
  }
  const out: ProbeOutcome = { ...probeOutcome(plan, value, c), reportDir };
  try {
    await mkdir(cacheDir, { recursive: true });
    await writeFile(`${cacheFile}.${process.pid}`, JSON.stringify({ ...out, ranAt: new Date().toISOString() }, null, 2) + '\n');
    await rename(`${cacheFile}.${process.pid}`, cacheFile);
  } catch (e) {
    env.onProgress?.(`could not cache the probe result: ${errorMessage(e)}`);
  }
  return out;
}

/** What the dimension selects, when it selects a component built from source (for --between). */
export interface SourceDimension {
  field: 'cni' | 'runtime' | 'multus';
  template: string;
  /** The modules whose versions are listed (containerd 1.x and 2.x are two modules). */
  modules: (from: string, to: string) => string[];
  /** The dimension value for a module version, e.g. go:v1.5.1. */
  valueFor: (version: string) => string;
  /** Versions of this component already built in the cache. */
  cachedVersions: () => Promise<string[]>;
}

const GO_FIELDS = {
  cni: { test: (v: string) => v.startsWith('go:'), prefixes: ['', 'go:'] },
  runtime: { test: (v: string) => v.startsWith('containerd-go:'), prefixes: ['', 'containerd-go:'] },
  multus: { test: (v: string) => /^(go:)?v\d/.test(v), prefixes: ['', 'go:'] },
} as const;

/** How a dimension feeds a Go-built component; a usage error when it feeds none. */
export function sourceDimension(scenario: Scenario, dim: string): SourceDimension {
  const stack = scenario.cluster.stack;
  for (const field of ['cni', 'runtime', 'multus'] as const) {
    const template = stack[field];
    if (typeof template !== 'string' || !placeholders(template).includes(dim)) continue;
    const g = GO_FIELDS[field];
    const prefix = g.prefixes.find((p) => g.test(substitute(template, { [dim]: `${p}v1.0.0` })));
    if (prefix === undefined) continue;
    const valueFor = (version: string) => `${prefix}${version}`;
    if (field === 'cni') return { field, template, modules: () => [PLUGINS_MODULE], valueFor, cachedVersions: () => goEntries(cniCacheDir()) };
    if (field === 'multus') return { field, template, modules: () => [MULTUS_MODULE_V4], valueFor, cachedVersions: () => goEntries(path.join(componentsCacheDir(), 'multus')) };
    return { field, template, modules: (from, to) => [...new Set([containerdModule(from), containerdModule(to)])], valueFor, cachedVersions: () => goEntries(path.join(componentsCacheDir(), 'containerd')) };
  }
  const uses = (['cni', 'runtime', 'multus'] as const).filter((f) => typeof stack[f] === 'string' && placeholders(stack[f]!).includes(dim));
  throw new FaultlineError('usage', `--between needs a dimension that selects a component built from source (cluster.stack.cni: go:..., runtime: containerd-go:..., multus); '${dim}' ${uses.length ? `feeds ${uses.map((f) => `cluster.stack.${f} '${stack[f]}'`).join(', ')}, which does not take one` : 'feeds no such field'}; give the values with --values`);
}

/** Versions of go-<version> entries in a cache dir. */
async function goEntries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => /^go-v\d/.test(n)).map((n) => n.slice(3));
  } catch {
    return [];
  }
}

/** A ref as given to --between, without the value's own prefix (go:v1.0.0 -> v1.0.0). */
export function bareRef(ref: string): string {
  return ref.replace(/^(go:|containerd-go:)/, '').replace(/^(\d)/, 'v$1');
}
