// The report directory is proven writable before any cell runs: its missing parents are made one at a
// time (node's recursive mkdir loops for ever below /proc), then a probe file is written, synced and
// removed. Whatever fails is refused naming the directory, and the directories made are removed again.
import { mkdir, open, rmdir, stat, statfs, unlink } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { FaultlineError } from '../errors.ts';
import { kernelFilesystem } from '../util/kernel-fs.ts';

/** Bytes the probe writes: a report that cannot write this much could not write a report. */
export const PROBE_BYTES = 64 * 1024;

const REASONS: Record<string, string> = {
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'not a directory',
  EEXIST: 'exists and is not a directory',
  EIO: 'input/output error',
};

/** "ENOSPC (no space left on device)", or the message of an error without a code. */
export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string') return REASONS[code] ? `${code} (${REASONS[code]})` : code;
  return e instanceof Error ? e.message : String(e);
}

function typeOf(st: Awaited<ReturnType<typeof stat>>): string {
  if (st.isFile()) return 'a file';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  return 'not a directory';
}

/**
 * Makes `dir` (and its missing parents) and proves a report can be written there. `what` names it in
 * messages (e.g. "--out /x"). Throws a usage error, having removed every directory it made; else
 * returns what removes them again (while empty), for a run that fails to start.
 */
export async function prepareOutDir(dir: string, what: string): Promise<() => Promise<void>> {
  const refuse = (message: string) => new FaultlineError('usage', `${what}: ${message}`, { hint: 'give --out a writable directory on a real filesystem' });
  if (dir === '') throw refuse('expected a directory path, found an empty string');
  const target = path.resolve(dir);

  // The nearest existing ancestor, and the directories to make below it (outermost first).
  const missing: string[] = [];
  let existing = target;
  for (;;) {
    try {
      const st = await stat(existing);
      if (!st.isDirectory()) throw refuse(existing === target ? `${target} is ${typeOf(st)}, not a directory` : `${target} is below ${existing}, which is ${typeOf(st)}, not a directory`);
      break;
    } catch (e) {
      if (e instanceof FaultlineError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || existing === path.dirname(existing)) throw refuse(`cannot look at ${existing}: ${describeFsError(e)}`);
      missing.unshift(existing);
      existing = path.dirname(existing);
    }
  }
  const fs = kernelFilesystem((await statfs(existing)).type);
  if (fs) throw refuse(`${existing} is on ${fs}, a filesystem the kernel makes up: reports cannot be written there`);

  const made: string[] = [];
  const undo = async () => {
    for (const d of made.reverse()) await rmdir(d).catch(() => undefined);
  };
  // Unique per call: runs of one process (the API, vitest tests) may share a report directory.
  const probe = path.join(target, `.faultline-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    for (const d of missing) {
      try {
        await mkdir(d);
      } catch (e) {
        throw refuse(`cannot create ${d}: ${describeFsError(e)}`);
      }
      made.push(d);
    }
    let fh;
    try {
      fh = await open(probe, 'wx');
      await fh.writeFile(Buffer.alloc(PROBE_BYTES)); // writes it all, or fails (write() may stop short)
      await fh.sync();
    } catch (e) {
      throw refuse(`cannot write a file in ${target}: ${describeFsError(e)}`);
    } finally {
      await fh?.close().catch(() => undefined);
      await unlink(probe).catch(() => undefined);
    }
  } catch (e) {
    await undo();
    throw e;
  }
  return undo;
}

/**
 * Makes `dir` and its missing parents without node's recursive mkdir (which loops for ever below
 * /proc); an existing directory is fine.
 */
export async function makeDirs(dir: string): Promise<void> {
  const target = path.resolve(dir);
  const missing: string[] = [];
  for (let d = target; ; d = path.dirname(d)) {
    try {
      if ((await stat(d)).isDirectory()) break;
      throw Object.assign(new Error(`${d} is not a directory`), { code: 'ENOTDIR', path: d });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || d === path.dirname(d)) throw e;
      missing.unshift(d);
    }
  }
  for (const d of missing) {
    await mkdir(d).catch((e) => {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    });
  }
}
