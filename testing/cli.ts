// Helpers for tests that drive the real CLI and check the machine afterwards.
import { execa, type ResultPromise } from 'execa';
import { mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { eventually, pidAlive } from './host.ts';
import { findProcesses, mountinfoHasSource } from '../harness/util/procfs.ts';
import { runMountTagPrefix } from '../harness/backends/local/reaper.ts';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../harness/version.ts';

export const BIN = path.join(REPO_ROOT, 'bin/faultline.js');

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs `faultline ...args` with its own state dir; never rejects. */
export function faultline(args: string[], env: Record<string, string> = {}): ResultPromise<{ reject: false; all: true }> {
  return execa('node', [BIN, ...args], { reject: false, all: true, env: { ...env, NO_COLOR: '1' }, cwd: REPO_ROOT });
}


/** Processes whose command line mentions `text` (a holder still setting up names its node dir). */
export async function processesMentioning(text: string): Promise<string[]> {
  const out: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const c = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      if (c.includes(text) && !c.includes('vitest')) out.push(`${pid} ${c.slice(0, 200)}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

export async function waitFor(probe: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  if (!(await eventually(probe, timeoutMs))) throw new Error(`timed out waiting for ${what}`);
}

/** Node holders a faultline process started: its children living in another mount namespace. */
export async function holdersOf(parentPid: number): Promise<number[]> {
  const ownMnt = await readlink('/proc/self/ns/mnt');
  const out: number[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parentPid) continue;
      if ((await readlink(`/proc/${pid}/ns/mnt`)) !== ownMnt) out.push(Number(pid));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Alive and not a zombie. */
export const alive = pidAlive;

/**
 * Every process that still sees a mount of this run's nodes (holders, exec agents, plugins, anything
 * inside a node): what `faultline gc` would kill.
 */
export function processesOfRun(runId: string): number[] {
  const prefix = runMountTagPrefix(runId);
  return findProcesses((p) => mountinfoHasSource(p.foreignMountinfo(), { prefix })).map((id) => id.pid);
}

/** What a refused command printed and left behind. */
export interface Refusal {
  exitCode: number | undefined;
  output: string;
  /** Entries of the state dir's runs/ after the command (a run that started leaves or removes one). */
  runs: string[];
  /** Whether the state dir's runs/ exists at all: a run that started creates it. */
  runsDirCreated: boolean;
}

/**
 * Runs `faultline ...args` with a fresh state dir of its own (removed after) and reports what it left
 * there. For commands that must refuse before any run starts: the state dir stays untouched.
 */
export async function refusal(args: string[], env: Record<string, string> = {}): Promise<Refusal> {
  const state = await tempDir('fl-refusal-state-');
  try {
    // The timeout only ends a hang (the test then fails on the exit code); it measures nothing.
    const r = await execa('node', [BIN, ...args], { reject: false, all: true, env: { ...env, FAULTLINE_STATE_DIR: state.dir, NO_COLOR: '1' }, cwd: REPO_ROOT, timeout: 60_000 });
    const runsDir = path.join(state.dir, 'runs');
    const runs = await readdir(runsDir).catch(() => undefined);
    return { exitCode: r.exitCode, output: r.all ?? '', runs: runs ?? [], runsDirCreated: runs !== undefined };
  } finally {
    await state.cleanup();
  }
}

/** A refusal's output has no stack trace and no internal error. */
export function looksClean(output: string): boolean {
  return !/^\s+at /m.test(output) && !output.includes('internal error');
}
