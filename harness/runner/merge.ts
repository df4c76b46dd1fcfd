// merge-reports: the shards of one run (`faultline run --shard i/n`) put back into the report of the
// whole run, with the cells in plan order and each cell's artifacts copied along. Shards of different
// runs, a shard given twice, cells in two shards or a cell in the wrong shard are refused with what
// differs; missing shards too, unless the caller allows them (the report then names what is missing).
import { cp, readFile, readdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CellReport, MergeInfo, RunReport, ShardInfo } from '../model/report.ts';
import type { Reporter } from '../reporters/types.ts';
import { fanOut, writtenPaths } from '../reporters/index.ts';
import { prepareOutDir, describeFsError } from '../reporters/out-dir.ts';
import { writeReportFile } from '../reporters/write-file.ts';
import { FaultlineError } from '../errors.ts';
import { newRunId } from '../ledger/ledger.ts';
import { FAULTLINE_VERSION } from '../version.ts';
import { summarize } from './run.ts';

export interface MergeOptions {
  /** Directories holding a shard's report.json, or holding such directories (downloaded CI artifacts). */
  dirs: readonly string[];
  out: string;
  reporters: Reporter[];
  /** Merge even when shards are missing; their cells are left out and the report names them. */
  allowMissing?: boolean;
  argv?: string[];
}

interface ShardReport {
  file: string;
  dir: string;
  report: RunReport & { shard: ShardInfo };
}

const usage = (message: string, hint?: string) => new FaultlineError('usage', message, hint ? { hint } : {});

async function isFile(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isFile(), () => false);
}

/** The report.json files: each directory's own, else those of its direct subdirectories (sorted). */
export async function findShardReports(dirs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const dir of dirs) {
    const st = await stat(dir).catch(() => undefined);
    if (!st) throw usage(`${dir}: no such file or directory`);
    if (st.isFile() && path.basename(dir) === 'report.json') {
      out.push(path.resolve(dir));
      continue;
    }
    if (!st.isDirectory()) throw usage(`${dir}: expected a directory holding report.json (or directories that do)`);
    const own = path.join(dir, 'report.json');
    if (await isFile(own)) {
      out.push(path.resolve(own));
      continue;
    }
    const found: string[] = [];
    const entries = await readdir(dir, { withFileTypes: true }).catch((e) => {
      throw usage(`${dir}: cannot read the directory: ${describeFsError(e)}`);
    });
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const f = path.join(dir, e.name, 'report.json');
      if (e.isDirectory() && (await isFile(f))) found.push(path.resolve(f));
    }
    if (!found.length) throw usage(`${dir}: no report.json in it or in its subdirectories`, 'give merge-reports the --out directories of the shards (or the directory they were downloaded to)');
    out.push(...found);
  }
  return [...new Set(out)];
}

async function readShard(file: string): Promise<ShardReport> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw usage(`${file}: not a readable report.json: ${e instanceof SyntaxError ? e.message : describeFsError(e)}`);
  }
  const r = doc as Partial<RunReport>;
  if (typeof r !== 'object' || r === null || typeof r.runId !== 'string' || !Array.isArray(r.cells)) {
    throw usage(`${file}: not a faultline report.json (expected an object with runId and cells)`);
  }
  if (!r.shard) {
    throw usage(`${file}: run ${r.runId} is not a shard (it ran without --shard i/n)`, r.merged ? 'it is a merged report already' : 'merge-reports merges the shards of one sharded run');
  }
  return { file, dir: path.dirname(file), report: r as ShardReport['report'] };
}

const label = (s: ShardReport) => `shard ${s.report.shard.index}/${s.report.shard.total} (${s.file})`;

/** Why two shards are not of one run, in words a user can act on. */
function whyDifferent(a: ShardInfo, b: ShardInfo): string {
  if ((a.label ?? '') !== (b.label ?? '')) return `their --run-label differs (${JSON.stringify(a.label ?? null)} and ${JSON.stringify(b.label ?? null)})`;
  if (a.total !== b.total) return `they cut the run into different numbers of shards (${a.total} and ${b.total})`;
  const idsA = new Set(a.plan.map((p) => p.id));
  const idsB = new Set(b.plan.map((p) => p.id));
  const onlyA = [...idsA].filter((id) => !idsB.has(id));
  const onlyB = [...idsB].filter((id) => !idsA.has(id));
  if (onlyA.length || onlyB.length) {
    const one = onlyA.length ? `${onlyA[0]} is planned only by the first` : `${onlyB[0]} is planned only by the second`;
    return `they planned different cells (${one}; ${onlyA.length + onlyB.length} differ): other scenarios, --suite or --only`;
  }
  if (a.plan.some((p, i) => p.id !== b.plan[i]?.id)) return 'they planned the cells in a different order';
  return `they divided the cells differently (balanced by ${a.balance} and ${b.balance}: give every shard the same --durations file)`;
}

/** Checks that the reports are the shards of one run, each once, each with its own cells. */
export function checkShards(shards: readonly ShardReport[], allowMissing = false): { missing: MergeInfo['missing'] } {
  if (!shards.length) throw usage('no shard reports to merge');
  const first = shards[0]!;
  for (const s of shards.slice(1)) {
    if (s.report.shard.runKey !== first.report.shard.runKey) {
      throw usage(`${label(s)} and ${label(first)} are shards of different runs: ${whyDifferent(first.report.shard, s.report.shard)}`);
    }
  }
  for (const s of shards) {
    if (s.report.faultlineVersion !== first.report.faultlineVersion) {
      throw usage(`${label(s)} was written by faultline ${s.report.faultlineVersion}, ${label(first)} by ${first.report.faultlineVersion}: run every shard with the same faultline`);
    }
  }
  const byIndex = new Map<number, ShardReport>();
  for (const s of shards) {
    const other = byIndex.get(s.report.shard.index);
    if (other) throw usage(`overlapping shards: shard ${s.report.shard.index}/${s.report.shard.total} is given twice (${other.file} and ${s.file})`);
    byIndex.set(s.report.shard.index, s);
  }
  const plan = first.report.shard.plan;
  const shardOf = new Map(plan.map((p) => [p.id, p.shard]));
  const seen = new Map<string, ShardReport>();
  for (const s of shards) {
    for (const c of s.report.cells) {
      const before = seen.get(c.id);
      if (before) throw usage(`overlapping cells: ${c.id} is in ${before.file} and in ${s.file}`);
      seen.set(c.id, s);
      const planned = shardOf.get(c.id);
      if (planned === undefined) throw usage(`${label(s)} has the cell ${c.id}, which the run's plan does not have`);
      if (planned !== s.report.shard.index) throw usage(`${label(s)} has the cell ${c.id}, which the run's plan gives to shard ${planned}`);
    }
    // A shard that ran writes all its cells (an interrupted one reports them as errors).
    const lost = plan.filter((p) => p.shard === s.report.shard.index && !s.report.cells.some((c) => c.id === p.id));
    if (lost.length) throw usage(`${label(s)} lacks ${lost.length} of its cells (${lost[0]!.id}${lost.length > 1 ? ', ...' : ''}): the report is incomplete`);
  }
  const total = first.report.shard.total;
  const missing = Array.from({ length: total }, (_, i) => i + 1)
    .filter((i) => !byIndex.has(i))
    .map((index) => ({ index, cells: plan.filter((p) => p.shard === index).map((p) => p.id) }));
  // A missing shard that had no cells to run lacks nothing.
  const lacking = missing.filter((m) => m.cells.length);
  if (lacking.length && !allowMissing) {
    const names = lacking.map((m) => `${m.index}/${total} (${m.cells.length} cell${m.cells.length === 1 ? '' : 's'})`).join(', ');
    throw usage(`missing shard${lacking.length === 1 ? '' : 's'} of run ${first.report.shard.runKey}: ${names}`, 'give every shard\'s report, or --allow-missing to merge what is there');
  }
  return { missing: lacking.length ? lacking : undefined };
}

/** The whole run's report from its shards' reports (cells in plan order); `outDir` is the merge's. */
export function mergeShardReports(shards: readonly ShardReport[], outDir: string, opts: { allowMissing?: boolean; argv?: string[]; runId?: string } = {}): RunReport {
  const { missing } = checkShards(shards, opts.allowMissing);
  const sorted = [...shards].sort((a, b) => a.report.shard.index - b.report.shard.index);
  const info = sorted[0]!.report.shard;
  const byId = new Map<string, CellReport>();
  for (const s of sorted) for (const c of s.report.cells) byId.set(c.id, c);
  const cells = info.plan.flatMap((p) => (byId.has(p.id) ? [byId.get(p.id)!] : []));
  const started = Math.min(...sorted.map((s) => Date.parse(s.report.startedAt)));
  const finished = Math.max(...sorted.map((s) => Date.parse(s.report.finishedAt)));
  const merged: MergeInfo = {
    runKey: info.runKey,
    ...(info.label !== undefined ? { label: info.label } : {}),
    shards: sorted.map((s) => ({
      index: s.report.shard.index,
      total: s.report.shard.total,
      runId: s.report.runId,
      file: s.file,
      startedAt: s.report.startedAt,
      finishedAt: s.report.finishedAt,
      durationMs: s.report.durationMs,
      host: s.report.host,
      cells: s.report.cells.length,
    })),
    ...(missing ? { missing } : {}),
  };
  return {
    runId: opts.runId ?? newRunId(),
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: Math.max(0, finished - started),
    faultlineVersion: sorted[0]!.report.faultlineVersion ?? FAULTLINE_VERSION,
    host: sorted[0]!.report.host ?? { hostname: os.hostname(), kernel: os.release(), cores: os.availableParallelism() },
    argv: opts.argv ?? [],
    outDir,
    summary: summarize(cells),
    cells,
    merged,
  };
}

/** durations.json: each cell's id and duration, what `run --shard i/n --durations FILE` reads. */
export function renderDurations(report: Pick<RunReport, 'cells'>): string {
  return JSON.stringify({ cells: report.cells.map((c) => ({ id: c.id, durationMs: c.durationMs })) }, null, 2) + '\n';
}

/** Reads the shards, writes the merged report with `reporters` and copies the cells' artifacts. */
export async function mergeReports(opts: MergeOptions): Promise<RunReport> {
  const files = await findShardReports(opts.dirs);
  const shards = await Promise.all(files.map(readShard));
  const outDir = path.resolve(opts.out);
  const clash = shards.find((s) => s.dir === outDir);
  if (clash) throw usage(`--out ${opts.out} is the directory of ${label(clash)}: merging there would overwrite it`);
  const report = mergeShardReports(shards, outDir, { ...(opts.allowMissing ? { allowMissing: true } : {}), ...(opts.argv ? { argv: opts.argv } : {}) });
  await prepareOutDir(opts.out, `--out ${opts.out}`);
  for (const s of shards) {
    for (const c of s.report.cells) {
      for (const a of c.artifacts ?? []) {
        const from = path.resolve(s.dir, a);
        const to = path.resolve(outDir, a);
        // Artifact paths are relative to their report's dir and must stay below it.
        if (!from.startsWith(s.dir + path.sep) || !to.startsWith(outDir + path.sep)) throw usage(`${s.file}: cell ${c.id} names an artifact outside its report directory: ${a}`);
        if (!(await stat(from).catch(() => undefined))) continue; // a shard uploaded without its artifacts
        await cp(from, to, { recursive: true, force: true }).catch((e) => {
          throw new FaultlineError('environment', `cannot copy the artifacts of ${c.id} from ${from} to ${to}: ${describeFsError(e)}`, { cause: e });
        });
      }
    }
  }
  report.written = writtenPaths(await fanOut(opts.reporters, 'onRunEnd', report));
  // The cells' durations alone: small enough to keep for the next run's --durations.
  report.written.push(await writeReportFile(outDir, 'durations.json', renderDurations(report)));
  return report;
}
