import { describe, expect, it } from 'vitest';
import { findFirstDifferent, maxProbes } from './search.ts';

/** A behaviour that changes at `change` (count: never), probed through a counter. */
function fake(change: number) {
  const calls: number[] = [];
  const probe = async (i: number) => {
    calls.push(i);
    return i < change ? 'old' : 'new';
  };
  return { calls, probe };
}

describe('findFirstDifferent', () => {
  it('finds the change at every position of 16 values in at most 5 probes, both neighbours probed', async () => {
    expect(maxProbes(16)).toBe(5);
    for (let change = 1; change <= 16; change++) {
      const f = fake(change);
      const r = await findFirstDifferent(16, f.probe, (x) => x);
      expect(f.calls.length, `change at ${change}`).toBeLessThanOrEqual(5);
      expect(new Set(f.calls).size).toBe(f.calls.length);
      expect(f.calls[0]).toBe(0);
      if (change === 16) {
        expect(r.firstDifferent).toBeUndefined();
        expect(r.lastSame.index).toBe(15); // the last value itself was probed: nothing changed
      } else {
        expect(r.firstDifferent).toEqual({ index: change, result: 'new' });
        expect(r.lastSame).toEqual({ index: change - 1, result: 'old' });
      }
      expect(r.probes.map((p) => p.index)).toEqual(f.calls);
    }
  });

  it('stays within 1 + ceil(log2(n)) probes for every list length and change', async () => {
    for (let n = 2; n <= 40; n++) {
      for (let change = 1; change <= n; change++) {
        const f = fake(change);
        const r = await findFirstDifferent(n, f.probe, (x) => x);
        expect(f.calls.length).toBeLessThanOrEqual(maxProbes(n));
        expect(r.firstDifferent?.index).toBe(change < n ? change : undefined);
      }
    }
  });

  it('compares against the first value, whatever it is', async () => {
    const keys = ['error', 'error', 'error', 'pass', 'pass'];
    const r = await findFirstDifferent(keys.length, async (i) => keys[i]!, (x) => x);
    expect(r.base.result).toBe('error');
    expect(r.firstDifferent?.index).toBe(3);
  });

  it('finds a change, not necessarily the first, when the behaviour flips back (the monotone assumption)', async () => {
    const keys = ['a', 'b', 'a', 'a', 'a', 'a', 'a', 'c'];
    const r = await findFirstDifferent(keys.length, async (i) => keys[i]!, (x) => x);
    expect(r.firstDifferent?.index).toBe(7);
  });

  it('refuses fewer than two values and passes a probe failure on', async () => {
    await expect(findFirstDifferent(1, async () => 'x', (x) => x)).rejects.toThrow(/at least two values/);
    await expect(findFirstDifferent(4, async (i) => { if (i > 0) throw new Error('build failed'); return 'x'; }, (x) => x)).rejects.toThrow('build failed');
  });
});
