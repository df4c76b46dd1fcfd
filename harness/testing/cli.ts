// Helpers for tests that drive the real CLI and check the machine afterwards.
import { execa, type ResultPromise } from 'execa';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../version.ts';

export const BIN = path.join(REPO_ROOT, 'bin/faultline.js');

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs `faultline ...args` with its own state dir; never rejects. */
export function faultline(args: string[], env: Record<string, string> = {}): ResultPromise<{ reject: false; all: true }> {
  return execa('node', [BIN, ...args], { reject: false, all: true, env: { ...env, NO_COLOR: '1' }, cwd: REPO_ROOT });
}

/** What the host looks like from the outside: its CNI dirs and netns list. Tests compare before/after. */
export async function hostState(): Promise<string> {
  const parts: string[] = [];
  for (const d of ['/var/lib/cni', '/etc/cni', '/opt/cni']) {
    parts.push(`${d}: ${existsSync(d) ? (await readdir(d, { recursive: true })).sort().join(',') : 'absent'}`);
  }
  const ns = await execa('ip', ['netns', 'list'], { reject: false });
  parts.push(`netns: ${ns.stdout.trim()}`);
  return parts.join('\n');
}

/** Processes whose command line mentions this run's state dir (node holders of that run). */
export async function processesMentioning(text: string): Promise<string[]> {
  const out: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const cmd = (await import('node:fs/promises')).readFile(`/proc/${pid}/cmdline`, 'utf8');
      const c = (await cmd).replaceAll('\0', ' ');
      if (c.includes(text) && !c.includes('vitest')) out.push(`${pid} ${c.slice(0, 200)}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

export function waitFor(probe: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      if (await probe()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 100);
    };
    void tick();
  });
}

/** Node holders a faultline process started: its children living in another mount namespace. */
export async function holdersOf(parentPid: number): Promise<number[]> {
  const fs = await import('node:fs/promises');
  const ownMnt = await fs.readlink('/proc/self/ns/mnt');
  const out: number[] = [];
  for (const pid of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parentPid) continue;
      if ((await fs.readlink(`/proc/${pid}/ns/mnt`)) !== ownMnt) out.push(Number(pid));
    } catch {
      /* gone */
    }
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
