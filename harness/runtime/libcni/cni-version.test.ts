import { describe, expect, it } from 'vitest';
import { cniVersionAtLeast, compareCniVersions, highestCniVersion, parseCniVersion } from './cni-version.ts';

describe('CNI version comparison', () => {
  it('orders the spec versions numerically', () => {
    const sorted = ['1.1.0', '0.3.1', '1.0.0', '0.4.0', '0.10.0', '0.3.0'].sort(compareCniVersions);
    expect(sorted).toEqual(['0.3.0', '0.3.1', '0.4.0', '0.10.0', '1.0.0', '1.1.0']);
  });

  it('answers >= as libcni does', () => {
    expect(cniVersionAtLeast('0.4.0', '0.4.0')).toBe(true);
    expect(cniVersionAtLeast('1.0.0', '0.4.0')).toBe(true);
    expect(cniVersionAtLeast('0.3.1', '0.4.0')).toBe(false);
    expect(cniVersionAtLeast('1.0.0', '1.1.0')).toBe(false);
  });

  it('rejects what is not a version', () => {
    expect(parseCniVersion('1.0')).toEqual([1, 0, 0]);
    expect(parseCniVersion('v1.0.0')).toBeUndefined();
    expect(() => compareCniVersions('latest', '1.0.0')).toThrow(/invalid CNI version "latest"/);
  });

  it('finds the highest of a list', () => {
    expect(highestCniVersion(['0.3.1', '1.0.0', 'junk', '0.4.0'])).toBe('1.0.0');
    expect(highestCniVersion([])).toBeUndefined();
  });
});
