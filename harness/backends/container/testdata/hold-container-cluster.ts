// Test fixture (not a test): brings a two-node container cluster up in its own run (a pod netns and
// a daemon in node-1), prints what it made as one JSON line, then waits forever (the test kills it).
// Run with: node --import tsx hold-container-cluster.ts <plugin-dir>
import { createRun } from '../../../ledger/ledger.ts';
import { ContainerBackend } from '../container-backend.ts';

const pluginDir = process.argv[2];
if (!pluginDir) throw new Error('usage: hold-container-cluster.ts <plugin-dir>');
const run = await createRun();
const cluster = await new ContainerBackend().up({
  runId: run.runId,
  cellId: 'sigkill',
  workDir: run.cellDir('sigkill'),
  nodes: ['node-1', 'node-2'].map((name, i) => ({ name, pluginDir, podSubnet: `10.99.${i}.0/28` })),
  segments: ['ext0'],
});
const node = cluster.node('node-1');
await node.createNetns('pod-a');
await node.startDaemon('sleeper', ['sleep', '3600']);
const engineEntry = run.resources().find((r) => r.kind === 'container-engine') as { socketPath: string } | undefined;
process.stdout.write(
  JSON.stringify({
    runId: run.runId,
    workDir: run.workDir,
    pids: cluster.nodes.map((n) => n.holderPid),
    volumes: cluster.nodes.map((n) => n.volumeHostDir),
    socket: engineEntry?.socketPath,
  }) + '\n',
);
setInterval(() => {}, 1 << 30);
