// The exec agent must behave like a spawn: exit codes, signals, stdin, env, binary-safe output,
// many requests in flight, timeouts, and a clean "killed" answer when the node loses power.
import { localReaper } from './reaper.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { createRun, type Run } from '../../ledger/ledger.ts';
import { LocalBackend } from './local-backend.ts';
import type { LocalCluster } from './local-cluster.ts';
import { eventually, useTempStateDir } from '../../../testing/host.ts';

describe('exec agent (through LocalNode.exec)', () => {
  let run: Run;
  let cluster: LocalCluster;
  let restore: () => Promise<void>;
  beforeAll(async () => {
    restore = (await useTempStateDir()).restore;
    run = await createRun();
    cluster = await new LocalBackend().up({ runId: run.runId, cellId: 'agent', workDir: path.join(run.workDir, 'cells', 'agent'), nodes: [{ name: 'node-1', podSubnet: '10.77.0.0/24', pluginDir: '/usr/lib/cni' }] });
  });
  afterAll(async () => {
    await cluster?.down();
    await run?.release([localReaper]);
    await restore?.();
  });

  it('returns exit codes, stdout, stderr and passes stdin and env', async () => {
    const node = cluster.nodes[0]!;
    const r = await node.exec(['sh', '-c', 'cat; echo "$FOO" >&2; exit 3'], { stdin: 'in\0put', env: { FOO: 'bar baz' } });
    expect(r).toMatchObject({ exitCode: 3, stdout: 'in\0put', stderr: 'bar baz\n', timedOut: false });
    expect((await node.exec(['hostname'])).stdout).toBe('node-1\n');
  });

  it('reports a command that does not exist as exit 127', async () => {
    const r = await cluster.nodes[0]!.exec(['/no/such/binary']);
    expect(r.exitCode).toBe(127);
    expect(r.stderr).toMatch(/no\/such\/binary/);
  });

  it('runs many requests at once and matches each answer to its request', async () => {
    const node = cluster.nodes[0]!;
    const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => node.exec(['sh', '-c', `sleep 0.0${i % 5}; echo ${i}`])));
    expect(rs.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
  });

  it('kills a command past its timeout', async () => {
    const r = await cluster.nodes[0]!.exec(['sleep', '30'], { timeoutMs: 500 });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGKILL');
  });

  it('runs inside a pod netns when asked', async () => {
    const node = cluster.nodes[0]!;
    await node.createNetns('agentpod');
    expect((await node.exec(['ip', 'link', 'add', 'dummy7', 'type', 'veth', 'peer', 'name', 'dummy8'], { netns: '/run/netns/agentpod' })).exitCode).toBe(0);
    expect((await node.exec(['ip', '-br', 'link'], { netns: '/run/netns/agentpod' })).stdout).toMatch(/dummy7/);
    expect((await node.exec(['ip', '-br', 'link'])).stdout).not.toMatch(/dummy7/);
    await node.deleteNetns('agentpod');
  });

  it('answers commands cut by a power loss as killed, and works again after power on', async () => {
    const node = cluster.nodes[0]!;
    // The command says when it runs; the power goes off only then.
    const pending = node.exec(['sh', '-c', 'touch /run/exec-agent-started; exec sleep 30']);
    const started = await eventually(async () => (await node.exec(['test', '-e', '/run/exec-agent-started'])).exitCode === 0, 30_000);
    expect(started, 'the command never started').toBe(true);
    await node.powerOff();
    expect(await pending).toMatchObject({ exitCode: 137, signal: 'SIGKILL' });
    await node.powerOn();
    expect((await node.exec(['echo', 'back'])).stdout).toBe('back\n');
  });
});
