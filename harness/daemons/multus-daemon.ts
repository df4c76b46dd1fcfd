// Multus's real thin entrypoint on a node, as its DaemonSet pod runs it (deployments/
// multus-daemonset.yml of the release: /thin_entrypoint --multus-conf-file=auto ...), without an API
// server. What it needs then (cmd/thin_entrypoint of v4.0.2 and v4.1.0, checked by running it):
//   - the service-account token and CA at /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt}
//     (fixed paths; both must exist, their content is only pasted into the kubeconfig it writes), which
//     kubelet's projected volume provides: written into the node's tmpfs /run at every start;
//   - KUBERNETES_SERVICE_HOST and _PORT, only formatted into that kubeconfig's server URL;
//   - every directory flag pointed at the node's own paths (its defaults are /host/...; v4.1.0 also
//     mkdirs --multus-cni-conf-dir). /opt/cni/bin is read-only here, so it does not copy the multus
//     binary there (--skip-multus-binary-copy): faultline never runs Multus's own ADD.
// It never contacts the API: it writes <conf dir>/multus.d/multus.kubeconfig and 00-multus.conf (or
// .conflist for a master of cniVersion 1.0.0), logs "multus config file is created." and stays up
// until signalled. Failures exit 0, so success is that log line and the file, not the exit code.
import { NODE_MULTUS_DIR, type Node, type NodeDaemon } from '../backends/types.ts';
import type { ResolvedMultus } from '../model/profile.ts';
import { FaultlineError } from '../errors.ts';

/** Multus's log on the node's disk. */
export const MULTUS_LOG = '/var/log/multus.log';
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** /var/run is /run on the node (Debian's symlink), whose tmpfs is the node's own. */
const SA_WRITE_DIR = '/run/secrets/kubernetes.io/serviceaccount';
const CONF_DIR = '/etc/cni/net.d';
const CREATED = 'multus config file is created.';
/** kubeadm's and kind's default service address of the API server; nothing connects to it. */
export const MULTUS_ENV = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' } as const;

export type StopSignal = 'KILL' | 'TERM';

export interface MultusStart {
  /** The config it wrote, e.g. /etc/cni/net.d/00-multus.conf. */
  file: string;
  args: string[];
  durationMs: number;
}

export interface MultusStop {
  signal: StopSignal;
  /** How it ended: exit code, or the signal that ended it. */
  exit: string;
  /** After a TERM that the grace period did not end, the KILL kubelet sends. */
  killedAfterGrace: boolean;
  /** Its config files left in /etc/cni/net.d. */
  left: string[];
}

export interface MultusDaemonOptions {
  cleanupConfigOnExit: boolean;
  /** How long a start may take to write its config (default 60 s). */
  startTimeoutMs?: number;
}

/** The thin entrypoint's argv: the release's DaemonSet args on node paths, plus what a node without an API needs. */
export function thinEntrypointArgs(multus: Pick<ResolvedMultus, 'daemonsetArgs' | 'thinFlags'>, cleanupConfigOnExit: boolean): string[] {
  const args = multus.daemonsetArgs.map((a) => a.replace(/=\/host\//, '=/'));
  const has = (flag: string) => args.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`));
  const add = (flag: string, value?: string) => {
    if (!multus.thinFlags.includes(flag) || has(flag)) return;
    args.push(value === undefined ? `--${flag}` : `--${flag}=${value}`);
  };
  add('multus-conf-file', 'auto');
  add('cni-conf-dir', CONF_DIR);
  add('multus-autoconfig-dir', CONF_DIR);
  add('cni-bin-dir', '/opt/cni/bin');
  add('multus-bin-file', `${NODE_MULTUS_DIR}/multus`);
  add('skip-multus-binary-copy');
  add('multus-cni-conf-dir', '/etc/cni/multus/net.d');
  if (cleanupConfigOnExit) {
    if (!multus.thinFlags.includes('cleanup-config-on-exit')) throw new FaultlineError('invalid-input', 'multusCleanupOnExit: this thin_entrypoint has no --cleanup-config-on-exit');
    add('cleanup-config-on-exit');
  }
  // The defaults are host paths; a flag left on one would write outside the node's state.
  const hostPath = args.find((a) => /=\/host(\/|$)/.test(a));
  if (hostPath) throw new FaultlineError('internal', `multus: refusing a /host path in the thin entrypoint's args: ${hostPath}`);
  return args;
}

/** Multus on one node: started at boot, restarted by restart-daemon. */
export class MultusDaemon {
  private daemon: NodeDaemon | undefined;
  readonly args: string[];

  constructor(
    readonly node: Node,
    readonly multus: ResolvedMultus,
    private readonly opts: MultusDaemonOptions,
  ) {
    this.args = thinEntrypointArgs(multus, opts.cleanupConfigOnExit);
  }

  get running(): boolean {
    return this.daemon?.running === true;
  }

  /** Starts the thin entrypoint and waits until it says it wrote its config. */
  async start(): Promise<MultusStart> {
    if (this.running) throw new FaultlineError('internal', `multus is already running on ${this.node.name}`);
    const node = this.node;
    const t0 = Date.now();
    await node.mkdir(SA_WRITE_DIR, 0o755);
    await node.writeFile(`${SA_WRITE_DIR}/token`, 'faultline-no-api-server\n', 0o600);
    await node.writeFile(`${SA_WRITE_DIR}/ca.crt`, 'not a certificate: faultline runs no API server\n', 0o644);
    const seen = await node.exec(['test', '-s', `${SA_DIR}/token`]);
    if (seen.exitCode !== 0) {
      throw new FaultlineError('environment', `node ${node.name}: ${SA_DIR}/token is not visible (on this host /var/run is not a link to /run, where the node's service-account files are written); Multus's thin entrypoint reads them only there`);
    }
    const logStart = (await node.stat(MULTUS_LOG))?.size ?? 0;
    this.daemon = await node.startDaemon('multus', [`${NODE_MULTUS_DIR}/thin_entrypoint`, ...this.args], { env: { ...MULTUS_ENV } });
    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 60_000);
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      const log = await this.logSince(logStart);
      if (log.includes(CREATED)) break;
      if (!this.daemon.running) {
        const end = await this.daemon.exited;
        throw new FaultlineError('environment', `node ${node.name}: Multus's thin entrypoint exited (${end.signal ?? `code ${end.exitCode}`}) without writing its config: ${tail(log) || '(no output)'}`);
      }
      if (Date.now() > deadline) throw new FaultlineError('environment', `node ${node.name}: Multus's thin entrypoint did not write its config within ${this.opts.startTimeoutMs ?? 60_000} ms: ${tail(log) || '(no output)'}`);
      await new Promise((r) => setTimeout(r, delay));
    }
    const file = (await multusConfigFiles(node))[0];
    if (!file) throw new FaultlineError('environment', `node ${node.name}: Multus said it wrote its config, but ${CONF_DIR} has no 00-multus.conf*`);
    return { file, args: this.args, durationMs: Date.now() - t0 };
  }

  /**
   * Stops it as a pod restart or eviction does: SIGKILL (crash, OOM, `crictl stop --timeout 0`: no
   * cleanup), or SIGTERM then, after the grace period, SIGKILL (kubelet's delete).
   */
  async stop(signal: StopSignal, graceMs = 30_000): Promise<MultusStop> {
    const d = this.daemon;
    if (!d?.running) throw new FaultlineError('environment', `multus is not running on ${this.node.name}`);
    d.signal(signal === 'KILL' ? 'SIGKILL' : 'SIGTERM');
    let killedAfterGrace = false;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'grace'>((r) => (timer = setTimeout(() => r('grace'), graceMs)));
    const first = await Promise.race([d.exited, grace]);
    clearTimeout(timer);
    if (first === 'grace') {
      killedAfterGrace = true;
      d.signal('SIGKILL');
    }
    const end = await d.exited;
    this.daemon = undefined;
    return { signal, exit: end.signal ? `killed by ${end.signal}` : `exit code ${end.exitCode}`, killedAfterGrace, left: await multusConfigFiles(this.node) };
  }

  private async logSince(offset: number): Promise<string> {
    try {
      return (await this.node.readFile(MULTUS_LOG)).subarray(offset).toString('utf8');
    } catch {
      return '';
    }
  }
}

/** 00-multus.conf and 00-multus.conflist present in the node's net.d, in sorted order. */
export async function multusConfigFiles(node: Node): Promise<string[]> {
  return (await node.list(CONF_DIR)).filter((f) => f === '00-multus.conf' || f === '00-multus.conflist').map((f) => `${CONF_DIR}/${f}`);
}

function tail(text: string): string {
  return text.trim().split('\n').slice(-4).join(' | ');
}

// The Multus daemon of each node of a cell (nodes are per cell, so entries go with their cell).
const onNodes = new WeakMap<Node, MultusDaemon>();

/** Starts Multus on a freshly booted node (a previous instance died with the power). */
export async function startMultus(node: Node, multus: ResolvedMultus, opts: MultusDaemonOptions): Promise<{ daemon: MultusDaemon; start: MultusStart }> {
  const daemon = new MultusDaemon(node, multus, opts);
  onNodes.set(node, daemon);
  return { daemon, start: await daemon.start() };
}

/** The node's Multus daemon, if the stack runs one. */
export function multusOn(node: Node): MultusDaemon | undefined {
  return onNodes.get(node);
}
