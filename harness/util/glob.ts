// The glob dialect of node paths: `*` and `?` within one path segment; a leading dot is matched only
// by a pattern segment that starts with a dot (as a shell does).

/** Whether one path segment matches one pattern segment. */
export function matchSegment(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === name;
  if (name.startsWith('.') && !pattern.startsWith('.')) return false;
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(name);
}

/** The segments of an absolute path ('/a/b' -> ['a', 'b']). */
export function segmentsOf(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/**
 * Whether a pattern may name something strictly below `dir` (its leading segments can match dir's
 * and it has more): `/run/*` / `x` does, `/run/*` alone does not reach below `/run/netns`.
 */
export function mayReachBelow(pattern: string, dir: string): boolean {
  const ps = segmentsOf(pattern);
  const ds = segmentsOf(dir);
  return ps.length > ds.length && ds.every((d, i) => matchSegment(ps[i]!, d));
}
