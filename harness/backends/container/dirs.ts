// Where the container backend keeps things. The per-user cache holds what is worth keeping between
// runs: the node image (built once per recipe) and the private podman's storage (the image imported
// once, plus the volumes of nodes while they exist), beside the podman's run state and its sockets.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** $FAULTLINE_CONTAINER_DIR, else $XDG_CACHE_HOME/faultline/container, else ~/.cache/faultline/container. */
export function containerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FAULTLINE_CONTAINER_DIR) return resolve(env.FAULTLINE_CONTAINER_DIR);
  const xdg = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(xdg, 'faultline', 'container');
}

/** The private podman's own dir: its configs, storage (graphroot, volumes) and run state. */
export function podmanDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(containerCacheDir(env), 'podman');
}

/** Built node images (rootfs tarballs with their metadata), one dir per recipe hash. */
export function imageCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(containerCacheDir(env), 'images');
}
