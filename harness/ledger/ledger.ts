// The run ledger: every run owns runs/<run-id>/ under the state root, with ledger.json listing the
// owner process and every resource before it is created. Backends record what they create and bring
// a RunReaper that knows how to remove it; `gcRuns` asks every reaper about runs whose owner is dead
// (and only those), then removes the run's dir; `Run.release()` does the same at a normal end.
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { FaultlineError, errorMessage } from '../errors.ts';
import { type ProcessIdentity, isSameProcessAlive, readBootId, readMountinfo, readStartTime } from '../util/procfs.ts';

export const RUN_ID_RE = /^fl-\d{8}-\d{6}-[0-9a-f]{6}$/;
const STAGING_PREFIX = '.staging-';
const LEDGER_FILE = 'ledger.json';

/** The process that owns a run; the run is live while this exact process runs. */
export interface RunOwner extends ProcessIdentity {
  bootId: string;
  host: string;
}

/**
 * Something a run creates, listed before it exists. `kind` names the resource; the backend that
 * creates a kind of resource owns its other fields and knows how to remove it (its RunReaper).
 */
export type LedgerResource =
  | { kind: 'work-dir'; path: string; cellId?: string }
  | { kind: string; cellId?: string; [field: string]: unknown };

export type LedgerEntry = LedgerResource & { id: string; recordedAt: string };

/**
 * Removes what a dead (or released) run left in one backend: the resources of its kinds in the run's
 * ledger, or anything else carrying the run's id. Called before the run's dir is removed.
 */
export interface RunReaper {
  readonly name: string;
  /** `sameBoot`: the machine has not rebooted since the run was created (its processes may live). */
  reap(ledger: LedgerFile, opts: { sameBoot: boolean }): Promise<void>;
}

export interface LedgerFile {
  version: 1;
  runId: string;
  owner: RunOwner;
  createdAt: string;
  resources: LedgerEntry[];
}

/** One run's dir and ledger. */
export interface Run {
  readonly runId: string;
  /** runs/<run-id>: the ledger and every cell work dir live below it. */
  readonly workDir: string;
  /** A work dir for one matrix cell, below `workDir` (not created). */
  cellDir(cellId: string): string;
  /** Lists a resource in the ledger (written to disk before returning); returns its id. */
  record(resource: LedgerResource): string;
  /** Updates a listed resource (e.g. a holder's pid once spawned). */
  update(id: string, patch: Partial<LedgerResource>): void;
  resources(): readonly LedgerEntry[];
  /** Normal end: asks each reaper to remove what is left of the run, then removes the run dir. */
  release(reapers: readonly RunReaper[]): Promise<void>;
}

export interface GcResult {
  /** Runs removed (with dryRun: runs that would be removed). */
  removed: string[];
  /** Runs left alone because their owner still runs (or runs on another host). */
  skippedLive: string[];
  /** Why each skipped run was judged live. */
  reasons: Record<string, string>;
  /** Runs that could not be cleaned (or judged). */
  failed: { runId: string; error: string }[];
}

/** $FAULTLINE_STATE_DIR, else $XDG_STATE_HOME/faultline, else ~/.local/state/faultline. */
export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FAULTLINE_STATE_DIR) return resolve(env.FAULTLINE_STATE_DIR);
  if (env.XDG_STATE_HOME) return resolve(env.XDG_STATE_HOME, 'faultline');
  return join(homedir(), '.local', 'state', 'faultline');
}

/** fl-<yyyymmdd-hhmmss>-<6 hex>, UTC. */
export function newRunId(now = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const date = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}`;
  const time = `${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `fl-${date}-${time}-${randomBytes(3).toString('hex')}`;
}

/** A file-name-safe, collision-free form of a cell id. */
export function cellDirName(cellId: string): string {
  const safe = cellId.replace(/[^A-Za-z0-9._=+-]/g, '_').slice(0, 48);
  return `${safe || 'cell'}-${createHash('sha256').update(cellId).digest('hex').slice(0, 6)}`;
}

const active = new Map<string, Run>();

/** The run this process created with that id, if it has not been released. */
export function activeRun(runId: string): Run | undefined {
  return active.get(runId);
}

function currentOwner(): RunOwner {
  const startTime = readStartTime(process.pid);
  if (startTime === undefined) throw new FaultlineError('internal', 'cannot read our own /proc/self/stat');
  return { pid: process.pid, startTime, bootId: readBootId(), host: hostname() };
}

/**
 * Writes the ledger atomically (a reader sees the old or the new file, never half). A state dir that
 * fails (full, read-only) is an environment error naming it.
 */
function writeLedger(dir: string, ledger: LedgerFile): void {
  const tmp = join(dir, `${LEDGER_FILE}.tmp-${process.pid}`);
  try {
    writeFileSync(tmp, JSON.stringify(ledger, null, 2) + '\n');
    renameSync(tmp, join(dir, LEDGER_FILE));
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new FaultlineError('environment', `cannot write the run ledger ${join(dir, LEDGER_FILE)}: ${errorMessage(e)}`, { cause: e, hint: 'free the state dir or set FAULTLINE_STATE_DIR to a writable directory' });
  }
}

function readLedger(dir: string): LedgerFile {
  const ledger = JSON.parse(readFileSync(join(dir, LEDGER_FILE), 'utf8')) as LedgerFile;
  if (ledger?.version !== 1 || typeof ledger.runId !== 'string' || typeof ledger.owner?.pid !== 'number') {
    throw new Error(`${join(dir, LEDGER_FILE)} is not a faultline ledger`);
  }
  return ledger;
}

/** Creates runs/<run-id>/ with its ledger (atomically: the dir never exists without one). */
export async function createRun(opts: { runId?: string; stateDir?: string } = {}): Promise<Run> {
  const runId = opts.runId ?? newRunId();
  if (!RUN_ID_RE.test(runId)) {
    throw new FaultlineError('usage', `run id ${runId} is not of the form fl-<yyyymmdd-hhmmss>-<6 hex>`);
  }
  const runsDir = join(opts.stateDir ?? stateRoot(), 'runs');
  try {
    mkdirSync(runsDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new FaultlineError('environment', `cannot create the state dir ${runsDir}: ${errorMessage(e)}`, {
      cause: e,
      hint: 'set FAULTLINE_STATE_DIR to a writable directory',
    });
  }
  const root = realpathSync(runsDir);
  const dir = join(root, runId);
  const staging = join(root, STAGING_PREFIX + runId);
  const ledger: LedgerFile = { version: 1, runId, owner: currentOwner(), createdAt: new Date().toISOString(), resources: [] };
  try {
    mkdirSync(staging, { mode: 0o700 });
    writeLedger(staging, ledger);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    if (e instanceof FaultlineError) throw e;
    throw new FaultlineError('environment', `cannot create the run's dir in ${root}: ${errorMessage(e)}`, { cause: e, hint: 'set FAULTLINE_STATE_DIR to a writable directory' });
  }
  try {
    if (existsSync(dir)) throw new Error(`${dir} exists`);
    renameSync(staging, dir);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw new FaultlineError('usage', `run ${runId} already exists in ${root}`, { cause: e });
  }
  let seq = 0;
  let releasing: Promise<void> | undefined;
  const run: Run = {
    runId,
    workDir: dir,
    cellDir: (cellId) => join(dir, 'cells', cellDirName(cellId)),
    record(resource) {
      const id = `r${++seq}`;
      ledger.resources.push({ ...resource, id, recordedAt: new Date().toISOString() } as LedgerEntry);
      writeLedger(dir, ledger);
      return id;
    },
    update(id, patch) {
      const i = ledger.resources.findIndex((r) => r.id === id);
      if (i < 0) throw new FaultlineError('internal', `ledger of ${runId} has no resource ${id}`);
      ledger.resources[i] = { ...ledger.resources[i]!, ...patch } as LedgerEntry;
      writeLedger(dir, ledger);
    },
    resources: () => ledger.resources,
    release(reapers) {
      // One release at a time: a hard stop and the normal end may both ask.
      releasing ??= (async () => {
        if (active.get(runId) !== run) return;
        try {
          await reapRun(ledger, dir, reapers);
        } catch (e) {
          // Processes that would not die, mounts that would not go: the machine's, for gc to retry.
          throw new FaultlineError('environment', `cleaning up run ${runId} failed: ${errorMessage(e)}`, { cause: e, hint: "run 'faultline gc' to retry" });
        }
        active.delete(runId);
      })();
      return releasing;
    },
  };
  active.set(runId, run);
  return run;
}

/**
 * A hard stop (a second Ctrl-C): every run this process still owns is released now, whatever its
 * cells are doing: its nodes are killed and its dir removed.
 */
export async function releaseActiveRuns(reapers: readonly RunReaper[]): Promise<void> {
  const results = await Promise.allSettled([...active.values()].map((r) => r.release(reapers)));
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [errorMessage(r.reason)] : []));
  if (failed.length) throw new Error(failed.join('; '));
}

/** Why a run is live, or undefined when its owner is gone. */
function liveReason(ledger: LedgerFile): string | undefined {
  const { owner } = ledger;
  if (active.has(ledger.runId)) return 'owned by this process';
  if (owner.host !== hostname()) return `created on host ${owner.host}; run gc there`;
  if (owner.bootId !== readBootId()) return undefined; // the machine rebooted since
  if (isSameProcessAlive(owner)) return `owner pid ${owner.pid} is still running`;
  return undefined;
}

/** Asks every reaper, unmounts what the host sees below the run's dir, removes the dir. */
async function reapRun(ledger: LedgerFile, dir: string, reapers: readonly RunReaper[]): Promise<void> {
  const sameBoot = ledger.owner.bootId === readBootId();
  for (const r of reapers) await r.reap(ledger, { sameBoot });
  await unmountBelow(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** Lazily unmounts every mount our mount namespace has at or below `dir`, deepest first. */
async function unmountBelow(dir: string): Promise<void> {
  const below = () =>
    readMountinfo('self')
      .split('\n')
      .map((line) => unescapeMountPath(line.split(' ')[4] ?? ''))
      .filter((mp) => mp === dir || mp.startsWith(dir + '/'))
      .sort((a, b) => b.length - a.length);
  for (const mp of below()) {
    const r = await execa('umount', ['-l', mp], { reject: false });
    if (r.exitCode !== 0) throw new Error(`cannot unmount ${mp}: ${r.stderr.trim()}`);
  }
  const left = below();
  if (left.length) throw new Error(`mounts remain below ${dir}: ${left.join(', ')}`);
}

function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * Removes every run whose owner process is dead: each reaper removes what the run left in its
 * backend (processes, containers...), then its dir goes. Never touches a live run.
 */
export interface GcOptions {
  dryRun?: boolean;
  stateDir?: string;
  /**
   * Reap this process's own runs too: for a test's teardown, where a run still registered here was
   * abandoned (its test timed out) and the process is about to end without its cleanup.
   */
  includeOwnRuns?: boolean;
}

export async function gcRuns(reapers: readonly RunReaper[], opts: GcOptions = {}): Promise<GcResult> {
  const result: GcResult = { removed: [], skippedLive: [], reasons: {}, failed: [] };
  const runsDir = join(opts.stateDir ?? stateRoot(), 'runs');
  let names: string[];
  try {
    names = readdirSync(runsDir).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return result;
    throw new FaultlineError('environment', `cannot read ${runsDir}: ${errorMessage(e)}`, { cause: e });
  }
  for (const name of names) {
    const runId = name.startsWith(STAGING_PREFIX) ? name.slice(STAGING_PREFIX.length) : name;
    if (!RUN_ID_RE.test(runId)) continue; // not ours: never touch
    const dir = join(runsDir, name);
    let ledger: LedgerFile;
    try {
      if (!statSync(dir).isDirectory()) continue;
      ledger = readLedger(dir);
      if (ledger.runId !== runId) throw new Error(`${join(dir, LEDGER_FILE)} names run ${ledger.runId}`);
    } catch (e) {
      result.failed.push({ runId: name, error: `no readable ledger, left alone: ${errorMessage(e)}` });
      continue;
    }
    const reason = opts.includeOwnRuns && ledger.owner.pid === process.pid ? undefined : liveReason(ledger);
    if (reason !== undefined) {
      result.skippedLive.push(name);
      result.reasons[name] = reason;
      continue;
    }
    if (!opts.dryRun) {
      try {
        await reapRun(ledger, dir, reapers);
      } catch (e) {
        result.failed.push({ runId: name, error: errorMessage(e) });
        continue;
      }
    }
    result.removed.push(name);
  }
  return result;
}
