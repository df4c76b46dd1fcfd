// A node container as testcontainers creates it, shaped like a kind node: privileged, an empty tmpfs on
// /run and /tmp, a volume on /var, no engine
// network (network none: the engine's networks write the host's CNI state and change addresses on
// restart), catatonit as PID 1 (it reaps what daemonizes inside, a real runtime's shims), its cgroups
// under a parent of the run so they can be found and removed. Loaded only when a node is created:
// testcontainers takes a while to import, and most faultline commands never need it.
import type Dockerode from 'dockerode';
import { GenericContainer, StartupCheckStrategy, getContainerRuntimeClient, type StartupStatus } from 'testcontainers';
import { FaultlineError } from '../../errors.ts';
import type { ContainerEngine } from './engine.ts';

/** Ready as soon as the init runs: nothing listens in a node, nothing needs to be waited for. */
class RunningCheck extends StartupCheckStrategy {
  async checkStartupState(docker: Dockerode, containerId: string): Promise<StartupStatus> {
    const s = (await docker.getContainer(containerId).inspect()).State;
    if (s.Running) return 'SUCCESS';
    return s.Status === 'exited' || s.Status === 'dead' ? 'FAIL' : 'PENDING';
  }
}

export interface NodeBind {
  source: string;
  target: string;
  /** Mount options as the engine takes them (e.g. `ro`, `rw,nocopy`, `rw,rbind`). */
  options: string;
}

export interface NodeContainerOptions {
  name: string;
  hostname: string;
  labels: Record<string, string>;
  /** Every bind (withBindMounts replaces, so all of them at once), the /var volume among them. */
  binds: readonly NodeBind[];
  /** cgroupfs parent of the container, e.g. /faultline-container/<run>/<cell>/<node>. */
  cgroupParent?: string;
  /** Mount options of the tmpfs on /run (the engines differ in what they accept). */
  tmpfsRunOptions: string;
  startupTimeoutMs: number;
}

export class NodeContainer extends GenericContainer {
  constructor(image: string, o: NodeContainerOptions) {
    super(image);
    this.withName(o.name)
      .withHostname(o.hostname)
      .withPrivilegedMode()
      .withNetworkMode('none')
      .withTmpFs({ '/run': o.tmpfsRunOptions, '/tmp': 'rw,mode=1777' })
      .withLabels(o.labels)
      .withCommand(['/usr/bin/catatonit', '-P'])
      .withWaitStrategy(new RunningCheck())
      .withStartupTimeout(o.startupTimeoutMs)
      // The engines take option lists here (`rw,nocopy`); the type only names single modes.
      .withBindMounts(o.binds.map((b) => ({ source: b.source, target: b.target, mode: b.options as 'rw' })));
    // No builder for these: the protected fields are what the builders write too.
    if (o.cgroupParent) this.hostConfig.CgroupParent = o.cgroupParent;
    // kind's --cgroupns=private (Docker honours it; podman 4.3's compat API ignores it).
    Object.assign(this.hostConfig, { CgroupnsMode: 'private' });
  }
}

let clientFor: Promise<string> | undefined;

/**
 * Points testcontainers at the engine. Its client is one per process, resolved from DOCKER_HOST at
 * first use: the variables are set for that moment only (children must not inherit a socket that dies
 * with this process). Ryuk stays disabled: its image cannot be pulled, faultline reaps by label.
 */
export async function useEngine(engine: ContainerEngine): Promise<void> {
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  clientFor ??= (async () => {
    const saved = { DOCKER_HOST: process.env.DOCKER_HOST, TESTCONTAINERS_HOST_OVERRIDE: process.env.TESTCONTAINERS_HOST_OVERRIDE };
    process.env.DOCKER_HOST = `unix://${engine.socketPath}`;
    process.env.TESTCONTAINERS_HOST_OVERRIDE = 'localhost'; // no guessing of a gateway (nodes expose no ports)
    try {
      const client = await getContainerRuntimeClient();
      return (client.container.dockerode as unknown as { modem: { socketPath?: string } }).modem.socketPath ?? '';
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  })();
  const socket = await clientFor.catch((e: unknown) => {
    clientFor = undefined;
    throw new FaultlineError('environment', `testcontainers cannot reach the engine at ${engine.socketPath}: ${e instanceof Error ? e.message : String(e)}`);
  });
  if (socket !== engine.socketPath) {
    throw new FaultlineError('internal', `testcontainers talks to ${socket || 'another engine'}, not to ${engine.socketPath}: one engine per faultline process`);
  }
}
