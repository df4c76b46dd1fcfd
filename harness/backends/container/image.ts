// The node image, built here without a registry: debootstrap (minbase bookworm with what a node needs),
// trimmed, packed as a rootfs tarball into the per-user cache under the hash of its recipe, then
// imported into the engine. Built once per machine and recipe; plugin and runtime versions are bind
// mounts, so a version matrix needs no new image. The engine's copy is checked by its recipe label
// and re-imported from the tarball when missing (another engine, a wiped storage).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { FaultlineError, errorMessage } from '../../errors.ts';
import { withLock } from '../../cni-versions/cache.ts';
import { debianMirror } from '../../cni-versions/debian.ts';
import { containerCacheDir, imageCacheDir } from './dirs.ts';
import type { ContainerEngine } from './engine.ts';

/** What the image is made of: its hash names the image, a change rebuilds it. */
export const NODE_IMAGE_RECIPE = {
  schema: 1,
  suite: 'bookworm',
  variant: 'minbase',
  // catatonit: PID 1 (reaps what daemonizes inside); runc: the OCI runtime a real containerd needs;
  // iproute2/iptables: what CNI plugins and observations run; perl-base (Essential) runs the exec agent.
  include: ['iproute2', 'iptables', 'catatonit', 'runc', 'procps', 'iputils-ping'],
  // Removed after debootstrap (relative to the rootfs): nothing a node reads.
  trim: ['var/lib/apt/lists', 'var/cache/apt', 'var/cache/debconf', 'var/log', 'usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale', 'usr/share/lintian', 'run'],
  env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
  cmd: ['/usr/bin/catatonit', '-P'],
} as const;

export const IMAGE_REPO = 'localhost/faultline-node';
/** Labels of the image (never a run's label: containers inherit an image's labels). */
export const IMAGE_LABEL = 'io.faultline.image';
export const RECIPE_LABEL = 'io.faultline.recipe';

export function recipeHash(recipe: object = NODE_IMAGE_RECIPE): string {
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex');
}

/** localhost/faultline-node:<first 16 hex of the recipe hash>. */
export function imageRef(hash = recipeHash()): string {
  return `${IMAGE_REPO}:${hash.slice(0, 16)}`;
}

/** What the cache says about a built image (meta.json beside rootfs.tar). */
export interface ImageMeta {
  schema: 1;
  ref: string;
  recipeHash: string;
  recipe: object;
  mirror: string;
  builtAt: string;
  /** Whole build: debootstrap, trim and tar. */
  buildMs: number;
  debootstrapMs: number;
  tarBytes: number;
  tarSha256: string;
}

export interface ImageState {
  ref: string;
  /** The tarball is in the per-user cache. */
  built: boolean;
  meta?: ImageMeta;
  dir: string;
}

function entryDir(hash: string, env?: NodeJS.ProcessEnv): string {
  return join(imageCacheDir(env), hash.slice(0, 16));
}

/** The cached image of the current recipe, if built (no engine needed). */
export function cachedImage(env: NodeJS.ProcessEnv = process.env, hash = recipeHash()): ImageState {
  const dir = entryDir(hash, env);
  const ref = imageRef(hash);
  try {
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as ImageMeta;
    const size = statSync(join(dir, 'rootfs.tar')).size;
    if (meta.schema === 1 && meta.recipeHash === hash && meta.tarBytes === size) return { ref, built: true, meta, dir };
  } catch {
    /* not built, or half */
  }
  return { ref, built: false, dir };
}

export interface EnsureImageOptions {
  signal?: AbortSignal;
  /** Progress of a build or an import (a build takes about a minute, once per machine). */
  onProgress?: (message: string) => void;
}

/** The node image in this engine: built (once) and imported (once per engine storage) as needed. */
export async function ensureNodeImage(engine: ContainerEngine, opts: EnsureImageOptions = {}): Promise<string> {
  const hash = recipeHash();
  const ref = imageRef(hash);
  if (await engineHasImage(engine, ref, hash)) return ref;
  const state = await buildImage(opts);
  await withLock(containerCacheDir(), `import-${hash.slice(0, 16)}`, opts.signal, async () => {
    if (await engineHasImage(engine, ref, hash)) return;
    opts.onProgress?.(`node image: importing ${ref} into the engine`);
    await importImage(engine, join(state.dir, 'rootfs.tar'), ref, hash, opts.signal);
    if (!(await engineHasImage(engine, ref, hash))) throw new FaultlineError('environment', `the engine does not list ${ref} after importing it`);
    await removeOldImages(engine, ref);
  });
  return ref;
}

async function engineHasImage(engine: ContainerEngine, ref: string, hash: string): Promise<boolean> {
  try {
    const info = await engine.docker.getImage(ref).inspect();
    return info.Config?.Labels?.[RECIPE_LABEL] === hash;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw new FaultlineError('environment', `cannot inspect ${ref} in the engine: ${errorMessage(e)}`, { cause: e });
  }
}

/** Earlier recipes' images, unused now (an image a container still uses is refused: kept). */
async function removeOldImages(engine: ContainerEngine, keep: string): Promise<void> {
  const images = await engine.docker.listImages({ filters: { label: [IMAGE_LABEL] } });
  for (const img of images) {
    if ((img.RepoTags ?? []).includes(keep)) continue;
    await engine.docker.getImage(img.Id).remove().catch(() => undefined);
  }
}

/** Builds the tarball of the current recipe unless the cache has it. Under a lock per recipe. */
export async function buildImage(opts: EnsureImageOptions = {}): Promise<ImageState> {
  const hash = recipeHash();
  const cached = cachedImage(process.env, hash);
  if (cached.built) return cached;
  const images = imageCacheDir();
  await mkdir(images, { recursive: true, mode: 0o700 });
  return withLock(images, `build-${hash.slice(0, 16)}`, opts.signal, async () => {
    const again = cachedImage(process.env, hash);
    if (again.built) return again;
    await removeStaleBuilds(images);
    const tmp = join(images, `.tmp-${hash.slice(0, 16)}-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(tmp, { mode: 0o700 });
    try {
      const meta = await debootstrapImage(tmp, hash, opts);
      await writeFile(join(tmp, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
      await rm(again.dir, { recursive: true, force: true });
      await rename(tmp, again.dir);
      await removeOtherRecipes(images, hash);
      const done = cachedImage(process.env, hash);
      if (!done.built) throw new FaultlineError('internal', `the node image cache ${again.dir} is not complete after a build`);
      return done;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
}

/** debootstrap into <tmp>/rootfs, trim, tar into <tmp>/rootfs.tar. */
async function debootstrapImage(tmp: string, hash: string, opts: EnsureImageOptions): Promise<ImageMeta> {
  const rootfs = join(tmp, 'rootfs');
  const debs = join(containerCacheDir(), 'debs'); // downloaded packages: a rebuild skips the download
  await mkdir(debs, { recursive: true, mode: 0o700 });
  const mirror = debianMirror();
  const r = NODE_IMAGE_RECIPE;
  const t0 = Date.now();
  const say = opts.onProgress ?? (() => undefined);
  say(`node image: building ${imageRef(hash)} with debootstrap (${r.variant} ${r.suite} from ${mirror}; once per machine, about a minute)`);
  // Its own mount namespace: the /proc and /sys it mounts in the target vanish with it, even if it
  // is killed; it dies with faultline (parent-death signal).
  const child = execa('setpriv', ['--pdeathsig', 'KILL', '--', 'unshare', '--mount', '--propagation', 'private', '--', 'debootstrap', `--variant=${r.variant}`, `--include=${r.include.join(',')}`, `--cache-dir=${debs}`, r.suite, rootfs, mirror], {
    reject: false,
    all: true,
    buffer: { all: true },
    extendEnv: false,
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive' },
    ...(opts.signal ? { cancelSignal: opts.signal } : {}),
  });
  reportDebootstrap(child.all, say, t0);
  const res = await child;
  if (res.exitCode !== 0) {
    const tail = String(res.all ?? '').trim().split('\n').slice(-8).join('\n');
    let log = '';
    try {
      log = (await readFile(join(rootfs, 'debootstrap', 'debootstrap.log'), 'utf8')).trim().split('\n').slice(-8).join('\n');
    } catch {
      /* none */
    }
    if (opts.signal?.aborted) throw new FaultlineError('interrupted', 'interrupted while building the node image');
    throw new FaultlineError('environment', `building the node image failed: debootstrap ${res.signal ?? `exited ${res.exitCode}`}:\n${tail}${log ? `\n${log}` : ''}`, {
      hint: `check that ${mirror} is reachable (FAULTLINE_DEBIAN_MIRROR sets another mirror) and that debootstrap is installed`,
    });
  }
  const debootstrapMs = Date.now() - t0;
  for (const p of r.trim) {
    const dir = join(rootfs, p);
    for (const name of safeReaddir(dir)) await rm(join(dir, name), { recursive: true, force: true });
  }
  say(`node image: packing the root filesystem (debootstrap took ${(debootstrapMs / 1000).toFixed(0)} s)`);
  const tar = join(tmp, 'rootfs.tar');
  const packed = await execa('tar', ['-C', rootfs, '--numeric-owner', '--xattrs', '-cf', tar, '.'], { reject: false });
  if (packed.exitCode !== 0) throw new FaultlineError('environment', `packing the node image failed: ${packed.stderr.trim()}`);
  await rm(rootfs, { recursive: true, force: true });
  const tarBytes = (await stat(tar)).size;
  const tarSha256 = await sha256(tar);
  const buildMs = Date.now() - t0;
  say(`node image: built in ${(buildMs / 1000).toFixed(0)} s (${(tarBytes / 1e6).toFixed(0)} MB)`);
  return { schema: 1, ref: imageRef(hash), recipeHash: hash, recipe: NODE_IMAGE_RECIPE, mirror, builtAt: new Date().toISOString(), buildMs, debootstrapMs, tarBytes, tarSha256 };
}

/** Turns debootstrap's `I: Retrieving x` lines into progress: each phase when it starts, then every 5 s. */
function reportDebootstrap(out: NodeJS.ReadableStream | undefined, say: (m: string) => void, t0: number): void {
  if (!out) return;
  const phases: Record<string, string> = { Retrieving: 'downloading', Validating: 'downloading', Extracting: 'extracting', Unpacking: 'installing', Configuring: 'installing' };
  const counts = new Map<string, number>();
  let lastSaid = 0;
  let buf = '';
  out.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^I: (\w+) /.exec(line);
      const phase = m ? phases[m[1]!] : undefined;
      if (!phase) continue;
      const n = (counts.get(phase) ?? 0) + 1;
      counts.set(phase, n);
      const now = Date.now();
      if (n === 1 || now - lastSaid > 5_000) {
        say(`node image: debootstrap ${phase} (${n} steps, ${((now - t0) / 1000).toFixed(0)} s)`);
        lastSaid = now;
      }
    }
  });
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function sha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

/** Builds whose process is gone (killed mid-way). */
async function removeStaleBuilds(images: string): Promise<void> {
  for (const name of safeReaddir(images)) {
    const m = /^\.tmp-[0-9a-f]{16}-(\d+)-[0-9a-f]{8}$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = pid !== process.pid;
    } catch {
      alive = false;
    }
    if (!alive) await rm(join(images, name), { recursive: true, force: true });
  }
}

/** Tarballs of earlier recipes. */
async function removeOtherRecipes(images: string, hash: string): Promise<void> {
  for (const name of safeReaddir(images)) {
    if (/^[0-9a-f]{16}$/.test(name) && name !== hash.slice(0, 16)) await rm(join(images, name), { recursive: true, force: true });
  }
}

/** The `--change` instructions the imported image gets. */
function imageChanges(hash: string): string[] {
  return [`LABEL ${IMAGE_LABEL}=node`, `LABEL ${RECIPE_LABEL}=${hash}`, ...NODE_IMAGE_RECIPE.env.map((e) => `ENV ${e}`), `CMD ${JSON.stringify(NODE_IMAGE_RECIPE.cmd)}`];
}

/**
 * Imports the tarball. The private podman: its CLI in a private mount namespace with a tmpfs over
 * /var/lib/containers (or /var/lib, when that does not exist: no mount point is made on the host),
 * since podman 4.3's import writes /var/lib/containers/cache whatever its storage config says. Another engine: the API (`POST /images/create?fromSrc=-`; the tag goes into `repo`, as
 * podman ignores `tag`).
 */
async function importImage(engine: ContainerEngine, tar: string, ref: string, hash: string, signal?: AbortSignal): Promise<void> {
  const changes = imageChanges(hash);
  if (engine.podmanCli) {
    const { bin, env, args } = engine.podmanCli;
    // The tmpfs hides that part of /var/lib: it must not hide the tarball or podman's own dir.
    const shadow = existsSync('/var/lib/containers') ? '/var/lib/containers' : '/var/lib';
    const hidden = [tar, engine.dir ?? ''].find((p) => p === shadow || p.startsWith(shadow + '/'));
    if (hidden) {
      throw new FaultlineError('environment', `cannot import the node image: ${hidden} is under ${shadow}, which the import hides from podman (podman 4.3 writes its cache there)`, {
        hint: 'set FAULTLINE_CONTAINER_DIR to a directory outside /var/lib',
      });
    }
    const r = await execa(
      'setpriv',
      ['--pdeathsig', 'KILL', '--', 'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t tmpfs -o size=64m,mode=0700 faultline-import "$0" && exec "$@"', shadow, bin, ...args, 'import', ...changes.flatMap((c) => ['--change', c]), tar, ref],
      { env, extendEnv: false, reject: false, ...(signal ? { cancelSignal: signal } : {}) },
    );
    if (r.exitCode !== 0) throw new FaultlineError('environment', `importing the node image into podman failed: ${(r.stderr || r.stdout || r.shortMessage || '').trim()}`);
    return;
  }
  if (!existsSync(tar)) throw new FaultlineError('internal', `${tar} is missing`);
  const stream = await engine.docker.importImage(createReadStream(tar), { repo: ref, changes } as object);
  await new Promise<void>((resolve, reject) => {
    let failure = '';
    stream.on('data', (d: Buffer) => {
      for (const line of d.toString('utf8').split('\n')) {
        try {
          const o = JSON.parse(line) as { error?: string };
          if (o.error) failure = o.error;
        } catch {
          /* partial line */
        }
      }
    });
    stream.on('end', () => (failure ? reject(new FaultlineError('environment', `importing the node image failed: ${failure}`)) : resolve()));
    stream.on('error', reject);
  });
}
