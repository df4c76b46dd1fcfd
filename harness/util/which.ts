// Finding a program the way a shell would, plus the sbin directories a non-root PATH often lacks.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const SBIN_DIRS = ['/usr/sbin', '/sbin'] as const;

/** The executable's path on PATH (then `extraDirs`), or undefined. */
export function findBinary(name: string, env: NodeJS.ProcessEnv = process.env, extraDirs: readonly string[] = SBIN_DIRS): string | undefined {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const extra of extraDirs) if (!dirs.includes(extra)) dirs.push(extra);
  for (const d of dirs) {
    const p = join(d, name);
    try {
      if (statSync(p).isFile()) {
        accessSync(p, constants.X_OK);
        return p;
      }
    } catch {
      /* not here */
    }
  }
  return undefined;
}
