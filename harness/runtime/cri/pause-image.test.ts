// The pause image: an OCI layout tar with catatonit as /pause, reproducible byte for byte.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extract } from 'tar-stream';
import { Readable } from 'node:stream';
import { CATATONIT, buildPauseImage } from './pause-image.ts';

async function entries(tar: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const x = extract();
  x.on('entry', (h, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      out.set(h.name, Buffer.concat(chunks));
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    x.on('finish', resolve);
    x.on('error', reject);
    Readable.from(tar).pipe(x);
  });
  return out;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('buildPauseImage', () => {
  it('is the same tar every time', async () => {
    const [a, b] = await Promise.all([buildPauseImage(), buildPauseImage()]);
    expect(a.tar.equals(b.tar)).toBe(true);
    expect(a.manifestDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('names the image, and its one layer holds catatonit as /pause, run as `/pause -P` by 65535', async () => {
    const img = await buildPauseImage();
    const files = await entries(img.tar);
    expect(JSON.parse(files.get('oci-layout')!.toString())).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(files.get('index.json')!.toString());
    expect(index.manifests[0].annotations['io.containerd.image.name']).toBe('faultline.local/pause:catatonit');
    const manifestDigest = index.manifests[0].digest.slice('sha256:'.length);
    const manifest = JSON.parse(files.get(`blobs/sha256/${manifestDigest}`)!.toString());
    // Every blob is where its digest says.
    for (const d of [manifestDigest, manifest.config.digest.slice(7), manifest.layers[0].digest.slice(7)]) expect(sha(files.get(`blobs/sha256/${d}`)!)).toBe(d);
    const config = JSON.parse(files.get(`blobs/sha256/${manifest.config.digest.slice(7)}`)!.toString());
    expect(config.config).toEqual({ User: '65535:65535', Entrypoint: ['/pause', '-P'], WorkingDir: '/' });
    const layer = await entries(files.get(`blobs/sha256/${manifest.layers[0].digest.slice(7)}`)!);
    expect([...layer.keys()]).toEqual(['pause']);
    expect(layer.get('pause')!.equals(await readFile(CATATONIT))).toBe(true);
  });
});
