// What the container backend needs on this host, each with its fix: root (nodes are entered by pid and
// their files reached through /proc), an engine (found, or podman to start), catatonit (the pause image
// of real runtimes), debootstrap while the node image is not built, and the image's state.
import type { BackendCheck, BackendCheckOptions } from '../types.ts';
import { findBinary } from '../../util/which.ts';
import { planEngine } from './engine.ts';
import { cachedImage } from './image.ts';

/** Every check of the container backend, in display order. */
export async function containerBackendChecks(opts: BackendCheckOptions = {}): Promise<BackendCheck[]> {
  const env = opts.env ?? process.env;
  const uid = opts.uid ?? process.getuid?.() ?? -1;
  const extra = opts.extraDirs;
  const checks: BackendCheck[] = [];
  checks.push(
    uid === 0
      ? { name: 'container-root', ok: true, detail: 'running as root' }
      : { name: 'container-root', ok: false, detail: `running as uid ${uid}; node containers are privileged and entered by pid`, fix: 'run faultline as root (sudo -E faultline ...)' },
  );
  const plan = await planEngine(env, extra ? { extraDirs: extra } : {});
  switch (plan.kind) {
    case 'external':
      checks.push({ name: 'container-engine', ok: true, detail: `Docker-API engine at ${plan.socketPath} (${plan.source})` });
      break;
    case 'private-podman':
      checks.push({ name: 'container-engine', ok: true, detail: `none running; faultline starts ${plan.podman} as a private service (runc ${plan.runc}, conmon ${plan.conmon}, storage in ${plan.dir})` });
      break;
    case 'none':
      checks.push({ name: 'container-engine', ok: false, detail: plan.reason, fix: plan.fix });
      break;
  }
  const catatonit = findBinary('catatonit', env, extra);
  checks.push(catatonit ? { name: 'container-catatonit', ok: true, detail: catatonit } : { name: 'container-catatonit', ok: false, detail: 'catatonit not found (the pause image of real runtimes)', fix: 'apt-get install catatonit' });
  const image = cachedImage(env);
  if (image.built && image.meta) {
    const m = image.meta;
    checks.push({ name: 'container-image', ok: true, detail: `${image.ref} built ${m.builtAt} in ${(m.buildMs / 1000).toFixed(0)} s (${(m.tarBytes / 1e6).toFixed(0)} MB in ${image.dir})` });
  } else {
    const debootstrap = findBinary('debootstrap', env, extra);
    checks.push(
      debootstrap
        ? { name: 'container-image', ok: true, detail: `${image.ref} not built yet: the first container run builds it with ${debootstrap} (about a minute, once)` }
        : { name: 'container-image', ok: false, detail: `${image.ref} not built and debootstrap not found to build it`, fix: 'apt-get install debootstrap' },
    );
  }
  return checks;
}

