// CNI spec versions ("0.3.1", "0.4.0", "1.0.0", "1.1.0") compared numerically, as libcni's
// version.GreaterThanOrEqualTo does.

export type VersionTriple = readonly [number, number, number];

/** Parses "x.y.z" (also "x.y" and "x"); undefined for anything else. */
export function parseCniVersion(v: string): VersionTriple | undefined {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(v.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

/** -1, 0 or 1. Throws on a version that is not "x.y.z". */
export function compareCniVersions(a: string, b: string): -1 | 0 | 1 {
  const pa = parseCniVersion(a);
  const pb = parseCniVersion(b);
  if (!pa) throw new Error(`invalid CNI version ${JSON.stringify(a)}`);
  if (!pb) throw new Error(`invalid CNI version ${JSON.stringify(b)}`);
  for (let i = 0; i < 3; i++) {
    if (pa[i]! < pb[i]!) return -1;
    if (pa[i]! > pb[i]!) return 1;
  }
  return 0;
}

/** a >= b. */
export function cniVersionAtLeast(a: string, b: string): boolean {
  return compareCniVersions(a, b) >= 0;
}

/** Highest version in the list (undefined when empty); ignores entries that do not parse. */
export function highestCniVersion(versions: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const v of versions) {
    if (!parseCniVersion(v)) continue;
    if (best === undefined || compareCniVersions(v, best) > 0) best = v;
  }
  return best;
}
