// Helpers for the local backend's real-namespace tests.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { type ProcessIdentity, readBootId, readStartTime } from '../harness/util/procfs.ts';
import type { LedgerEntry, LedgerFile, RunOwner } from '../harness/ledger/ledger.ts';

/** The host paths the safety rules protect, and the host's named netns. */
export const HOST_CNI_DIRS = ['/var/lib/cni', '/etc/cni', '/opt/cni'] as const;

/** A listing (path, type, size, mtime) of the host's CNI dirs and `ip netns list`, to compare before/after. */
export async function hostSnapshot(): Promise<{ dirs: Record<string, string[] | 'absent'>; netns: string }> {
  const dirs: Record<string, string[] | 'absent'> = {};
  for (const d of HOST_CNI_DIRS) dirs[d] = await listTree(d);
  const netns = (await execa('ip', ['netns', 'list'])).stdout;
  return { dirs, netns };
}

async function listTree(dir: string): Promise<string[] | 'absent'> {
  try {
    await stat(dir);
  } catch {
    return 'absent';
  }
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const s = await stat(p).catch(() => undefined);
      out.push(`${p} ${e.isDirectory() ? 'd' : 'f'} ${s?.size ?? '?'} ${s?.mtimeMs ?? '?'}`);
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out.sort();
}

/** A temp state dir set as FAULTLINE_STATE_DIR; returns it and a restore function. */
export async function useTempStateDir(): Promise<{ dir: string; restore: () => Promise<void> }> {
  const previous = process.env.FAULTLINE_STATE_DIR;
  const dir = await mkdtemp(join(tmpdir(), 'faultline-state-'));
  process.env.FAULTLINE_STATE_DIR = dir;
  return {
    dir,
    restore: async () => {
      if (previous === undefined) delete process.env.FAULTLINE_STATE_DIR;
      else process.env.FAULTLINE_STATE_DIR = previous;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A plugin dir with one fake plugin that prints its name. */
export async function fakePluginDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-plugins-'));
  await writeFile(join(dir, 'fake-plugin'), '#!/bin/sh\necho fake-plugin "$CNI_COMMAND"\n');
  await chmod(join(dir, 'fake-plugin'), 0o755);
  return dir;
}

/** Polls until `probe` returns true; false on timeout. */
export async function eventually(probe: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return probe();
}

/** True while a process with that pid exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !/\) [ZX] /.test(readStatSafe(pid));
}

function readStatSafe(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
}

/** A child process (sleep) with its identity; stop() kills and reaps it. */
export async function sleeper(): Promise<{ id: ProcessIdentity; stop: () => Promise<void> }> {
  const child = execa('sleep', ['600'], { reject: false });
  const pid = child.pid!;
  let startTime: number | undefined;
  await eventually(() => (startTime = readStartTime(pid)) !== undefined);
  return {
    id: { pid, startTime: startTime! },
    stop: async () => {
      child.kill('SIGKILL');
      await child;
    },
  };
}

/** The identity of a process that has exited. */
export async function deadProcess(): Promise<ProcessIdentity> {
  const s = await sleeper();
  await s.stop();
  return s.id;
}

/** Writes runs/<id>/ledger.json as another faultline process would have. */
export async function writeFakeRun(
  stateDir: string,
  runId: string,
  owner: Partial<RunOwner> & ProcessIdentity,
  resources: LedgerEntry[] = [],
  dirName = runId,
): Promise<string> {
  const dir = join(stateDir, 'runs', dirName);
  await mkdir(join(dir, 'cells', 'c'), { recursive: true });
  const ledger: LedgerFile = {
    version: 1,
    runId,
    owner: { host: hostname(), bootId: readBootId(), ...owner },
    createdAt: new Date().toISOString(),
    resources,
  };
  await writeFile(join(dir, 'ledger.json'), JSON.stringify(ledger));
  await writeFile(join(dir, 'cells', 'c', 'state'), 'x');
  return dir;
}
