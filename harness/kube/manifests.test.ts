// Pinned upstream files against a loopback HTTP server: verified, cached by digest, a checksum
// mismatch refused with nothing cached, a file changed in the cache fetched again.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../testing/cli.ts';
import { fetchPinned, manifestCacheDir, replaceImages } from './manifests.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const bodies = new Map<string, string>();
const hits = new Map<string, number>();
let server: Server;
let base = '';
let work: { dir: string; cleanup: () => Promise<void> };
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  work = await tempDir('faultline-pin-test-');
  env = { FAULTLINE_COMPONENTS_DIR: work.dir };
  server = createServer((req, res) => {
    hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
    const b = bodies.get(req.url!);
    if (b === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/yaml' }).end(b);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await work.cleanup();
});

describe('pinned manifests', () => {
  it('a file matching its pin is cached by digest and served from the cache afterwards', async () => {
    const text = 'kind: DaemonSet\nimage: ghcr.io/k8snetworkplumbingwg/multus-cni:snapshot\n';
    bodies.set('/v4.0.2/multus.yml', text);
    const pin = { url: `${base}/v4.0.2/multus.yml`, sha256: sha(text) };
    const first = await fetchPinned(pin, { env });
    expect(first).toMatchObject({ cached: false, bytes: text.length, file: path.join(manifestCacheDir(env), sha(text)) });
    expect(readFileSync(first.file, 'utf8')).toBe(text);
    const second = await fetchPinned(pin, { env });
    expect(second.cached).toBe(true);
    expect(hits.get('/v4.0.2/multus.yml')).toBe(1);
    // Changed on disk: refused as it is, fetched again.
    writeFileSync(first.file, 'tampered');
    const third = await fetchPinned(pin, { env });
    expect(third.cached).toBe(false);
    expect(readFileSync(third.file, 'utf8')).toBe(text);
    expect(hits.get('/v4.0.2/multus.yml')).toBe(2);
  });

  it('a checksum mismatch is refused, naming both digests, and nothing is cached', async () => {
    bodies.set('/moved/canal.yaml', 'kind: ConfigMap # changed upstream\n');
    const want = sha('kind: ConfigMap\n');
    const err = await fetchPinned({ url: `${base}/moved/canal.yaml`, sha256: want }, { env }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(`checksum mismatch for ${base}/moved/canal.yaml: pinned ${want}, downloaded ${sha('kind: ConfigMap # changed upstream\n')} (35 bytes); refused, nothing was cached`);
    expect(existsSync(path.join(manifestCacheDir(env), want))).toBe(false);
  });

  it('a missing file and a bad pin are refused with the reason', async () => {
    await expect(fetchPinned({ url: `${base}/nope.yaml`, sha256: sha('x') }, { env })).rejects.toThrow(`could not download ${base}/nope.yaml: HTTP 404`);
    await expect(fetchPinned({ url: `${base}/x`, sha256: 'ABC' }, { env })).rejects.toThrow('sha256 must be 64 lowercase hex digits');
  });

  it("image replacements must find the image they replace", () => {
    expect(replaceImages('image: a:snapshot\nimage: a:snapshot\n', { 'a:snapshot': 'a:v4.0.2' }, 'x')).toBe('image: a:v4.0.2\nimage: a:v4.0.2\n');
    expect(() => replaceImages('image: a:v1\n', { 'a:snapshot': 'a:v4.0.2' }, 'stack multus')).toThrow('stack multus: the image a:snapshot the profile replaces does not occur in the manifest');
  });
});
