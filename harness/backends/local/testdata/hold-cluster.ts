// Test fixture (not a test): brings a one-node local cluster up in its own run, starts a stray
// process inside the node that outlives any parent, prints what it made as one JSON line, then
// waits forever (the test kills it). Run with: node --import tsx hold-cluster.ts <plugin-dir>
import { createRun } from '../../../ledger/ledger.ts';
import { LocalBackend } from '../local-backend.ts';
import { readFileSync, readlinkSync } from 'node:fs';
import { listPids } from '../../../util/procfs.ts';

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
// A stray inside the node (its own session, no parent-death signal): only the node's pid namespace
// dying takes it. `echo $!` says its pid inside the node; the host's is found by NSpid.
const stray = Number((await node.exec(['sh', '-c', 'setsid sleep 3600 </dev/null >/dev/null 2>&1 & echo $!'])).stdout.trim());
const pidns = readlinkSync(`/proc/${node.holderPid}/ns/pid_for_children`);
const strayPid = listPids().find((pid) => {
  try {
    const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]?.split(/\s+/);
    return readlinkSync(`/proc/${pid}/ns/pid`) === pidns && Number(nspid?.at(-1)) === stray;
  } catch {
    return false;
  }
});
process.stdout.write(JSON.stringify({ runId: run.runId, workDir: run.workDir, holderPid: node.holderPid, strayPid }) + '\n');
setInterval(() => {}, 1 << 30);
