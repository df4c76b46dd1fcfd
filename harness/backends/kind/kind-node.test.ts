// KindNode on what it reaches a node by, an init's pid, without kind: a process in its own pid, mount,
// net, uts and IPC namespaces (tmpfs on /run and /tmp) stands for a kind container, and a fake engine
// reports its pid and SIGKILLs it. Commands take one nsenter each (no exec agent: a kind image need
// not have perl) and enter the IPC namespace too; files, pod netns and the power cut as on every node.
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pidAlive } from '../../../testing/host.ts';
import type { ContainerState, EngineCli } from './engine.ts';
import { KindNode } from './kind-node.ts';

// Fixed text, no data from outside goes into it.
const INIT_SCRIPT = ['set -e', 'mount -t tmpfs -o mode=0755 faultline-test-run /run', 'mount -t tmpfs -o mode=1777 faultline-test-tmp /tmp', 'hostname kind-test-node', 'echo ready', 'exec sleep infinity'].join('\n');

let holder: ResultPromise<{ stdin: 'ignore'; reject: false }>;
let initPid: number;
let workDir: string;
let node: KindNode;

function firstChild(pid: number): number | undefined {
  const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
  return first ? Number(first) : undefined;
}

/** Host pids of processes in the node's pid namespace named `comm`. */
function nodeProcesses(comm: string): number[] {
  const ns = readlinkSync(`/proc/${initPid}/ns/pid`);
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readlinkSync(`/proc/${d}/ns/pid`) === ns && readFileSync(`/proc/${d}/comm`, 'utf8').trim() === comm;
      } catch {
        return false;
      }
    })
    .map(Number);
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'faultline-kind-node-'));
  holder = execa('setpriv', ['--pdeathsig', 'KILL', '--', 'unshare', '--pid', '--fork', '--kill-child', '--mount-proc', '--mount', '--net', '--uts', '--ipc', '--propagation', 'private', '--', 'sh', '-c', INIT_SCRIPT], { stdin: 'ignore', reject: false });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    holder.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready\n')) resolve();
    });
    void holder.then((r) => reject(new Error(`the stand-in node exited: ${r.stderr}`)));
  });
  initPid = firstChild(holder.pid!)!;
  const engine = {
    inspect: async (name: string): Promise<ContainerState> => {
      const running = pidAlive(initPid);
      return { id: 'fake', name, running, status: running ? 'running' : 'exited', pid: running ? initPid : 0, labels: {} };
    },
    kill: async () => {
      process.kill(initPid, 'SIGKILL');
    },
    start: async () => {
      throw new Error('the stand-in node cannot be started again');
    },
  } as unknown as EngineCli;
  node = new KindNode({ spec: { name: 'kind-test-node', pluginDir: '/nonexistent', podSubnet: '10.99.0.0/24' }, containerName: 'kind-test-node', engine, workDir });
  await node.attach();
}, 60_000);

afterAll(async () => {
  holder?.kill('SIGKILL');
  await holder;
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('KindNode, entered by its init pid', () => {
  it('runs commands in the node namespaces, IPC included, with one nsenter each and no exec agent', async () => {
    const r = await node.exec(['sh', '-c', 'hostname; readlink /proc/self/ns/ipc; cat; echo "$FOO" >&2; exit 3'], { stdin: 'in', env: { FOO: 'bar' } });
    expect(r).toMatchObject({ exitCode: 3, stdout: `kind-test-node\n${readlinkSync(`/proc/${initPid}/ns/ipc`)}\nin`, stderr: 'bar\n', timedOut: false });
    expect(readlinkSync(`/proc/${initPid}/ns/ipc`)).not.toBe(readlinkSync('/proc/self/ns/ipc'));
    expect(nodeProcesses('perl')).toEqual([]);
  });

  it('reads and writes files under its roots; FIFOs and symlinks out of the roots are refused', async () => {
    await node.writeFile('/run/a/b.txt', 'hello world');
    expect((await node.readFile('/run/a/b.txt')).toString()).toBe('hello world');
    expect((await node.readFile('/run/a/b.txt', { maxBytes: 5 })).toString()).toBe('hello');
    expect((await node.exec(['sh', '-c', 'mkfifo /tmp/fifo && ln -s /proc/1/environ /tmp/out && ln -s /run/a/b.txt /tmp/in'])).exitCode).toBe(0);
    await expect(node.readFile('/tmp/fifo')).rejects.toThrow(/\/tmp\/fifo on kind-test-node is a FIFO \(named pipe\), not a regular file/);
    await expect(node.writeFile('/tmp/fifo', 'x')).rejects.toThrow(/is a FIFO/);
    await expect(node.truncateFile('/tmp/fifo', 0)).rejects.toThrow(/is a FIFO/);
    await expect(node.readFile('/tmp/out')).rejects.toThrow(/outside the node's state \(through the symlink \/tmp\/out\)/);
    expect((await node.readFile('/tmp/in')).toString()).toBe('hello world');
    expect(await node.glob('/run/*/b.txt')).toEqual(['/run/a/b.txt']);
    await expect(node.startDaemon('kubelet', ['kubelet'])).rejects.toThrow(/a kind node runs its own daemons/);
  });

  it('creates, enters and deletes pod network namespaces under its /run/netns', async () => {
    expect(await node.createNetns('pod-a')).toBe('/run/netns/pod-a');
    expect(await node.listNetns()).toEqual(['pod-a']);
    const links = await node.exec(['ip', '-o', 'link', 'show'], { netns: '/var/run/netns/pod-a' });
    expect(links.stdout.trim().split('\n').map((l) => l.split(': ')[1])).toEqual(['lo']);
    await node.deleteNetns('pod-a');
    expect(await node.listNetns()).toEqual([]);
  });

  it('a power cut kills every process of the node; it is then off', async () => {
    await node.powerOff();
    expect(node.running).toBe(false);
    expect(pidAlive(initPid)).toBe(false);
    await expect(node.exec(['true'])).rejects.toThrow(/kind-test-node is powered off: cannot exec/);
    await expect(node.readFile('/run/a/b.txt')).rejects.toThrow(/powered off/);
  });
});
