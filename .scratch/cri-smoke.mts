import { createRun } from '../harness/ledger/ledger.ts';
import { LocalBackend } from '../harness/backends/local/local-backend.ts';
import { localReaper } from '../harness/backends/local/reaper.ts';
import { CriRuntime } from '../harness/runtime/cri/cri-runtime.ts';
const bin = process.argv[2]!; const version = process.argv[3]!;
const proto = '/work/proto/containerd/cache/cri-api-sid/root/usr/share/gocode/src/k8s.io/cri-api/pkg/apis/runtime/v1/api.proto';
const run = await createRun({ stateDir: '/tmp/crismoke' });
const cluster = await new LocalBackend().up({ runId: run.runId, cellId: 'cri', workDir: run.cellDir('cri'), nodes: [{ name: 'node-1', pluginDir: '/usr/lib/cni', podSubnet: '10.99.0.0/24', runtimeDir: bin }] });
try {
  const node = cluster.node('node-1');
  await node.writeFile('/etc/cni/net.d/10-lab.conflist', JSON.stringify({ cniVersion: '1.0.0', name: 'lab-net', plugins: [{ type: 'bridge', bridge: 'cni0', isGateway: true, ipMasq: true, ipam: { type: 'host-local', subnet: '10.99.0.0/24' } }, { type: 'portmap', capabilities: { portMappings: true } }] }));
  const rt = new CriRuntime({ node, component: { version, protoFile: proto } });
  let t = Date.now(); await rt.start(); console.log('start', Date.now() - t, 'ms', await rt.status());
  t = Date.now(); const sb = await rt.runPodSandbox({ name: 'web-0', workload: 'web', networks: [], role: 'pod' }); console.log('run', Date.now() - t, sb);
  console.log(await node.list('/var/lib/cni/results'));
  await node.truncateFile(`/var/lib/cni/results/lab-net-${sb.id}-eth0`, 0);
  try { await rt.stopPodSandbox(sb.id); console.log('stop ok'); } catch (e) { console.log('stop failed:', (e as any).cri?.codeName, (e as Error).message); }
  console.log('list', (await rt.listPodSandbox()).map((s) => [s.id.slice(0, 12), s.state]));
} finally {
  await cluster.down(); await run.release([localReaper]);
}
