import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheFilePath, decodeCachedResult, encodeCacheFile, localCacheFs, parseCacheFile, readCacheEntries, writeCacheFile } from './cache.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'faultline-cache-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const conflist = '{"cniVersion":"1.0.0","name":"k8s-pod-network","plugins":[{"type":"bridge"}]}';

describe('cache file format', () => {
  it('is laid out as libcni does: results/<net>-<cid>-<if>', () => {
    expect(cacheFilePath('/var/lib/cni', 'k8s-pod-network', 'abc123', 'eth0')).toBe('/var/lib/cni/results/k8s-pod-network-abc123-eth0');
    expect(() => cacheFilePath('/var/lib/cni', 'net', '', 'eth0')).toThrow(/requires network name/);
  });

  it('writes the Go struct field order, base64 config, sorted maps and omits empty optional fields', () => {
    const text = encodeCacheFile({
      containerId: 'abc',
      config: conflist,
      ifName: 'eth0',
      networkName: 'k8s-pod-network',
      netns: '/run/netns/p1',
      cniArgs: [['IgnoreUnknown', '1'], ['K8S_POD_NAME', 'p1']],
      capabilityArgs: { portMappings: [{ hostPort: 80, containerPort: 8080, protocol: 'tcp' }] },
      result: { cniVersion: '1.0.0', ips: [{ address: '10.52.0.5/24', interface: 0 }], dns: {} },
    });
    const b64 = Buffer.from(conflist).toString('base64');
    expect(text).toBe(
      `{"kind":"cniCacheV1","containerId":"abc","config":"${b64}","ifName":"eth0","networkName":"k8s-pod-network","netns":"/run/netns/p1",` +
        `"cniArgs":[["IgnoreUnknown","1"],["K8S_POD_NAME","p1"]],"capabilityArgs":{"portMappings":[{"containerPort":8080,"hostPort":80,"protocol":"tcp"}]},` +
        `"result":{"cniVersion":"1.0.0","dns":{},"ips":[{"address":"10.52.0.5/24","interface":0}]}}`,
    );
    const minimal = JSON.parse(encodeCacheFile({ containerId: 'abc', config: conflist, ifName: 'eth0', networkName: 'n', cniArgs: [], capabilityArgs: {} }));
    expect(Object.keys(minimal)).toEqual(['kind', 'containerId', 'config', 'ifName', 'networkName']);
  });

  it('writes non-atomically: a crash between create and write leaves an empty 0600 file in a 0700 dir', async () => {
    const file = cacheFilePath(path.join(dir, 'cni'), 'net', 'c1', 'eth0');
    await expect(
      writeCacheFile(localCacheFs(), file, '{"kind":"cniCacheV1"}', {
        duringCacheWrite: () => {
          throw new Error('power cut');
        },
      }),
    ).rejects.toThrow('power cut');
    const st = await stat(file);
    expect(st.size).toBe(0);
    expect(st.mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    await writeCacheFile(localCacheFs(), file, '{"kind":"cniCacheV1"}');
    expect(await readFile(file, 'utf8')).toBe('{"kind":"cniCacheV1"}');
  });
});

describe('reading cache entries', () => {
  it('classifies valid, empty and corrupt files, sorted by name', async () => {
    const results = path.join(dir, 'results');
    await mkdir(results, { recursive: true });
    await writeFile(path.join(results, 'net-b-eth0'), encodeCacheFile({ containerId: 'b', config: conflist, ifName: 'eth0', networkName: 'net' }));
    await writeFile(path.join(results, 'net-a-eth0'), '');
    await writeFile(path.join(results, 'net-c-eth0'), '{"kind":"cniCacheV1","containerId":"c"');
    await writeFile(path.join(results, 'net-d-eth0'), '{"cniVersion":"0.4.0"}');
    const entries = await readCacheEntries(localCacheFs(), dir);
    expect(entries).toEqual([
      { file: path.join(results, 'net-a-eth0'), state: 'empty', error: 'unexpected end of JSON input' },
      { file: path.join(results, 'net-b-eth0'), state: 'valid', containerId: 'b', ifName: 'eth0', networkName: 'net' },
      { file: path.join(results, 'net-c-eth0'), state: 'corrupt', error: 'unexpected end of JSON input' },
      { file: path.join(results, 'net-d-eth0'), state: 'corrupt', error: 'kind is null, not "cniCacheV1"' },
    ]);
  });

  it('gives [] without a results directory', async () => {
    expect(await readCacheEntries(localCacheFs(), path.join(dir, 'nothing'))).toEqual([]);
  });

  it('needs ifName and networkName for a valid entry', () => {
    expect(parseCacheFile('f', Buffer.from('{"kind":"cniCacheV1","containerId":"x"}')).state).toBe('corrupt');
  });
});

describe("libcni's cached result decoding", () => {
  it('gives libcni 1.1 error texts for an empty or garbage file', () => {
    expect(decodeCachedResult(Buffer.alloc(0), '1.0.0')).toEqual({ error: 'decoding version from network config: unexpected end of JSON input' });
    expect(decodeCachedResult(Buffer.from('xyz'), '1.0.0')).toEqual({ error: "decoding version from network config: invalid character 'x' looking for beginning of value" });
  });

  it('returns the cached result converted to the config version', () => {
    const text = encodeCacheFile({ containerId: 'b', config: conflist, ifName: 'eth0', networkName: 'net', result: { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }] } });
    expect(decodeCachedResult(Buffer.from(text), '0.4.0')).toEqual({ result: { cniVersion: '0.4.0', ips: [{ version: '4', address: '10.0.0.2/24' }] } });
  });

  it('reads a pre-cniCacheV1 file as a bare result', () => {
    expect(decodeCachedResult(Buffer.from('{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.1.2.3/24"}],"dns":{}}'), '1.0.0')).toEqual({
      result: { cniVersion: '1.0.0', ips: [{ address: '10.1.2.3/24' }], dns: {} },
    });
  });
});
