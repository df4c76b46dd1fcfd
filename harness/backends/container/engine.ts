// The container engine node containers run on: a Docker-API engine the user has (DOCKER_HOST, or the
// default socket), else Podman from Debian started by faultline as a private API service. The private
// service reads only faultline's own containers.conf and storage.conf (CONTAINERS_CONF,
// CONTAINERS_STORAGE_CONF), so it never touches the host's container or CNI state: CNI network
// backend with a private config dir (netavark would create /run/containers/networks), runc through a
// wrapper that moves runc's state out of /run/runc, file locks instead of /dev/shm/libpod_lock,
// ulimits within the host's hard limits (podman asks for more and runc fails), a short
// exit_command_delay (conmon lingers otherwise), and its own mount namespace (its mounts stay off the
// host's table). One service per faultline process, on its own socket beside the storage
// every process of this user shares (the image cache); it dies with the process (parent-death
// signal). Starting one takes a tenth of a second or so: no sharing between runs is needed.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import type Dockerode from 'dockerode';
import { FaultlineError, errorMessage } from '../../errors.ts';
import { SBIN_DIRS, findBinary } from '../../util/which.ts';
import { type ProcessIdentity, isSameProcessAlive, readBootId, readStartTime } from '../../util/procfs.ts';
import { withLock } from '../../cni-versions/cache.ts';
import { podmanDir } from './dirs.ts';

/** PATH of the engine's own processes (podman, conmon, the exit command). */
const ENGINE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** The default socket of a Docker engine. */
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
/** Longest path a unix socket may have (sun_path, with its NUL). */
const MAX_SOCKET_PATH = 107;

/** Which engine a run would use, decided from the environment and the host. */
export type EnginePlan =
  | { kind: 'external'; socketPath: string; source: string }
  | { kind: 'private-podman'; podman: string; runc: string; conmon: string; dir: string }
  | { kind: 'none'; reason: string; fix: string };

/** A Docker-API engine faultline talks to. */
export interface ContainerEngine {
  readonly socketPath: string;
  /** True for the podman service faultline started itself. */
  readonly private: boolean;
  /** Which engine answers: they differ in a few options (podman's notmpcopyup). */
  readonly flavor: 'podman' | 'docker';
  /** e.g. "podman 4.3.1 (private service, started by faultline)". */
  readonly description: string;
  readonly docker: Dockerode;
  /** CgroupParent takes a cgroupfs path (/faultline-container/...); false with systemd's driver. */
  readonly cgroupfs: boolean;
  /** For the private service: the podman CLI on the same storage, with the same configs. */
  readonly podmanCli?: { bin: string; env: Record<string, string>; args: readonly string[] };
  /** For the private service: its dir (configs, storage, run state). */
  readonly dir?: string;
  /** False once a private service has stopped or died (an external engine is taken as it is). */
  readonly alive: boolean;
  /** Stops the engine if faultline started it; an external engine is left alone. */
  stop(): Promise<void>;
}

/** The unix socket a DOCKER_HOST names, or undefined for another scheme. */
export function socketOf(dockerHost: string): string | undefined {
  return dockerHost.startsWith('unix://') ? dockerHost.slice('unix://'.length) : undefined;
}

/** GET /_ping on a Docker-API unix socket. */
export function pingSocket(socketPath: string, timeoutMs = 3000): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ ok: res.statusCode === 200, detail: `HTTP ${res.statusCode} ${body.trim().slice(0, 40)}` }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => resolve({ ok: false, detail: e.message }));
    req.end();
  });
}

/**
 * The engine to use: DOCKER_HOST when set (it must answer: the user chose it), else a Docker engine
 * on the default socket, else the private podman when podman, runc and conmon are installed.
 */
export async function planEngine(env: NodeJS.ProcessEnv = process.env, opts: { extraDirs?: readonly string[]; defaultSocket?: string } = {}): Promise<EnginePlan> {
  const defaultSocket = opts.defaultSocket ?? DEFAULT_DOCKER_SOCKET;
  const dockerHost = env.DOCKER_HOST;
  if (dockerHost) {
    const socketPath = socketOf(dockerHost);
    if (!socketPath) {
      return { kind: 'none', reason: `DOCKER_HOST=${dockerHost} is not a unix socket: node containers must run on this host`, fix: 'point DOCKER_HOST at a local engine (unix:///var/run/docker.sock), or unset it to let faultline start podman' };
    }
    const p = await pingSocket(socketPath);
    if (p.ok) return { kind: 'external', socketPath, source: 'DOCKER_HOST' };
    return { kind: 'none', reason: `DOCKER_HOST=${dockerHost} does not answer: ${p.detail}`, fix: 'start that engine, or unset DOCKER_HOST to let faultline start podman' };
  }
  if (existsSync(defaultSocket)) {
    const p = await pingSocket(defaultSocket);
    if (p.ok) return { kind: 'external', socketPath: defaultSocket, source: 'the default socket' };
  }
  return planPrivatePodman(env, opts.extraDirs, defaultSocket);
}

/** The private podman when podman, runc and conmon are installed. */
export function planPrivatePodman(env: NodeJS.ProcessEnv = process.env, extraDirs?: readonly string[], defaultSocket = DEFAULT_DOCKER_SOCKET): EnginePlan {
  const podman = findBinary('podman', env, extraDirs);
  const runc = findBinary('runc', env, extraDirs);
  // Some distributions keep conmon in podman's libexec dir.
  const conmon = findBinary('conmon', env, extraDirs ?? [...SBIN_DIRS, '/usr/libexec/podman']);
  const missing = [!podman && 'podman', !runc && 'runc', !conmon && 'conmon'].filter((x): x is string => typeof x === 'string');
  if (podman && runc && conmon) return { kind: 'private-podman', podman, runc, conmon, dir: podmanDir(env) };
  return {
    kind: 'none',
    reason: `no Docker-API engine (DOCKER_HOST unset, nothing answers on ${defaultSocket}) and ${missing.join(', ')} not installed to start podman`,
    fix: `${PODMAN_INSTALL} (or start a Docker engine)`,
  };
}

/**
 * Installs podman without the conflist its Debian package ships in /etc/cni/net.d (host CNI state):
 * dpkg skips the excluded paths.
 */
export const PODMAN_INSTALL = 'apt-get install -o Dpkg::Options::=--path-exclude=/etc/cni -o Dpkg::Options::=--path-exclude=/etc/cni/* podman runc catatonit';

// ---- the private podman ----

/** The hard limit of a resource for this process (/proc/self/limits), or undefined. */
function hardLimit(name: string): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name));
    const hard = line?.slice(name.length).trim().split(/\s+/)[1];
    return hard === 'unlimited' ? Infinity : Number(hard) || undefined;
  } catch {
    return undefined;
  }
}

/** TOML basic string. */
const q = (s: string) => JSON.stringify(s);

/** The private podman's containers.conf. */
export function containersConf(dir: string, runcWrapper: string): string {
  // runc cannot raise a limit above the hard limit without CAP_SYS_RESOURCE: stay within it.
  const nofile = Math.min(hardLimit('Max open files') ?? 1024, 1_048_576);
  const nproc = Math.min(hardLimit('Max processes') ?? 4096, 32_768);
  return [
    '# faultline: the private podman service (read through CONTAINERS_CONF only).',
    '[containers]',
    `default_ulimits = [${q(`nofile=${nofile}:${nofile}`)}, ${q(`nproc=${nproc}:${nproc}`)}]`,
    'cgroupns = "private"',
    'log_driver = "k8s-file"',
    '',
    '[network]',
    '# Node containers use network none; the CNI backend with a private dir touches no host path.',
    'network_backend = "cni"',
    `network_config_dir = ${q(join(dir, 'networks'))}`,
    '',
    '[engine]',
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    'exit_command_delay = 5',
    'lock_type = "file"',
    'events_logger = "none"',
    `conmon_env_vars = [${q(`PATH=${ENGINE_PATH}`)}, ${q(`CONTAINERS_CONF=${join(dir, 'containers.conf')}`)}, ${q(`CONTAINERS_STORAGE_CONF=${join(dir, 'storage.conf')}`)}]`,
    `tmp_dir = ${q(join(dir, 'run', 'libpod'))}`,
    `static_dir = ${q(join(dir, 'storage', 'libpod'))}`,
    `volume_path = ${q(join(dir, 'storage', 'volumes'))}`,
    `image_copy_tmp_dir = ${q(join(dir, 'tmp'))}`,
    '',
    '[engine.runtimes]',
    `runc = [${q(runcWrapper)}]`,
    '',
  ].join('\n');
}

export function storageConf(dir: string): string {
  return ['[storage]', 'driver = "overlay"', `graphroot = ${q(join(dir, 'storage'))}`, `runroot = ${q(join(dir, 'run', 'storage'))}`, '', '[storage.options.overlay]', 'mountopt = "nodev"', ''].join('\n');
}

/** runc with its state under the private dir instead of /run/runc (the exit command needs it too). */
export function runcWrapper(runc: string, dir: string): string {
  const root = join(dir, 'run', 'runc');
  if (/['\n]/.test(runc + root)) throw new FaultlineError('environment', `cannot write a runc wrapper for paths with quotes: ${root}`);
  return `#!/bin/sh\nexec '${runc}' --root '${root}' "$@"\n`;
}

/** Writes a file when its content differs. */
function writeIfChanged(path: string, text: string, mode: number): void {
  try {
    if (readFileSync(path, 'utf8') === text) return;
  } catch {
    /* missing */
  }
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  // A podman process reading the file sees the old or the new one, never half.
  renameSync(tmp, path);
}

/** The environment every podman process on the private storage runs with. */
export function podmanEnv(dir: string): Record<string, string> {
  return { PATH: ENGINE_PATH, HOME: dir, CONTAINERS_CONF: join(dir, 'containers.conf'), CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'), TMPDIR: join(dir, 'tmp') };
}

/** Global podman flags; every podman process on this storage uses the same. */
export const PODMAN_ARGS = ['--runtime', 'runc', '--cgroup-manager', 'cgroupfs'] as const;

/**
 * Writes the configs and, after a reboot, drops the run state (podman would believe containers of the
 * last boot still run: its reboot marker lives in tmp_dir, which is on disk here). Under a lock.
 */
async function preparePodmanDir(plan: Extract<EnginePlan, { kind: 'private-podman' }>, signal?: AbortSignal): Promise<void> {
  const dir = plan.dir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await withLock(dir, 'setup', signal, async () => {
    for (const d of ['bin', 'tmp', 'networks', 'storage', 'run']) mkdirSync(join(dir, d), { recursive: true, mode: 0o700 });
    writeIfChanged(join(dir, 'bin', 'runc'), runcWrapper(plan.runc, dir), 0o755);
    writeIfChanged(join(dir, 'containers.conf'), containersConf(dir, join(dir, 'bin', 'runc')), 0o644);
    writeIfChanged(join(dir, 'storage.conf'), storageConf(dir), 0o644);
    const bootFile = join(dir, 'boot-id');
    const boot = readBootId();
    let last = '';
    try {
      last = readFileSync(bootFile, 'utf8').trim();
    } catch {
      /* first use */
    }
    if (last !== boot) {
      rmSync(join(dir, 'run'), { recursive: true, force: true });
      mkdirSync(join(dir, 'run'), { recursive: true, mode: 0o700 });
      writeFileSync(bootFile, boot + '\n');
    }
  });
}

/**
 * Removes the sockets (and start-up logs) of services whose process (named in the file name) is gone:
 * a faultline process killed while its service ran, or while it was starting.
 */
function removeStale(dir: string, pattern: RegExp): void {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = pattern.exec(n);
    if (m && !isSameProcessAlive({ pid: Number(m[1]), startTime: Number(m[2]) })) rmSync(join(dir, n), { force: true });
  }
}

class PrivatePodman implements ContainerEngine {
  readonly private = true;
  readonly flavor = 'podman';
  readonly cgroupfs = true;
  readonly docker: Dockerode;
  readonly podmanCli: ContainerEngine['podmanCli'];
  readonly dir: string;
  private stopped = false;

  constructor(
    readonly socketPath: string,
    readonly description: string,
    private readonly service: ResultPromise,
    private readonly identity: ProcessIdentity,
    plan: Extract<EnginePlan, { kind: 'private-podman' }>,
    docker: Dockerode,
  ) {
    this.docker = docker;
    this.podmanCli = { bin: plan.podman, env: podmanEnv(plan.dir), args: PODMAN_ARGS };
    this.dir = plan.dir;
  }

  get alive(): boolean {
    return !this.stopped && isSameProcessAlive(this.identity);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // SIGTERM: the service exits at once; containers (children of conmon) are not touched.
    if (isSameProcessAlive(this.identity)) this.service.kill('SIGTERM');
    const done = await Promise.race([this.service.then(() => true), sleep(10_000, undefined, { ref: false }).then(() => false)]);
    if (!done) {
      this.service.kill('SIGKILL');
      await this.service;
    }
    rmSync(this.socketPath, { force: true });
  }
}

/** Starts the private podman service on `socketPath`; resolves once it answers /_ping. */
export async function startPrivatePodman(
  plan: Extract<EnginePlan, { kind: 'private-podman' }>,
  opts: {
    socketPath?: string;
    /** `reaper`: a service of its own for gc, beside the one this process's nodes may use. */
    purpose?: 'podman' | 'reaper';
    signal?: AbortSignal;
    readyTimeoutMs?: number;
  } = {},
): Promise<PrivatePodman> {
  await preparePodmanDir(plan, opts.signal);
  // Beside the storage it serves, not in the state dir: testcontainers binds a process to one socket
  // for good, and a process may change its state dir between runs (tests do).
  const sockDir = join(plan.dir, 'run', 'sockets');
  mkdirSync(sockDir, { recursive: true, mode: 0o700 });
  removeStale(sockDir, /^(?:podman|reaper)-(\d+)-(\d+)\.sock$/);
  removeStale(join(plan.dir, 'run'), /^service-(?:podman|reaper)-(\d+)-(\d+)\.sock\.log$/);
  const socketPath = opts.socketPath ?? join(sockDir, `${opts.purpose ?? 'podman'}-${process.pid}-${readStartTime(process.pid) ?? 0}.sock`);
  if (socketPath.length > MAX_SOCKET_PATH) {
    throw new FaultlineError('environment', `the engine socket path ${socketPath} is longer than a unix socket path may be (${MAX_SOCKET_PATH})`, {
      hint: 'set FAULTLINE_CONTAINER_DIR to a shorter directory',
    });
  }
  rmSync(socketPath, { force: true });
  const log = join(plan.dir, 'run', `service-${basename(socketPath)}.log`);
  // The parent-death signal ends the service with this process, however it ends; its own process
  // group keeps a terminal's Ctrl-C away from it while faultline tears the nodes down. Its own mount
  // namespace keeps what podman mounts (its storage, the containers' root filesystems) off the host's
  // mount table: it all goes with the service and its containers.
  const service = execa('setpriv', ['--pdeathsig', 'TERM', '--', 'unshare', '--mount', '--propagation', 'private', '--', plan.podman, ...PODMAN_ARGS, 'system', 'service', '--time=0', `unix://${socketPath}`], {
    env: podmanEnv(plan.dir),
    extendEnv: false,
    detached: true,
    stdin: 'ignore',
    stdout: { file: log },
    stderr: { file: log },
    reject: false,
  });
  const pid = service.pid;
  const startTime = pid === undefined ? undefined : readStartTime(pid);
  if (pid === undefined || startTime === undefined) {
    const r = await service;
    throw new FaultlineError('environment', `cannot start podman: ${r.shortMessage ?? r.stderr}`, { hint: "run 'faultline doctor'" });
  }
  let exited = false;
  void service.then(() => (exited = true));
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    if (exited) {
      const tail = readTail(log);
      throw new FaultlineError('environment', `the podman service exited while starting:\n${tail}`, { hint: `full log: ${log}` });
    }
    if (existsSync(socketPath) && (await pingSocket(socketPath, 1000)).ok) break;
    if (Date.now() > deadline || opts.signal?.aborted) {
      service.kill('SIGKILL');
      await service;
      throw new FaultlineError(opts.signal?.aborted ? 'interrupted' : 'environment', `the podman service did not answer on ${socketPath} within ${opts.readyTimeoutMs ?? 30_000} ms`, { hint: `see ${log}` });
    }
    await sleep(delay);
  }
  rmSync(log, { force: true }); // the service runs: its log stays empty unless something goes wrong
  // (No version query here: podman's /version and /info take a few hundred ms each.)
  return new PrivatePodman(socketPath, `${plan.podman} (private service on ${socketPath}, started by faultline)`, service, { pid, startTime }, plan, await dockerClient(socketPath));
}

function readTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-6).join('\n');
  } catch {
    return '(no log)';
  }
}

/** An engine the user runs: used as it is, never stopped. */
export async function connectExternal(socketPath: string, source: string): Promise<ContainerEngine> {
  const docker = await dockerClient(socketPath);
  let info: { CgroupDriver?: string; ServerVersion?: string; OperatingSystem?: string };
  let components: { Name?: string }[];
  try {
    info = (await docker.info()) as typeof info;
    components = ((await docker.version()) as { Components?: { Name?: string }[] }).Components ?? [];
  } catch (e) {
    throw new FaultlineError('environment', `the engine at ${socketPath} (${source}) does not answer: ${errorMessage(e)}`);
  }
  return {
    socketPath,
    private: false,
    flavor: components.some((c) => /podman/i.test(c.Name ?? '')) ? 'podman' : 'docker',
    description: `${info.OperatingSystem ?? 'engine'} ${info.ServerVersion ?? ''} at ${socketPath} (${source})`.replace(/\s+/g, ' '),
    docker,
    cgroupfs: (info.CgroupDriver ?? 'cgroupfs') === 'cgroupfs',
    alive: true,
    stop: async () => {},
  };
}

/** A Docker-API client on the socket (dockerode is loaded on first use: it takes a while to import). */
async function dockerClient(socketPath: string): Promise<Dockerode> {
  const { default: Client } = await import('dockerode');
  return new Client({ socketPath });
}
