// Static checks and pure helpers of the file faults (no namespaces).
import { describe, expect, it } from 'vitest';
import { checkFileTarget } from './node-files.ts';
import { corruptBytes } from './corrupt-file.ts';
import { describeGc } from './gc.ts';
import { encodeCacheFile } from '../runtime/libcni/cache.ts';
import type { GcReport } from '../runtime/libcni/cni-runtime.ts';

describe('checkFileTarget', () => {
  it.each([
    [{ node: 'node-1', path: '/var/lib/cni/results/x' }, undefined],
    [{ node: 'node-2', glob: '/var/lib/cni/results/lab-net-*' }, undefined],
    [{ node: 'node-1', cacheOf: 'victim-n1-0' }, undefined],
    [{ node: 'node-1' }, "give exactly one of 'path' (a file), 'glob' (a pattern) or 'cacheOf' (a pod)"],
    [{ node: 'node-1', path: '/var/lib/cni/x', glob: '/var/lib/cni/*' }, "give exactly one of 'path' (a file), 'glob' (a pattern) or 'cacheOf' (a pod), found path and glob"],
  ])('%j -> %s', (p, want) => {
    expect(checkFileTarget(p)).toBe(want);
  });
});

describe('corruptBytes', () => {
  const cache = Buffer.from(encodeCacheFile({ containerId: 'c1', config: '{"cniVersion":"1.0.0","name":"n","plugins":[]}', ifName: 'eth0', networkName: 'n', result: { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }] } }));
  const parses = (b: Buffer) => {
    try {
      JSON.parse(b.toString('utf8'));
      return true;
    } catch {
      return false;
    }
  };

  it('partial-json keeps the first half of the content, which does not parse', () => {
    const out = corruptBytes(cache, 'partial-json', 1, 'x');
    expect(out.length).toBe(Math.floor(cache.length / 2));
    expect(cache.subarray(0, out.length).equals(out)).toBe(true);
    expect(parses(out)).toBe(false);
  });

  it.each([[''], ['1234'], ['"ab"'], ['  ']])('partial-json of %j is still never valid JSON', (text) => {
    expect(parses(corruptBytes(Buffer.from(text), 'partial-json', 1, 'x'))).toBe(false);
  });

  it('garbage is seeded: same seed and file, same bytes; never JSON', () => {
    const a = corruptBytes(cache, 'garbage', 42, 'node-1:/f');
    expect(a.equals(corruptBytes(cache, 'garbage', 42, 'node-1:/f'))).toBe(true);
    expect(a.equals(corruptBytes(cache, 'garbage', 43, 'node-1:/f'))).toBe(false);
    expect(a.length).toBe(Math.min(cache.length, 256));
    expect(a[0]).toBe(0xff);
    expect(parses(a)).toBe(false);
    expect(corruptBytes(Buffer.alloc(0), 'garbage', 1, 'x').length).toBe(16);
  });
});

describe('describeGc', () => {
  const base: GcReport = { network: 'net', cniVersion: '1.1.0', deleted: [], deleteFailed: [], kept: [], skipped: [], gc: [], errors: [], ok: true };
  it('says what GC did, verdict first', () => {
    const r: GcReport = {
      ...base,
      kept: [{ containerId: 'a', ifName: 'eth0', file: 'f' }],
      skipped: [{ file: '/f1', state: 'empty', reason: 'x', removed: false }, { file: '/f2', state: 'corrupt', reason: 'y', removed: false }],
      gc: [{ plugin: 'bridge', pluginPath: '/opt/cni/bin/bridge', ok: true }],
    };
    expect(describeGc('node-1', r, 5, 5)).toBe('node-1/net (cniVersion 1.1.0): GC succeeded; 0 stale cached attachment(s) DELed; 1 valid attachment(s) kept; 2 unparsable cache file(s) skipped (1 empty, 1 corrupt; left in place); GC sent to bridge (exit 0); host-local reservations 5 before, 5 after (released 0)');
  });
  it('names failures', () => {
    const r: GcReport = { ...base, ok: false, errors: ['failed to GC plugin bridge: boom'], gc: [{ plugin: 'bridge', pluginPath: 'p', ok: false, code: 7, error: 'plugin bridge GC failed (code 7): boom' }], gcNotSent: undefined };
    expect(describeGc('node-2', r, 3, 1)).toBe('node-2/net (cniVersion 1.1.0): GC failed: failed to GC plugin bridge: boom; 0 stale cached attachment(s) DELed; 0 valid attachment(s) kept; GC sent to bridge (failed: plugin bridge GC failed (code 7): boom); host-local reservations 3 before, 1 after (released 2)');
  });
});
