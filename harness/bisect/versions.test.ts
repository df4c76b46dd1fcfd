import { describe, expect, it } from 'vitest';
import { versionsBetween } from './versions.ts';

// What this machine's proxy lists for containernetworking/plugins (v1.0.0 and v1.5.1 download, unlisted).
const LISTED = ['v0.8.6', 'v0.9.1', 'v1.0.1', 'v1.2.0', 'v1.4.0', 'v1.6.2', 'v1.7.1', 'v1.9.0', 'v1.9.1', 'v1.10.0'];

describe('versionsBetween', () => {
  it('orders the listed versions and the known unlisted ones by semver, refs included, and says which were unlisted', () => {
    const r = versionsBetween('v1.0.0', 'v1.9.1', { versions: LISTED }, ['v1.5.1', 'v1.10.0', 'v0.9.0', 'banana']);
    expect(r.versions).toEqual(['v1.0.0', 'v1.0.1', 'v1.2.0', 'v1.4.0', 'v1.5.1', 'v1.6.2', 'v1.7.1', 'v1.9.0', 'v1.9.1']);
    expect(r.unlisted).toEqual(['v1.0.0', 'v1.5.1']);
    expect(r.listed).toEqual(['v1.0.1', 'v1.2.0', 'v1.4.0', 'v1.6.2', 'v1.7.1', 'v1.9.0', 'v1.9.1']);
  });

  it('sorts v1.10.0 after v1.9.1 and leaves pre-releases out unless a ref is one', () => {
    expect(versionsBetween('v1.9.0', 'v1.10.0', { versions: ['v1.10.0-rc.1', ...LISTED] }).versions).toEqual(['v1.9.0', 'v1.9.1', 'v1.10.0']);
    expect(versionsBetween('v1.10.0-rc.1', 'v1.10.0', { versions: ['v1.10.0-rc.1', 'v1.10.0-rc.2', ...LISTED] }).versions).toEqual(['v1.10.0-rc.1', 'v1.10.0-rc.2', 'v1.10.0']);
  });

  it('still works from the refs alone when the proxy has no list, and says why', () => {
    const r = versionsBetween('v4.0.2', 'v4.1.0', { versions: [], error: '403 Forbidden' });
    expect(r).toEqual({ versions: ['v4.0.2', 'v4.1.0'], listed: [], unlisted: ['v4.0.2', 'v4.1.0'], listError: '403 Forbidden' });
  });

  it('refuses refs that are not tags, or in the wrong order', () => {
    expect(() => versionsBetween('main', 'v1.9.1', { versions: LISTED })).toThrow('--between main: expected a version tag like v1.0.0');
    expect(() => versionsBetween('v1.9.1', 'v1.0.0', { versions: LISTED })).toThrow('the first ref must be older than the second');
  });
});
