// The sandbox ("pause") image without a registry: an OCI image layout, as a tar, holding one
// uncompressed layer with Debian's static catatonit as /pause, run as `/pause -P` (catatonit's pause
// mode) by user 65535. `ctr images import` reads it; the index annotation names the image. The tar is
// reproducible (fixed mtimes, ids and order), so its digests identify the catatonit it carries.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { pack } from 'tar-stream';
import { PAUSE_IMAGE } from './containerd-config.ts';

export const CATATONIT = '/usr/bin/catatonit';

interface Entry {
  name: string;
  data?: Buffer;
  mode: number;
  dir?: boolean;
}

/** A reproducible tar of these entries (uid/gid 0, mtime 0). */
async function tarOf(entries: readonly Entry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  const mtime = new Date(0);
  for (const e of entries) {
    if (e.dir) p.entry({ name: e.name, type: 'directory', mode: e.mode, mtime, uid: 0, gid: 0 });
    else p.entry({ name: e.name, mode: e.mode, mtime, uid: 0, gid: 0 }, e.data ?? Buffer.alloc(0));
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

export interface PauseImage {
  tar: Buffer;
  name: string;
  manifestDigest: string;
}

export async function buildPauseImage(opts: { catatonit?: string; name?: string } = {}): Promise<PauseImage> {
  const name = opts.name ?? PAUSE_IMAGE;
  const layer = await tarOf([{ name: 'pause', data: await readFile(opts.catatonit ?? CATATONIT), mode: 0o755 }]);
  const layerDigest = sha256(layer); // uncompressed: the digest is the diffID
  const config = json({
    architecture: 'amd64',
    os: 'linux',
    config: { User: '65535:65535', Entrypoint: ['/pause', '-P'], WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
    history: [{ created_by: 'faultline: Debian catatonit as /pause -P' }],
  });
  const configDigest = sha256(config);
  const manifest = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${configDigest}`, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${layerDigest}`, size: layer.length }],
  });
  const manifestDigest = sha256(manifest);
  const index = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${manifestDigest}`,
        size: manifest.length,
        platform: { architecture: 'amd64', os: 'linux' },
        annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.split(':').pop() },
      },
    ],
  });
  const blob = (digest: string, data: Buffer): Entry => ({ name: `blobs/sha256/${digest}`, data, mode: 0o644 });
  const tar = await tarOf([
    { name: 'oci-layout', data: json({ imageLayoutVersion: '1.0.0' }), mode: 0o644 },
    { name: 'index.json', data: index, mode: 0o644 },
    { name: 'blobs', mode: 0o755, dir: true },
    { name: 'blobs/sha256', mode: 0o755, dir: true },
    blob(manifestDigest, manifest),
    blob(configDigest, config),
    blob(layerDigest, layer),
  ]);
  return { tar, name, manifestDigest: `sha256:${manifestDigest}` };
}
