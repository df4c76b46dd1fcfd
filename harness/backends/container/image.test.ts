// The node image cache: named by the recipe's hash, complete only with its metadata and tarball, built
// only when missing; a build that cannot reach the mirror fails clearly and leaves nothing behind.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NODE_IMAGE_RECIPE, buildImage, cachedImage, imageRef, recipeHash, type ImageMeta } from './image.ts';
import { findBinary } from '../../util/which.ts';
import { FaultlineError } from '../../errors.ts';

const work = mkdtempSync(join(tmpdir(), 'faultline-image-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
let saved: Record<string, string | undefined>;
let dir: string;

beforeEach(() => {
  dir = join(work, `c${n++}`);
  saved = { FAULTLINE_CONTAINER_DIR: process.env.FAULTLINE_CONTAINER_DIR, FAULTLINE_DEBIAN_MIRROR: process.env.FAULTLINE_DEBIAN_MIRROR };
  process.env.FAULTLINE_CONTAINER_DIR = dir;
});
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** What a finished build leaves: rootfs.tar and meta.json, named by the hash. */
function fakeBuild(hash = recipeHash(), tarBytes = 10): string {
  const entry = join(dir, 'images', hash.slice(0, 16));
  mkdirSync(entry, { recursive: true });
  writeFileSync(join(entry, 'rootfs.tar'), Buffer.alloc(tarBytes));
  const meta: ImageMeta = { schema: 1, ref: imageRef(hash), recipeHash: hash, recipe: NODE_IMAGE_RECIPE, mirror: 'm', builtAt: '2026-01-01T00:00:00Z', buildMs: 1000, debootstrapMs: 900, tarBytes: 10, tarSha256: 'x' };
  writeFileSync(join(entry, 'meta.json'), JSON.stringify(meta));
  return entry;
}

describe('the node image recipe', () => {
  it('names the image by its hash, which changes with the recipe', () => {
    const hash = recipeHash();
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(imageRef()).toBe(`localhost/faultline-node:${hash.slice(0, 16)}`);
    expect(recipeHash({ ...NODE_IMAGE_RECIPE })).toBe(hash);
    expect(recipeHash({ ...NODE_IMAGE_RECIPE, include: [...NODE_IMAGE_RECIPE.include, 'strace'] })).not.toBe(hash);
  });

  it('has what a node runs: its init, the OCI runtime, ip and iptables', () => {
    expect(NODE_IMAGE_RECIPE.include).toEqual(expect.arrayContaining(['catatonit', 'runc', 'iproute2', 'iptables']));
    expect(NODE_IMAGE_RECIPE.cmd).toEqual(['/usr/bin/catatonit', '-P']);
  });
});

describe('the node image cache', () => {
  it('is complete only with metadata of this recipe and a tarball of the recorded size', () => {
    expect(cachedImage().built).toBe(false);
    const entry = fakeBuild();
    expect(cachedImage()).toMatchObject({ built: true, ref: imageRef(), dir: entry, meta: { buildMs: 1000 } });
    writeFileSync(join(entry, 'rootfs.tar'), Buffer.alloc(3)); // cut short
    expect(cachedImage().built).toBe(false);
    fakeBuild(recipeHash({ other: 1 }));
    expect(cachedImage(process.env, recipeHash({ other: 1 })).built).toBe(true);
  });

  it('a cached image is not built again', async () => {
    fakeBuild();
    const said: string[] = [];
    const s = await buildImage({ onProgress: (m) => said.push(m) });
    expect(s.built).toBe(true);
    expect(said).toEqual([]);
    expect(existsSync(join(dir, 'debs'))).toBe(false); // debootstrap never ran
  });

  it('a build that cannot reach the mirror fails naming it, and leaves no half entry', async (ctx) => {
    ctx.skip(!findBinary('debootstrap'), 'debootstrap is not installed (node scripts/setup.mjs installs it)');
    ctx.skip(process.getuid?.() !== 0, 'debootstrap needs root');
    process.env.FAULTLINE_DEBIAN_MIRROR = 'http://127.0.0.1:9/debian';
    const said: string[] = [];
    const err = await buildImage({ onProgress: (m) => said.push(m) }).then(
      () => undefined,
      (e: unknown) => e as FaultlineError,
    );
    expect(err).toBeInstanceOf(FaultlineError);
    expect(err).toMatchObject({ code: 'environment', message: expect.stringMatching(/^building the node image failed: debootstrap exited 1:[\s\S]*Failed getting release file http:\/\/127\.0\.0\.1:9\/debian/) });
    expect(err!.hint).toMatch(/check that http:\/\/127\.0\.0\.1:9\/debian is reachable \(FAULTLINE_DEBIAN_MIRROR sets another mirror\)/);
    expect(said[0]).toMatch(/^node image: building localhost\/faultline-node:[0-9a-f]{16} with debootstrap \(minbase bookworm from http:\/\/127\.0\.0\.1:9\/debian/);
    expect(readdirSync(join(dir, 'images')).filter((e) => e !== '.locks')).toEqual([]);
    expect(cachedImage().built).toBe(false);
  });
});
