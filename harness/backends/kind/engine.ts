// The engine kind uses, chosen as kind chooses it (pkg/cluster/provider.go DetectNodeProvider and
// pkg/internal/runtime GetDefault): KIND_EXPERIMENTAL_PROVIDER when set, else docker when `docker -v`
// prints "Docker version", else nerdctl, else podman when `podman -v` prints "podman version".
// faultline drives the same CLI kind drives, with the same environment (DOCKER_HOST, docker contexts,
// CONTAINERS_CONF...), so it sees the containers kind made: inspect (the init's pid), SIGKILL, start,
// listing and removal by label. Nothing here creates anything.
import { execa } from 'execa';
import { FaultlineError } from '../../errors.ts';
import { findBinary } from '../../util/which.ts';

export type KindProvider = 'docker' | 'podman';

export type ProviderPlan =
  | { ok: true; provider: KindProvider; cli: string; version: string; why: string }
  | { ok: false; reason: string; fix: string };

export interface EngineEnv {
  env?: NodeJS.ProcessEnv;
  /** Extra binary dirs searched after PATH. */
  extraDirs?: readonly string[];
}

/** `<cli> -v` as kind reads it: exactly one line, with the engine's prefix. */
async function versionLine(cli: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const r = await execa(cli, ['-v'], { reject: false, timeout: 10_000, env, extendEnv: false });
  const lines = String(r.stdout ?? '').split('\n').filter((l) => l !== '');
  return r.exitCode === 0 && lines.length === 1 ? lines[0] : undefined;
}

const PREFIX: Record<KindProvider, string> = { docker: 'Docker version', podman: 'podman version' };

/** The provider kind would use here, or why there is none. */
export async function detectProvider(o: EngineEnv = {}): Promise<ProviderPlan> {
  const env = o.env ?? process.env;
  const find = (name: string) => findBinary(name, env, o.extraDirs ?? []);
  const usable = async (p: KindProvider) => {
    const cli = find(p);
    const line = cli ? await versionLine(cli, env) : undefined;
    return cli && line?.startsWith(PREFIX[p]) ? { cli, line } : undefined;
  };
  const asked = env.KIND_EXPERIMENTAL_PROVIDER;
  if (asked === 'docker' || asked === 'podman') {
    const u = await usable(asked);
    if (u) return { ok: true, provider: asked, cli: u.cli, version: u.line, why: 'KIND_EXPERIMENTAL_PROVIDER' };
    return { ok: false, reason: `KIND_EXPERIMENTAL_PROVIDER=${asked}, but ${find(asked) ? `\`${asked} -v\` does not say "${PREFIX[asked]}"` : `there is no ${asked} on PATH`}`, fix: asked === 'docker' ? 'install Docker (its CLI and engine)' : 'apt-get install podman' };
  }
  if (asked && ['nerdctl', 'finch', 'nerdctl.lima'].includes(asked)) {
    return { ok: false, reason: `KIND_EXPERIMENTAL_PROVIDER=${asked}: faultline drives kind's docker and podman providers only`, fix: 'set KIND_EXPERIMENTAL_PROVIDER=docker or podman' };
  }
  // kind ignores an unknown value and detects; so does faultline.
  const docker = await usable('docker');
  if (docker) return { ok: true, provider: 'docker', cli: docker.cli, version: docker.line, why: `\`docker -v\` says "${docker.line}"` };
  if (find('nerdctl') && (await versionLine(find('nerdctl')!, env))?.startsWith('nerdctl version')) {
    return { ok: false, reason: 'kind would use nerdctl here (no docker CLI); faultline drives kind\'s docker and podman providers only', fix: 'install Docker, or set KIND_EXPERIMENTAL_PROVIDER=podman' };
  }
  const podman = await usable('podman');
  if (podman) return { ok: true, provider: 'podman', cli: podman.cli, version: podman.line, why: `no docker CLI; \`podman -v\` says "${podman.line}"` };
  return { ok: false, reason: 'no container engine for kind: neither `docker -v` nor `podman -v` answers (kind needs the docker or podman CLI and its engine)', fix: 'install Docker (or podman with KIND_EXPERIMENTAL_PROVIDER=podman)' };
}

/** The inspect fields faultline uses. */
export interface ContainerState {
  id: string;
  name: string;
  running: boolean;
  status: string;
  /** The init's host pid while running (0 otherwise). */
  pid: number;
  labels: Record<string, string>;
  /** Host dir of the volume mounted at /var (the node's disk), when the engine is on this host. */
  varDir?: string;
  /** The container's writable layer on the host (overlay upperdir), when the engine says. */
  upperDir?: string;
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * The CLI of the provider kind uses (docker or podman), as kind runs it. Every call is an argv array
 * with a timeout; `ok: false` results carry the CLI's own words.
 */
export class EngineCli {
  constructor(
    readonly provider: KindProvider,
    readonly cli: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async run(args: readonly string[], timeoutMs = 60_000): Promise<CliResult> {
    const r = await execa(this.cli, [...args], { reject: false, timeout: timeoutMs, env: this.env, extendEnv: false, stdin: 'ignore' });
    const stderr = String(r.stderr ?? '').trim() || (r.timedOut ? `timed out after ${timeoutMs} ms` : String(r.shortMessage ?? ''));
    return { exitCode: r.exitCode ?? 128, stdout: String(r.stdout ?? ''), stderr };
  }

  /** Throws with the CLI's words when the call fails. */
  async must(args: readonly string[], what: string, timeoutMs?: number): Promise<string> {
    const r = await this.run(args, timeoutMs);
    if (r.exitCode !== 0) throw new FaultlineError('environment', `${what}: \`${this.provider} ${args.join(' ')}\` failed: ${r.stderr || `exit ${r.exitCode}`}`);
    return r.stdout;
  }

  /** `info`: whether the engine answers, and its words when not (what kind's own first call is). */
  async info(): Promise<{ ok: true; detail: string } | { ok: false; detail: string }> {
    const r = await this.run(['info', '--format', '{{json .}}'], 20_000);
    if (r.exitCode !== 0) return { ok: false, detail: firstLines(r.stderr || r.stdout) };
    try {
      const j = JSON.parse(r.stdout) as Record<string, unknown>;
      const host = (j.host ?? {}) as Record<string, unknown>;
      const version = (j.version ?? {}) as Record<string, unknown>;
      const server = this.provider === 'docker' ? `Docker ${String(j.ServerVersion ?? '?')} (${String(j.OperatingSystem ?? '?')}, cgroup ${String(j.CgroupDriver ?? '?')})` : `podman ${String(version.Version ?? '?')} (${String(host.os ?? 'linux')}, cgroup ${String(host.cgroupManager ?? '?')})`;
      const serverErrors = Array.isArray(j.ServerErrors) ? (j.ServerErrors as string[]) : [];
      if (serverErrors.length) return { ok: false, detail: serverErrors.join('; ') };
      return { ok: true, detail: server };
    } catch {
      return { ok: false, detail: `unreadable \`${this.provider} info\` output: ${firstLines(r.stdout)}` };
    }
  }

  async inspect(name: string): Promise<ContainerState | undefined> {
    const r = await this.run(['inspect', '--type', 'container', name], 30_000);
    if (r.exitCode !== 0) {
      if (/no such (container|object)|not found/i.test(r.stderr)) return undefined;
      throw new FaultlineError('environment', `\`${this.provider} inspect ${name}\` failed: ${r.stderr}`);
    }
    const j = (JSON.parse(r.stdout) as Record<string, any>[])[0];
    if (!j) return undefined;
    const mounts = (j.Mounts ?? []) as { Destination?: string; Source?: string; Type?: string }[];
    const varMount = mounts.find((m) => m.Destination === '/var');
    const upper = j.GraphDriver?.Data?.UpperDir as string | undefined;
    return {
      id: String(j.Id),
      name: String(j.Name ?? name).replace(/^\//, ''),
      running: j.State?.Running === true,
      status: String(j.State?.Status ?? '?'),
      pid: Number(j.State?.Pid ?? 0),
      labels: (j.Config?.Labels ?? {}) as Record<string, string>,
      ...(varMount?.Source ? { varDir: varMount.Source } : {}),
      ...(upper ? { upperDir: upper } : {}),
    };
  }

  /** Names of containers (running or not) carrying a label (key or key=value). */
  async containersWithLabel(label: string): Promise<string[]> {
    const out = await this.must(['ps', '-a', '--filter', `label=${label}`, '--format', '{{.Names}}'], 'listing containers');
    return out.split('\n').map((l) => l.trim()).filter(Boolean).sort();
  }

  async kill(name: string): Promise<void> {
    await this.must(['kill', '--signal', 'KILL', name], `SIGKILL of ${name}`);
  }

  async start(name: string): Promise<void> {
    await this.must(['start', name], `start of ${name}`, 120_000);
  }

  /** Removes a container with its anonymous volumes; gone already is fine. */
  async removeContainer(name: string): Promise<void> {
    const r = await this.run(['rm', '-f', '-v', name]);
    if (r.exitCode !== 0 && !/no such container|not found/i.test(r.stderr)) throw new FaultlineError('environment', `removing container ${name}: ${r.stderr}`);
  }

  async volumesWithLabel(label: string): Promise<string[]> {
    const out = await this.must(['volume', 'ls', '--filter', `label=${label}`, '--quiet'], 'listing volumes');
    return out.split('\n').map((l) => l.trim()).filter(Boolean).sort();
  }

  async removeVolume(name: string): Promise<void> {
    const r = await this.run(['volume', 'rm', '-f', name]);
    if (r.exitCode !== 0 && !/no such volume|not found/i.test(r.stderr)) throw new FaultlineError('environment', `removing volume ${name}: ${r.stderr}`);
  }

  async networkExists(name: string): Promise<boolean> {
    return (await this.run(['network', 'inspect', name], 30_000)).exitCode === 0;
  }

  /** Containers attached to a network (docker lists them in inspect; podman by filter). */
  async networkContainers(name: string): Promise<string[]> {
    const out = await this.must(['ps', '-a', '--filter', `network=${name}`, '--format', '{{.Names}}'], `listing containers on network ${name}`);
    return out.split('\n').map((l) => l.trim()).filter(Boolean);
  }

  async removeNetwork(name: string): Promise<void> {
    const r = await this.run(['network', 'rm', name]);
    if (r.exitCode !== 0 && !/no such network|not found/i.test(r.stderr)) throw new FaultlineError('environment', `removing network ${name}: ${r.stderr}`);
  }

  async imagePresent(ref: string): Promise<boolean> {
    return (await this.run(['image', 'inspect', ref], 30_000)).exitCode === 0;
  }

  async pull(ref: string, timeoutMs: number): Promise<CliResult> {
    return this.run(['pull', ref], timeoutMs);
  }
}

function firstLines(text: string, n = 3): string {
  return text.trim().split('\n').filter(Boolean).slice(0, n).join(' | ');
}
