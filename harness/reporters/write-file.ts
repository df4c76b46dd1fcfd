// File reporters write through a temporary file and a rename, so a reader never sees half a document.
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FaultlineError } from '../errors.ts';
import { describeFsError, makeDirs } from './out-dir.ts';

/** Writes `content` to `<dir>/<name>` atomically, creating `dir`; returns the path written. */
export async function writeReportFile(dir: string, name: string, content: string): Promise<string> {
  const target = path.join(dir, name);
  const tmp = `${target}.${process.pid}.${Date.now().toString(36)}.tmp`;
  try {
    await makeDirs(dir);
    await writeFile(tmp, content, 'utf8');
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    // The machine failed (disk full, read-only, removed meanwhile): an environment error naming
    // the file, never a crash.
    throw new FaultlineError('environment', `cannot write the report ${target}: ${describeFsError(err)}`, { cause: err });
  }
  return target;
}

/** The directory a file reporter writes to: its own option, else the run's outDir. */
export function resolveOutDir(option: string | undefined, report: { outDir: string }): string {
  const dir = option ?? report.outDir;
  if (!dir) throw new FaultlineError('internal', 'Expected the report to have an `outDir` (or the reporter an `outDir` option), got none');
  return dir;
}
