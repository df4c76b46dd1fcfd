// The container backend on a real engine (the private podman here): node containers shaped like kind's,
// every node operation of the backend contract, and nothing left behind. Needs root, podman and the
// node image (built on first use when the Debian mirror answers).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FaultlineError } from '../../errors.ts';
import { createRun, type Run } from '../../ledger/ledger.ts';
import { ContainerBackend, type ContainerCluster } from './container-backend.ts';
import type { ContainerNode, ContainerResource } from './container-node.ts';
import { LABEL_CELL, LABEL_NODE, LABEL_RUN } from './labels.ts';
import { podmanDir } from './dirs.ts';
import { readNs } from '../../util/procfs.ts';
import { type HostSnapshot, eventually, fakePluginDir, hostLeftovers, hostSnapshot, pidAlive, useTempStateDir } from '../../../testing/host.ts';
import { containerSkipReason, engineInventory, hostIptables, iptablesLeftovers, processesOfContainerRun, runCgroups, withEngine } from '../../../testing/container.ts';
import { titled } from '../../../testing/network.ts';

const skip = await containerSkipReason('the container backend tests');

describe.skipIf(skip)(titled('ContainerBackend', skip), () => {
  let state: Awaited<ReturnType<typeof useTempStateDir>>;
  let plugins: string;
  let hostBefore: HostSnapshot;
  let iptablesBefore: string[];
  let run: Run;
  const backend = new ContainerBackend();
  const clusters: ContainerCluster[] = [];

  const containerEntries = (cellId: string) => run.resources().filter((e) => e.kind === 'container' && e.cellId === cellId) as unknown as ContainerResource[];

  async function up(cellId: string, nodeNames = ['node-1'], segments?: string[]): Promise<ContainerCluster> {
    const c = await backend.up({
      runId: run.runId,
      cellId,
      workDir: run.cellDir(cellId),
      nodes: nodeNames.map((name, i) => ({ name, pluginDir: plugins, podSubnet: `10.77.${i}.0/28` })),
      ...(segments ? { segments } : {}),
    });
    clusters.push(c);
    return c;
  }

  beforeAll(async () => {
    hostBefore = await hostSnapshot();
    iptablesBefore = await hostIptables();
    state = await useTempStateDir();
    plugins = await fakePluginDir();
    run = await createRun();
  });

  afterAll(async () => {
    for (const c of clusters) await c.down().catch(() => {});
    await run?.release([backend.reaper]);
    await rm(plugins, { recursive: true, force: true });
    await state?.restore();
  });

  it('finds every prerequisite on this machine', async () => {
    expect((await backend.check()).filter((c) => !c.ok)).toEqual([]);
  });

  it('refuses a cluster for a run this process has no ledger for, and bad specs before creating anything', async () => {
    await expect(backend.up({ runId: 'fl-20200101-000000-abcdef', cellId: 'x', workDir: join(state.dir, 'x'), nodes: [] })).rejects.toThrow(/no ledger for run/);
    const spec = (nodes: { name: string; pluginDir: string }[]) => ({ runId: run.runId, cellId: 'v', workDir: run.cellDir('v'), nodes: nodes.map((n) => ({ ...n, podSubnet: '10.0.0.0/28' })) });
    await expect(backend.up(spec([{ name: 'Node_1', pluginDir: plugins }]))).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(backend.up(spec([{ name: 'a', pluginDir: '/nonexistent/plugins' }]))).rejects.toThrow(/plugin dir \/nonexistent\/plugins/);
    await expect(backend.up({ ...spec([{ name: 'a', pluginDir: plugins }]), segments: ['Bad!'] })).rejects.toThrow(/segment name/);
    expect(run.resources().filter((r) => r.kind === 'container')).toEqual([]);
  });

  it('brings up kind-shaped nodes: own hostname, only lo, plugins read-only, tmpfs /run and /tmp, /var on a volume, labelled', async () => {
    const t0 = Date.now();
    const c = await up('basic', ['node-1', 'node-2']);
    const n = c.node('node-1');
    expect(n.running).toBe(true);
    expect(n.bootedAtMs).toBeGreaterThanOrEqual(t0);
    const r = await n.exec(['sh', '-c', 'hostname; ip -o link | wc -l; ip -o link show lo | grep -c UP; ls /opt/cni/bin; /opt/cni/bin/fake-plugin; touch /opt/cni/bin/x 2>&1 | grep -c Read-only']);
    expect(r).toMatchObject({ exitCode: 0, stderr: '' });
    expect(r.stdout).toBe('node-1\n1\n1\nfake-plugin\nfake-plugin \n1\n');
    expect((await c.node('node-2').exec(['hostname'])).stdout).toBe('node-2\n');
    const mounts = (await n.exec(['sh', '-c', "awk '$2 ~ /^(\\/run|\\/tmp|\\/var|\\/etc\\/cni|\\/etc\\/containerd)$/ { print $2, $3 }' /proc/self/mounts"])).stdout.trim().split('\n').sort();
    expect(mounts.map((l) => l.split(' ')[0])).toEqual(['/etc/cni', '/etc/containerd', '/run', '/tmp', '/var']);
    expect(mounts.filter((l) => l.endsWith(' tmpfs')).map((l) => l.split(' ')[0])).toEqual(['/run', '/tmp']);
    // The node's own network and mount namespaces; the host's are untouched.
    expect(readNs(n.holderPid!, 'net')).not.toBe(readNs('self', 'net'));
    expect(readNs(n.holderPid!, 'mnt')).not.toBe(readNs('self', 'mnt'));
    // Privileged: the node makes its own links.
    expect((await n.exec(['ip', 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1'])).exitCode).toBe(0);
    // Listed in the ledger before creation, labelled in the engine.
    expect(containerEntries('basic').map((e) => [e.node, e.state])).toEqual([
      ['node-1', 'created'],
      ['node-2', 'created'],
    ]);
    const labels = await withEngine(async ({ docker }) => ({
      container: (await docker.getContainer(n.id!).inspect()).Config.Labels,
      volume: (await docker.getVolume(n.volumeName).inspect()).Labels,
      net: (await docker.getContainer(n.id!).inspect()).HostConfig.NetworkMode,
      privileged: (await docker.getContainer(n.id!).inspect()).HostConfig.Privileged,
    }));
    for (const l of [labels.container, labels.volume]) expect(l).toMatchObject({ [LABEL_RUN]: run.runId, [LABEL_CELL]: 'basic', [LABEL_NODE]: 'node-1' });
    expect(labels).toMatchObject({ net: 'none', privileged: true });
    // What podman mounts (its storage, the nodes' root filesystems) stays in the engine's own mount namespace.
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(podmanDir());
    expect(() => c.node('nope')).toThrow(/no node named nope/);
  });

  it('returns failed commands as results (exit code, stderr, timeout, stdin, env, pod netns)', async () => {
    const n = (await up('exec')).node('node-1');
    expect(await n.exec(['sh', '-c', 'echo oops >&2; exit 3'])).toMatchObject({ exitCode: 3, stderr: 'oops\n', timedOut: false });
    const slow = await n.exec(['sleep', '30'], { timeoutMs: 200 });
    expect(slow).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
    expect((await n.exec(['cat'], { stdin: '{"cniVersion":"1.0.0"}' })).stdout).toBe('{"cniVersion":"1.0.0"}');
    expect((await n.exec(['sh', '-c', 'echo "$CNI_COMMAND:$HOME"'], { env: { CNI_COMMAND: 'ADD' } })).stdout).toBe('ADD:\n');
    expect((await n.exec(['/no/such/binary'])).exitCode).not.toBe(0);
    expect(await n.createNetns('pod-x')).toBe('/run/netns/pod-x');
    await n.exec(['ip', 'link', 'add', 'vx-host', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', 'pod-x']);
    const inPod = await n.exec(['ip', '-o', 'link', 'show'], { netns: '/run/netns/pod-x' });
    expect(inPod.stdout).toMatch(/eth0@/);
    expect(inPod.stdout).not.toMatch(/vx-host/);
    expect(await n.listNetns()).toEqual(['pod-x']);
    await n.deleteNetns('pod-x');
    expect(await n.listNetns()).toEqual([]);
    await expect(n.exec(['true'], { netns: '/run/netns/../../etc' })).rejects.toThrow(FaultlineError);
  });

  it('keeps the disk across a power cut (/var, /etc/cni, /etc/containerd) while /run, /tmp and kernel state come back empty', async () => {
    const n = (await up('power')).node('node-1');
    await n.writeFile('/var/lib/cni/networks/cbr0/10.77.0.2', 'c1\r\neth0');
    expect(await n.exec(['sh', '-c', 'echo conf > /etc/cni/net.d/10-x.conflist && echo t > /etc/containerd/config.toml && echo log > /var/log/x.log && mkdir -p /var/lib/containerd/x && echo s > /var/lib/containerd/x/s'])).toMatchObject({ exitCode: 0 });
    await n.writeFile('/run/flannel/subnet.env', 'X=1');
    await n.exec(['sh', '-c', 'echo t > /tmp/t; iptables -t nat -N CNI-TEST; ip link add v0 type veth peer name v1']);
    await n.createNetns('pod-1');
    const firstBoot = n.bootedAtMs!;
    const firstPid = n.holderPid!;

    await n.powerOff();
    expect(n.running).toBe(false);
    expect(n.bootedAtMs).toBeUndefined();
    expect(pidAlive(firstPid)).toBe(false);
    // The disk is there while off (the volume on the host); the volatile roots are not.
    expect((await n.readFile('/var/lib/cni/networks/cbr0/10.77.0.2')).toString()).toBe('c1\r\neth0');
    expect((await n.readFile('/etc/cni/net.d/10-x.conflist')).toString()).toBe('conf\n');
    await n.writeFile('/etc/cni/net.d/20-off.conf', 'written while off');
    await expect(n.readFile('/run/flannel/subnet.env')).rejects.toMatchObject({ code: 'environment' });
    await expect(n.exec(['true'])).rejects.toMatchObject({ code: 'environment' });
    expect(await n.listNetns()).toEqual([]);
    await n.powerOff(); // already off: fine

    await n.powerOn();
    expect(n.bootedAtMs).toBeGreaterThanOrEqual(firstBoot);
    expect(n.holderPid).not.toBe(firstPid);
    expect((await n.exec(['cat', '/etc/cni/net.d/10-x.conflist', '/etc/cni/net.d/20-off.conf', '/etc/containerd/config.toml', '/var/log/x.log', '/var/lib/containerd/x/s', '/var/lib/cni/networks/cbr0/10.77.0.2'])).stdout).toBe(
      'conf\nwritten while offt\nlog\ns\nc1\r\neth0',
    );
    expect(await n.stat('/run/flannel/subnet.env')).toBeUndefined();
    expect((await n.exec(['ls', '-A', '/tmp'])).stdout).toBe('');
    expect(await n.listNetns()).toEqual([]);
    const kernel = await n.exec(['sh', '-c', 'ip -o link | wc -l; iptables-save -t nat | grep -c CNI-TEST']);
    expect(kernel.stdout).toBe('1\n0\n');
    await expect(n.powerOn()).rejects.toThrow(/already running/);
  });

  it('keeps file operations inside the node: no ../, no symlink out, not even an absolute one through /proc/<pid>/root', async () => {
    const n = (await up('paths')).node('node-1');
    await expect(n.readFile('/var/lib/cni/../../../etc/hostname')).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(n.readFile('/etc/hostname')).rejects.toThrow(/outside the node's state/);
    // A link the node makes to /etc: followed on the host it would reach the host's /etc.
    expect((await n.exec(['ln', '-s', '/etc', '/var/lib/cni/evil'])).exitCode).toBe(0);
    await expect(n.readFile('/var/lib/cni/evil/hostname')).rejects.toThrow(/through the symlink \/var\/lib\/cni\/evil/);
    await expect(n.writeFile('/var/lib/cni/evil/x', 'no')).rejects.toMatchObject({ code: 'invalid-input' });
    // Links that stay inside the roots work as in the node.
    expect((await n.exec(['sh', '-c', 'mkdir -p /run/a && echo in > /run/a/f && ln -s /run/a /var/lib/cni/ok'])).exitCode).toBe(0);
    expect((await n.readFile('/var/lib/cni/ok/f')).toString()).toBe('in\n');
    // A daemon's log the node turned into a link out of its state is refused, not written through.
    expect((await n.exec(['ln', '-s', '/etc/hostname', '/var/log/evil.log'])).exitCode).toBe(0);
    const hostname = readFileSync('/etc/hostname', 'utf8');
    await expect(n.startDaemon('evil', ['sleep', '60'])).rejects.toMatchObject({ code: 'invalid-input' });
    expect(readFileSync('/etc/hostname', 'utf8')).toBe(hostname);
  });

  it('runs daemons in the node, logging to its disk; they die with the power', async () => {
    const n = (await up('daemon')).node('node-1');
    const d = await n.startDaemon('ticker', ['sh', '-c', 'echo started; exec sleep 600']);
    expect(d.running).toBe(true);
    // The log appears when the daemon's output does (a missing file just means not yet).
    const logged = () => n.readFile('/var/log/ticker.log').then((b) => b.toString() === 'started\n', () => false);
    expect(await eventually(logged, 30_000)).toBe(true);
    // In the node's own pid namespace: its /proc shows the daemon (once the shell has exec'd sleep).
    const seen = async () => (await n.exec(['sh', '-c', 'cat /proc/[0-9]*/comm 2>/dev/null'])).stdout.split('\n').includes('sleep');
    expect(await eventually(seen, 30_000)).toBe(true);
    await n.powerOff();
    expect(await d.exited).toMatchObject({ signal: 'SIGKILL' });
    expect((await n.readFile('/var/log/ticker.log')).toString()).toBe('started\n');
  });

  it('links nodes through a segment of their own, again after a power cut, with no route out', async () => {
    const c = await up('seg', ['node-1', 'node-2'], ['ext0']);
    const [a, b] = [c.node('node-1'), c.node('node-2')];
    await a.exec(['ip', 'addr', 'add', '192.168.77.1/24', 'dev', 'ext0']);
    await b.exec(['ip', 'addr', 'add', '192.168.77.2/24', 'dev', 'ext0']);
    expect((await a.exec(['ping', '-c1', '-W2', '192.168.77.2'])).exitCode).toBe(0);
    expect((await a.exec(['ip', 'route', 'get', '1.1.1.1'])).exitCode).not.toBe(0); // Network is unreachable
    expect(await c.segments[0]!.ports()).toEqual(['node-1', 'node-2']);
    await a.powerOff();
    await a.powerOn();
    expect((await a.exec(['ip', '-o', 'link', 'show', 'ext0'])).exitCode).toBe(0);
    await a.exec(['ip', 'addr', 'add', '192.168.77.1/24', 'dev', 'ext0']);
    expect((await a.exec(['ping', '-c1', '-W2', '192.168.77.2'])).exitCode).toBe(0);
  });

  it('runs two clusters at once without either seeing the other', async () => {
    const [c1, c2] = await Promise.all([up('twin-a'), up('twin-b')]);
    await c1.node('node-1').writeFile('/var/lib/cni/mine', 'a');
    expect(await c2.node('node-1').stat('/var/lib/cni/mine')).toBeUndefined();
    expect(c1.node('node-1').containerName).not.toBe(c2.node('node-1').containerName);
    expect(readNs(c1.node('node-1').holderPid!, 'net')).not.toBe(readNs(c2.node('node-1').holderPid!, 'net'));
  });

  it('tears down idempotently: no container, volume, cgroup or process of the cell is left', async () => {
    const c = await up('teardown', ['node-1', 'node-2']);
    const nodes = c.nodes as ContainerNode[];
    const pids = nodes.map((n) => n.holderPid!);
    const volumes = nodes.map((n) => n.volumeHostDir!);
    expect(volumes.every((v) => existsSync(v))).toBe(true);
    await c.down();
    await c.down();
    expect(pids.filter(pidAlive)).toEqual([]);
    expect(volumes.filter((v) => existsSync(v))).toEqual([]);
    const left = await withEngine(async ({ docker }) => (await docker.listContainers({ all: true, filters: { label: [`${LABEL_CELL}=teardown`, `${LABEL_RUN}=${run.runId}`] } })).length);
    expect(left).toBe(0);
    expect(containerEntries('teardown').map((e) => e.state)).toEqual(['removed', 'removed']);
  });

  it('the run leaves nothing: not in the engine, the host cgroups, its processes, the host CNI dirs or iptables', async () => {
    for (const c of clusters) await c.down();
    const runId = run.runId;
    await run.release([backend.reaper]);
    expect(await engineInventory(runId)).toEqual({ containers: [], volumes: [], networks: [] });
    expect(runCgroups(runId)).toEqual([]);
    expect(await eventually(() => processesOfContainerRun(runId).length === 0)).toBe(true);
    expect(hostLeftovers(hostBefore, await hostSnapshot(), [runId, 'pod-x', 'pod-1'])).toEqual([]);
    expect(iptablesLeftovers(iptablesBefore, await hostIptables(), [runId])).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(podmanDir());
  });

  it('a later run in the same process, even with another state dir, starts the engine again', async () => {
    const other = await useTempStateDir();
    try {
      run = await createRun();
      const c = await up('again');
      expect((await c.node('node-1').exec(['hostname'])).stdout).toBe('node-1\n');
      await c.down();
      await run.release([backend.reaper]);
    } finally {
      await other.restore();
    }
    run = await createRun(); // afterAll releases it
  });
});

