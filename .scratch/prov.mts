import { resolveContainerd } from '../harness/components/containerd.ts';
for (const n of ['containerd-1.6', 'containerd-2.1']) {
  const t = Date.now();
  const r = await resolveContainerd(n, { onProgress: (m) => console.log('  ', m) });
  console.log(n, Date.now() - t, 'ms', r.version, r.libcni, r.source, r.dir, r.protoSource);
}
const t = Date.now(); await resolveContainerd('containerd-1.6'); console.log('cached', Date.now() - t, 'ms');
