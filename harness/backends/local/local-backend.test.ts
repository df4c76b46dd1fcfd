// Real namespaces: needs root (as faultline itself does on the local backend).
import { localReaper } from './reaper.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { FaultlineError } from '../../errors.ts';
import { createRun, type Run } from '../../ledger/ledger.ts';
import { LocalBackend, LocalNode, type LocalCluster } from './local-backend.ts';
import { listPids, readNs } from '../../util/procfs.ts';
import { type HostSnapshot, eventually, fakePluginDir, hostLeftovers, hostSnapshot, pidAlive, useTempStateDir } from '../../../testing/host.ts';

let state: Awaited<ReturnType<typeof useTempStateDir>>;
let plugins: string;
let hostBefore: HostSnapshot;
let run: Run;
const backend = new LocalBackend();
const clusters: LocalCluster[] = [];
/** Pod netns names the tests make inside nodes: none may show up on the host. */
const podNetns = new Set<string>();
const made = (name: string) => (podNetns.add(name), name);

async function up(cellId: string, nodeNames = ['node-1']): Promise<LocalCluster> {
  const c = await backend.up({
    runId: run.runId,
    cellId,
    workDir: run.cellDir(cellId),
    nodes: nodeNames.map((name, i) => ({ name, pluginDir: plugins, podSubnet: `10.77.${i}.0/28` })),
  });
  clusters.push(c);
  return c;
}

beforeAll(async () => {
  hostBefore = await hostSnapshot();
  state = await useTempStateDir();
  plugins = await fakePluginDir();
  run = await createRun();
});

afterAll(async () => {
  for (const c of clusters) await c.down().catch(() => {});
  await run?.release([localReaper]);
  await rm(plugins, { recursive: true, force: true });
  await state?.restore();
});

describe('LocalBackend', () => {
  it('finds every prerequisite on this machine', async () => {
    expect((await backend.check()).filter((c) => !c.ok)).toEqual([]);
  });

  it('refuses a cluster for a run this process has no ledger for', async () => {
    await expect(
      backend.up({ runId: 'fl-20200101-000000-abcdef', cellId: 'x', workDir: join(state.dir, 'x'), nodes: [] }),
    ).rejects.toThrow(/no ledger for run/);
  });

  it('brings nodes up with their own hostname, network and plugin dir, listed in the ledger', async () => {
    const t0 = Date.now();
    const c = await up('basic', ['node-1', 'node-2']);
    const n = c.node('node-1');
    expect(n.running).toBe(true);
    expect(n.bootedAtMs).toBeGreaterThanOrEqual(t0);
    expect(n.bootedAtMs).toBeLessThanOrEqual(Date.now());
    const r = await n.exec(['sh', '-c', 'hostname; ip -o link | wc -l; ls /opt/cni/bin; /opt/cni/bin/fake-plugin']);
    expect(r).toMatchObject({ exitCode: 0, timedOut: false, stderr: '' });
    expect(r.stdout).toBe('node-1\n1\nfake-plugin\nfake-plugin \n');
    expect((await c.node('node-2').exec(['hostname'])).stdout).toBe('node-2\n');
    // Every holder is in the ledger with its pid, and its mounts carry the run id.
    const holders = run.resources().filter((e) => e.kind === 'holder' && e.state === 'running');
    expect(holders.map((h) => (h.kind === 'holder' ? h.pid : 0))).toEqual(expect.arrayContaining([n.holderPid]));
    const mounts = await readFile(`/proc/${n.holderPid}/mountinfo`, 'utf8');
    expect(mounts).toContain(` tmpfs faultline.${run.runId}.`);
    expect(() => c.node('nope')).toThrow(/no node named nope/);
  });

  it('reports a holder that fails to set up, with its log, and leaves nothing running', async () => {
    const n = (await up('broken')).node('node-1');
    await n.powerOff();
    // Overlay refuses an upper dir on another filesystem than its work dir.
    const elsewhere = await mkdtemp('/dev/shm/faultline-test-');
    try {
      await rm(join(n.nodeDir, '.ovl/etc-up'), { recursive: true });
      await symlink(elsewhere, join(n.nodeDir, '.ovl/etc-up'));
      const err = await n.powerOn().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(FaultlineError);
      expect(err).toMatchObject({ code: 'environment', message: expect.stringMatching(/node node-1: the namespace holder exited .* while setting up:\n.*mount/s) });
      expect((err as FaultlineError).hint).toContain(join(n.nodeDir, 'holder.log'));
      expect(n.running).toBe(false);
      const last = run.resources().filter((r) => r.kind === 'holder' && r.nodeDir === n.nodeDir).at(-1);
      expect(last).toMatchObject({ state: 'stopped' });
      expect(pidAlive((last as unknown as { pid: number }).pid)).toBe(false);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('gives up on a holder that is not ready in time', async () => {
    const slow = new LocalBackend({ readyTimeoutMs: 1 });
    await expect(
      slow.up({ runId: run.runId, cellId: 'slow', workDir: run.cellDir('slow'), nodes: [{ name: 'node-1', pluginDir: plugins, podSubnet: '10.77.9.0/28' }] }),
    ).rejects.toThrow(/node node-1: the namespace holder was not ready within 1 ms/);
    const holders = run.resources().filter((r) => r.kind === 'holder' && r.cellId === 'slow');
    expect(holders).toHaveLength(1);
    expect(pidAlive((holders[0] as unknown as { pid: number }).pid)).toBe(false);
  });

  it('validates the spec before creating anything', async () => {
    const spec = (nodes: { name: string; pluginDir: string }[]) => ({ runId: run.runId, cellId: 'v', workDir: run.cellDir('v'), nodes: nodes.map((n) => ({ ...n, podSubnet: '10.0.0.0/28' })) });
    await expect(backend.up(spec([{ name: 'Node_1', pluginDir: plugins }]))).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(backend.up(spec([{ name: 'a', pluginDir: plugins }, { name: 'a', pluginDir: plugins }]))).rejects.toThrow(/appears twice/);
    await expect(backend.up(spec([{ name: 'a', pluginDir: '/nonexistent/plugins' }]))).rejects.toThrow(/plugin dir \/nonexistent\/plugins/);
    await expect(backend.up({ ...spec([{ name: 'a', pluginDir: plugins }]), workDir: '/tmp/elsewhere' })).rejects.toThrow(/not inside the run's dir/);
    expect(existsSync(run.cellDir('v'))).toBe(false);
    expect(existsSync('/tmp/elsewhere')).toBe(false);
  });

  it('returns failed commands as results (exit code, stderr, timeout, stdin, env)', async () => {
    const n = (await up('exec')).node('node-1');
    expect(await n.exec(['sh', '-c', 'echo oops >&2; exit 3'])).toMatchObject({ exitCode: 3, stderr: 'oops\n', timedOut: false });
    const slow = await n.exec(['sleep', '30'], { timeoutMs: 200 });
    expect(slow.timedOut).toBe(true);
    expect(slow.signal).toBe('SIGKILL');
    expect((await n.exec(['cat'], { stdin: '{"cniVersion":"1.0.0"}' })).stdout).toBe('{"cniVersion":"1.0.0"}');
    expect((await n.exec(['sh', '-c', 'echo "$CNI_COMMAND:$HOME"'], { env: { CNI_COMMAND: 'ADD' } })).stdout).toBe('ADD:\n');
    const missing = await n.exec(['/no/such/binary']);
    expect(missing.exitCode).not.toBe(0);
    // Inside a pod netns: only that namespace's links.
    await n.createNetns(made('pod-x'));
    await n.exec(['ip', 'link', 'add', 'vx-host', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', 'pod-x']);
    const inPod = await n.exec(['ip', '-o', 'link', 'show'], { netns: '/run/netns/pod-x' });
    expect(inPod.stdout).toMatch(/eth0@/);
    expect(inPod.stdout).not.toMatch(/vx-host/);
    expect((await n.exec(['ip', '-o', 'link', 'show'])).stdout).toMatch(/vx-host@/);
    await expect(n.exec(['true'], { netns: '/run/netns/../../etc' })).rejects.toThrow(FaultlineError);
  });

  it('keeps the disk across a power cut while /run and /tmp come back empty', async () => {
    const n = (await up('power')).node('node-1');
    await n.writeFile('/var/lib/cni/networks/cbr0/10.77.0.2', 'c1\r\neth0');
    expect(await n.exec(['sh', '-c', 'echo conf > /etc/cni/net.d/10-x.conflist && echo log > /var/log/x.log'])).toMatchObject({ exitCode: 0 });
    await n.writeFile('/run/flannel/subnet.env', 'X=1');
    await n.exec(['sh', '-c', 'echo t > /tmp/t']);
    await n.createNetns(made('pod-1'));
    const firstBoot = n.bootedAtMs;
    const firstPid = n.holderPid!;

    await n.powerOff();
    expect(n.running).toBe(false);
    expect(n.bootedAtMs).toBeUndefined();
    expect(pidAlive(firstPid)).toBe(false);
    // The disk is readable while off; the volatile roots are not.
    expect((await n.readFile('/var/lib/cni/networks/cbr0/10.77.0.2')).toString()).toBe('c1\r\neth0');
    await expect(n.readFile('/run/flannel/subnet.env')).rejects.toMatchObject({ code: 'environment' });
    await expect(n.exec(['true'])).rejects.toMatchObject({ code: 'environment' });
    expect(await n.listNetns()).toEqual([]);
    await n.powerOff(); // already off: fine

    await n.powerOn();
    expect(n.bootedAtMs).toBeGreaterThanOrEqual(firstBoot!);
    expect(n.holderPid).not.toBe(firstPid);
    expect((await n.exec(['cat', '/etc/cni/net.d/10-x.conflist', '/var/log/x.log', '/var/lib/cni/networks/cbr0/10.77.0.2'])).stdout).toBe(
      'conf\nlog\nc1\r\neth0',
    );
    expect(await n.stat('/run/flannel/subnet.env')).toBeUndefined();
    expect(await n.list('/tmp')).toEqual([]);
    expect(await n.listNetns()).toEqual([]);
    await expect(n.powerOn()).rejects.toThrow(/already running/);
  });

  it('takes a pod netns and its veth with it on power off', async () => {
    const n = (await up('veth')).node('node-1');
    // An observer namespace outside the node holds the veth's peer, so its death can be seen.
    const observer: ResultPromise = execa('setpriv', ['--pdeathsig', 'KILL', '--', 'unshare', '--net', '--', 'sleep', '300'], { reject: false });
    try {
      // Wait until unshare has exec'd sleep in the new namespace.
      expect(await eventually(() => readNs(observer.pid!, 'net') !== undefined && readNs(observer.pid!, 'net') !== readNs('self', 'net'))).toBe(true);
      const observerLinks = async () =>
        (await execa('nsenter', ['-t', String(observer.pid), '-n', '--', 'ip', '-o', 'link', 'show'])).stdout;
      expect(await n.createNetns(made('pod-v'))).toBe('/run/netns/pod-v');
      expect(await n.listNetns()).toEqual(['pod-v']);
      const add = await n.exec(['ip', 'link', 'add', 'fl-probe', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', 'pod-v']);
      expect(add.exitCode).toBe(0);
      // From the host's pid namespace (the node's own cannot see the observer's pid), in the node's network.
      const move = await execa('nsenter', ['-t', String((n as LocalNode).holderPid), '-n', '--', 'ip', 'link', 'set', 'fl-probe', 'netns', String(observer.pid)], { reject: false });
      expect(move).toMatchObject({ exitCode: 0 });
      expect(await observerLinks()).toContain('fl-probe@');

      await n.powerOff();
      expect(await eventually(async () => !(await observerLinks()).includes('fl-probe'))).toBe(true);
    } finally {
      observer.kill('SIGKILL');
      await observer;
    }
  });

  it('kills every process inside the node on power off, also under ip netns exec', async () => {
    const n = (await up('strays')).node('node-1') as LocalNode;
    await n.createNetns(made('pod-s'));
    // Commands run in the node's own pid namespace: find the strays by it from the host.
    const pidns = readlinkSync(`/proc/${n.holderPid}/ns/pid_for_children`);
    const inNode = () => listPids().filter((pid) => { try { return readlinkSync(`/proc/${pid}/ns/pid`) === pidns && pidAlive(pid); } catch { return false; } });
    const sleepers = () => inNode().filter((pid) => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sleep\0' + '600\0'; } catch { return false; } });
    await n.exec(['sh', '-c', 'setsid sleep 600 </dev/null >/dev/null 2>&1 &']);
    await n.exec(['sh', '-c', 'setsid ip netns exec pod-s sleep 600 </dev/null >/dev/null 2>&1 &']);
    expect(await eventually(() => sleepers().length === 2)).toBe(true);
    const strays = sleepers();
    await n.powerOff();
    expect(strays.filter(pidAlive)).toEqual([]);
    expect(inNode()).toEqual([]);
  });

  it('confines file paths to the node state', async () => {
    const c = await up('paths');
    const n = c.node('node-1');
    const bad = ['/etc/passwd', '/var/lib/dpkg/status', '/opt/cni/bin/bridge', '/var/lib/cnix/a', 'var/lib/cni/a', '/var/lib/cni/../../../etc/shadow', ''];
    for (const p of bad) {
      await expect(n.readFile(p), p).rejects.toMatchObject({ code: 'invalid-input' });
      await expect(n.writeFile(p, 'x'), p).rejects.toMatchObject({ code: 'invalid-input' });
    }
    await expect(n.readFile('/etc/passwd')).rejects.toThrow("path /etc/passwd is outside the node's state (allowed: /var/lib/cni, /etc/cni, /var/log, /var/lib/containerd, /etc/containerd, /run, /tmp)");
    await expect(n.readFile('/var/lib/cni/../x')).rejects.toThrow(/contains '\.\.'/);
    await expect(n.removeFile('/var/lib/cni')).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(n.glob('/usr/*')).rejects.toMatchObject({ code: 'invalid-input' });

    // Inside the roots: every operation, with node paths in errors.
    await n.writeFile('/var/lib/cni/results/a', 'abcdef', 0o600);
    expect(await n.stat('/var/lib/cni/results/a')).toMatchObject({ size: 6, isDirectory: false });
    expect((await stat(join(n.nodeDir, 'disk/var/lib/cni/results/a'))).mode & 0o777).toBe(0o600);
    await n.truncateFile('/var/lib/cni/results/a', 2);
    expect((await n.readFile('/var/lib/cni/results/a')).toString()).toBe('ab');
    await n.truncateFile('/var/lib/cni/results/a', 0);
    expect((await n.readFile('/var/lib/cni/results/a')).length).toBe(0);
    await expect(n.readFile('/var/lib/cni/nope')).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringContaining('/var/lib/cni/nope') });
    expect(await n.list('/var/lib/cni')).toEqual(['results']);
    expect(await n.list('/var/lib/cni/none')).toEqual([]);
    await n.removeFile('/var/lib/cni/results');
    await n.removeFile('/var/lib/cni/results'); // already gone: fine
    expect(await n.list('/var/lib/cni')).toEqual([]);
    // What a node writes is where file ops look, and the other way round.
    await n.exec(['sh', '-c', 'mkdir -p /run/x && echo hi > /run/x/y']);
    expect((await n.readFile('/run/x/y')).toString()).toBe('hi\n');
    await n.writeFile('/tmp/z', 'zz');
    expect((await n.exec(['cat', '/tmp/z'])).stdout).toBe('zz');
  });

  it('refuses FIFOs and other special files without blocking, and reads at most maxBytes', async () => {
    const c = await up('special');
    const n = c.node('node-1');
    await execa('mkfifo', [join(n.nodeDir, 'disk/var/lib/cni/fifo')]);
    // A FIFO in the node: stat says so; read, write and truncate refuse it instead of waiting for a peer.
    expect(await n.stat('/var/lib/cni/fifo')).toMatchObject({ isDirectory: false, isFile: false });
    await expect(n.readFile('/var/lib/cni/fifo')).rejects.toThrow('/var/lib/cni/fifo on node-1 is a FIFO (named pipe), not a regular file');
    await expect(n.writeFile('/var/lib/cni/fifo', 'x')).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(n.truncateFile('/var/lib/cni/fifo', 0)).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(n.readFile('/var/lib/cni')).rejects.toThrow('/var/lib/cni on node-1 is a directory, not a regular file');
    await n.writeFile('/var/lib/cni/big', 'abcdef');
    expect((await n.readFile('/var/lib/cni/big', { maxBytes: 4 })).toString()).toBe('abcd');
    expect((await n.readFile('/var/lib/cni/big', { maxBytes: 100 })).toString()).toBe('abcdef');
    expect(await n.stat('/var/lib/cni/big')).toMatchObject({ isFile: true });
  });

  it('follows symlinks only while they stay inside the node state', async () => {
    const n = (await up('links')).node('node-1');
    const disk = join(n.nodeDir, 'disk');
    await mkdir(join(disk, 'var/lib/cni/networks'), { recursive: true });
    await writeFile(join(disk, 'etc/cni/real'), 'inside');
    await symlink('/etc/cni/real', join(disk, 'var/lib/cni/abs-in'));
    await symlink('../../../../etc/cni/real', join(disk, 'var/lib/cni/networks/rel-in'));
    await symlink('/etc/passwd', join(disk, 'var/lib/cni/abs-out'));
    await symlink('../../../../../../../../etc', join(disk, 'var/lib/cni/rel-out'));
    await symlink('/', join(disk, 'var/log/root'));
    expect((await n.readFile('/var/lib/cni/abs-in')).toString()).toBe('inside');
    expect((await n.readFile('/var/lib/cni/networks/rel-in')).toString()).toBe('inside');
    await expect(n.readFile('/var/lib/cni/abs-out')).rejects.toThrow(/outside the node's state \(through the symlink \/var\/lib\/cni\/abs-out\)/);
    await expect(n.readFile('/var/lib/cni/rel-out/passwd')).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(n.writeFile('/var/log/root/etc/evil', 'x')).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(n.stat('/var/log/root/etc/passwd')).rejects.toMatchObject({ code: 'invalid-input' });
    // Removing a link removes the link, never its target.
    await n.removeFile('/var/lib/cni/abs-out');
    expect(existsSync('/etc/passwd')).toBe(true);
    expect(existsSync(join(disk, 'var/lib/cni/abs-out'))).toBe(false);
  });

  it('globs with * and ? over the roots, sorted', async () => {
    const n = (await up('glob')).node('node-1');
    for (const f of ['networks/cbr0/10.0.0.3', 'networks/cbr0/10.0.0.2', 'networks/cbr0/last_reserved_ip.0', 'networks/cbr0/lock', 'networks/other/10.1.0.9', 'networks/.hidden/10.2.0.1']) {
      await n.writeFile(`/var/lib/cni/${f}`, 'x');
    }
    expect(await n.glob('/var/lib/cni/networks/*/10.*')).toEqual([
      '/var/lib/cni/networks/cbr0/10.0.0.2',
      '/var/lib/cni/networks/cbr0/10.0.0.3',
      '/var/lib/cni/networks/other/10.1.0.9',
    ]);
    expect(await n.glob('/var/lib/cni/networks/cbr0/10.0.0.?')).toEqual(['/var/lib/cni/networks/cbr0/10.0.0.2', '/var/lib/cni/networks/cbr0/10.0.0.3']);
    expect(await n.glob('/var/lib/cni/networks/.hidden/*')).toEqual(['/var/lib/cni/networks/.hidden/10.2.0.1']);
    expect(await n.glob('/var/lib/cni/networks/cbr0/lock')).toEqual(['/var/lib/cni/networks/cbr0/lock']);
    expect(await n.glob('/var/lib/cni/networks/cbr0/nope*')).toEqual([]);
    await n.writeFile('/run/a.env', 'x');
    await n.writeFile('/tmp/b.env', 'x');
    expect(await n.glob('/*/*.env')).toEqual(['/run/a.env', '/tmp/b.env']);
    await n.powerOff();
    expect(await n.glob('/var/lib/cni/networks/other/*')).toEqual(['/var/lib/cni/networks/other/10.1.0.9']);
    await expect(n.glob('/run/*')).rejects.toMatchObject({ code: 'environment' });
  });

  it("keeps the host's system read-only from inside a node", async () => {
    const n = (await up('readonly')).node('node-1');
    const canaryDir = await mkdtemp('/var/tmp/faultline-canary-');
    try {
      await writeFile(join(canaryDir, 'keep'), 'keep');
      const rmr = await n.exec(['rm', '-rf', canaryDir]);
      expect(rmr.exitCode).not.toBe(0);
      expect(rmr.stderr).toMatch(/Read-only file system/);
      expect(await readFile(join(canaryDir, 'keep'), 'utf8')).toBe('keep');
      for (const cmd of ['touch /usr/faultline-x', 'touch /root/faultline-x', 'touch /dev/faultline-x', 'echo 1 > /proc/sys/kernel/panic_on_oops']) {
        expect((await n.exec(['sh', '-c', cmd])).exitCode, cmd).not.toBe(0);
      }
      expect(existsSync('/usr/faultline-x')).toBe(false);
      // What the node must write still works, and stays in the node.
      const ok = await n.exec(['sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward && iptables -t nat -N FL-PROBE && touch /etc/fl-probe /var/lib/fl-probe /opt/fl-probe']);
      expect(ok).toMatchObject({ exitCode: 0 });
      expect(existsSync('/etc/fl-probe') || existsSync('/var/lib/fl-probe') || existsSync('/opt/fl-probe')).toBe(false);
      expect((await execa('iptables', ['-t', 'nat', '-S'])).stdout).not.toContain('FL-PROBE');
    } finally {
      await rm(canaryDir, { recursive: true, force: true });
    }
  });

  it('runs two clusters at once without either seeing the other', async () => {
    const a = (await up('iso-a')).node('node-1');
    const b = (await up('iso-b')).node('node-1');
    await a.writeFile('/var/lib/cni/networks/n/10.0.0.5', 'a');
    await a.writeFile('/run/a-only', 'a');
    await a.createNetns(made('pod-a'));
    await b.createNetns(made('pod-b'));
    expect(await a.listNetns()).toEqual(['pod-a']);
    expect(await b.listNetns()).toEqual(['pod-b']);
    expect(await b.glob('/var/lib/cni/*/*/*')).toEqual([]);
    expect(await b.stat('/run/a-only')).toBeUndefined();
    expect((await b.exec(['sh', '-c', 'ls /var/lib/cni /run/netns; ip netns list'])).stdout).toBe('/run/netns:\npod-b\n\n/var/lib/cni:\npod-b\n');
    await a.powerOff();
    expect(b.running).toBe(true);
    expect(await b.listNetns()).toEqual(['pod-b']);
  });

  it('tears down idempotently and leaves nothing of the run in the host CNI dirs or netns', async () => {
    for (const c of clusters.splice(0)) {
      await c[Symbol.asyncDispose]();
      await c.down();
      expect(c.nodes.every((n) => !n.running)).toBe(true);
    }
    const holders = run.resources().flatMap((r) => (r.kind === 'holder' && typeof r.pid === 'number' ? [r.pid] : []));
    expect(holders.length).toBeGreaterThan(5);
    expect(holders.filter(pidAlive)).toEqual([]);
    const workDir = run.workDir;
    expect(existsSync(join(workDir, 'ledger.json'))).toBe(true); // down keeps the disk
    await run.release([localReaper]);
    expect(existsSync(workDir)).toBe(false);
    // Nothing on the host carries the run's id or the names of the pod netns made in its nodes.
    expect(podNetns.size).toBeGreaterThan(0);
    expect(hostLeftovers(hostBefore, await hostSnapshot(), [run.runId, ...podNetns])).toEqual([]);
  });
});
