// The upstream versions between two refs, for `faultline bisect --between`: the tags the Go module
// proxy lists, plus the versions known to download though a proxy's list left them out (the two refs,
// the scenario's own values, builds already in the cache), ordered by semantic version. A proxy's
// list can be incomplete (a mirror lists what it has been asked for): the result says which versions
// came from where, so a missing tag can be named with --values.
import semver from 'semver';
import { FaultlineError } from '../errors.ts';

export interface VersionRange {
  /** Ordered, oldest first, both refs included. */
  versions: string[];
  /** What the proxy listed inside the range. */
  listed: string[];
  /** Inside the range but not in the proxy's list (refs, scenario values, cached builds). */
  unlisted: string[];
  /** Why the proxy's list could not be read, if it could not. */
  listError?: string;
}

/** A Go module version as semver sees it (v1.5.1 -> 1.5.1); undefined for anything else. */
function parse(v: string): semver.SemVer | undefined {
  return /^v\d+\.\d+\.\d+/.test(v) ? (semver.parse(v.slice(1).replace(/\+incompatible$/, '')) ?? undefined) : undefined;
}

/**
 * Versions from `from` to `to` (both included, tags like v1.0.0), from the proxy's list and the
 * known extras. Pre-releases are left out unless a ref is one.
 */
export function versionsBetween(from: string, to: string, listed: { versions: string[]; error?: string }, known: readonly string[] = []): VersionRange {
  const a = parse(from);
  const b = parse(to);
  if (!a) throw new FaultlineError('usage', `--between ${from}: expected a version tag like v1.0.0`);
  if (!b) throw new FaultlineError('usage', `--between ${to}: expected a version tag like v1.9.1`);
  if (semver.gte(a, b)) throw new FaultlineError('usage', `--between ${from} ${to}: the first ref must be older than the second`);
  const pre = a.prerelease.length > 0 || b.prerelease.length > 0;
  const inRange = (v: string) => {
    const p = parse(v);
    return !!p && semver.gte(p, a) && semver.lte(p, b) && (pre || p.prerelease.length === 0 || v === from || v === to);
  };
  const fromList = [...new Set(listed.versions.filter(inRange))];
  const extra = [...new Set([from, to, ...known].filter((v) => inRange(v) && !fromList.includes(v)))];
  const versions = [...fromList, ...extra].sort((x, y) => semver.compare(parse(x)!, parse(y)!));
  return { versions, listed: fromList, unlisted: extra.sort((x, y) => semver.compare(parse(x)!, parse(y)!)), ...(listed.error ? { listError: listed.error } : {}) };
}
