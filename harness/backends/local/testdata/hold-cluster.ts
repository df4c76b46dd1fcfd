// Test fixture (not a test): brings a one-node local cluster up in its own run, starts a stray
// process inside the node that outlives any parent, prints what it made as one JSON line, then
// waits forever (the test kills it). Run with: node --import tsx hold-cluster.ts <plugin-dir>
import { createRun } from '../../../ledger/ledger.ts';
import { LocalBackend } from '../local-backend.ts';

const pluginDir = process.argv[2];
if (!pluginDir) throw new Error('usage: hold-cluster.ts <plugin-dir>');
const run = await createRun();
const cluster = await new LocalBackend().up({
  runId: run.runId,
  cellId: 'sigkill',
  workDir: run.cellDir('sigkill'),
  nodes: [{ name: 'node-1', pluginDir, podSubnet: '10.99.0.0/28' }],
});
const node = cluster.node('node-1');
await node.createNetns('pod-a');
// A stray inside the node (its own session, no parent-death signal): only gc can find it.
const stray = await node.exec(['sh', '-c', 'setsid sleep 3600 </dev/null >/dev/null 2>&1 & echo $!']);
process.stdout.write(JSON.stringify({ runId: run.runId, workDir: run.workDir, holderPid: node.holderPid, strayPid: Number(stray.stdout.trim()) }) + '\n');
setInterval(() => {}, 1 << 30);
