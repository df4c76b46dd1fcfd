// The search of `faultline bisect`: the first value of an ordered list whose outcome differs from the
// first value's. It assumes the behaviour changes once along the list (monotone): everything before
// the change behaves as the first value, everything from it on does not. Then a binary search over
// the list with a virtual end past the last value finds the change, or that there is none, in
// 1 + ceil(log2(n)) probes (5 for 16 values); each answer's two neighbours have both been probed.
// A list that changes back and forth is not detected: the answer is then one change, not the first.

export interface Probed<T> {
  index: number;
  result: T;
}

export interface SearchResult<T> {
  /** Every probe in the order made. */
  probes: Probed<T>[];
  /** The first value's result: what "differs" is measured against. */
  base: Probed<T>;
  /** The last value found to behave as the first (the answer's lower neighbour). */
  lastSame: Probed<T>;
  /** The first value that differs, undefined when every probe matched the first (no change). */
  firstDifferent?: Probed<T>;
}

/**
 * Binary search for the first index whose `key` differs from index 0's. `probe` is called at most
 * once per index.
 */
export async function findFirstDifferent<T>(count: number, probe: (index: number) => Promise<T>, key: (result: T) => string): Promise<SearchResult<T>> {
  if (!Number.isInteger(count) || count < 2) throw new RangeError(`bisect needs at least two values, got ${count}`);
  const probes: Probed<T>[] = [];
  const done = new Map<number, Probed<T>>();
  const at = async (index: number): Promise<Probed<T>> => {
    const seen = done.get(index);
    if (seen) return seen;
    const p = { index, result: await probe(index) };
    done.set(index, p);
    probes.push(p);
    return p;
  };
  const base = await at(0);
  const baseKey = key(base.result);
  // Invariant: `lo` behaves as the first value; the first differing index is in (lo, hi], hi = count
  // meaning "none".
  let lo = base;
  let hi = count;
  let different: Probed<T> | undefined;
  while (hi - lo.index > 1) {
    const mid = await at(Math.floor((lo.index + hi) / 2));
    if (key(mid.result) === baseKey) lo = mid;
    else {
      hi = mid.index;
      different = mid;
    }
  }
  return { probes, base, lastSame: lo, ...(different && hi < count ? { firstDifferent: different } : {}) };
}

/** The most probes findFirstDifferent makes for `count` values. */
export function maxProbes(count: number): number {
  return 1 + Math.ceil(Math.log2(count));
}
