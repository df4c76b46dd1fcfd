// The kind backend: real Kubernetes clusters made by the real kind binary (components/kube-tools.ts),
// one per cell, named from the run and the cell, from a generated config decoded offline by kind
// before anything starts (kind-config.ts), on the engine kind chooses (engine.ts). Its kubeconfig is a
// file of the run (never the user's ~/.kube/config). Nodes are kind's containers, entered by pid
// (kind-node.ts). Everything is listed in the run's ledger before it exists; the reaper removes what a
// dead run left: its clusters' containers (by kind's cluster label), podman's node volumes, and the
// network `kind` when the run created it and nothing uses it any more. Never anything else.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { FaultlineError, InvalidInputError, errorMessage, type Location } from '../../errors.ts';
import { activeRun, type LedgerEntry, type LedgerFile, type Run, type RunReaper } from '../../ledger/ledger.ts';
import { defaultNodeNames, type BackendCheck, type BackendCheckOptions, type Cluster, type ClusterSpec, type NodeFileRoots } from '../types.ts';
import type { KubeBackend, KubeBackendFacet, KubeCluster, KubeClusterInfo, KubeClusterSpec, KubePreflightCell } from '../kube-types.ts';
import { PERSISTENT_ROOTS, VOLATILE_ROOTS } from '../local/node-paths.ts';
import { cachedDebianTool, resolveKubeTool, toolChoice, type ResolvedKubeTool } from '../../components/kube-tools.ts';
import { EngineCli, detectProvider, type KindProvider, type ProviderPlan } from './engine.ts';
import { checkKindConfig, generateKindConfig } from './kind-config.ts';
import { KindNode } from './kind-node.ts';

/** kind's labels on node containers (pkg/cluster/internal/providers/*: clusterLabelKey, nodeRoleLabelKey). */
export const KIND_CLUSTER_LABEL = 'io.x-k8s.kind.cluster';
export const KIND_ROLE_LABEL = 'io.x-k8s.kind.role';
/** The engine network every kind cluster joins (kind never deletes it). */
export const KIND_NETWORK = 'kind';

/** Ledger entry of a cluster, listed before `kind create`. */
interface ClusterResource {
  kind: 'kind-cluster';
  cellId: string;
  name: string;
  provider: KindProvider;
  cli: string;
  /** The container names kind gives the nodes. */
  containers: string[];
  kubeconfig: string;
}

/** Ledger entry of the run's view of network `kind` before its first cluster. */
interface NetworkResource {
  kind: 'kind-network';
  provider: KindProvider;
  cli: string;
  /** The network existed before this run: never removed by it. */
  preexisted: boolean;
}

const isCluster = (r: LedgerEntry): r is LedgerEntry & ClusterResource => r.kind === 'kind-cluster';
const isNetwork = (r: LedgerEntry): r is LedgerEntry & NetworkResource => r.kind === 'kind-network';

/** Container names kind gives a cluster's nodes, in faultline's node order. */
export function kindContainerNames(cluster: string, nodes: number): string[] {
  return [`${cluster}-control-plane`, ...Array.from({ length: nodes - 1 }, (_, i) => `${cluster}-worker${i === 0 ? '' : i + 1}`)];
}

/** The image kind uses when the config names none, read from the binary (defaults.Image). */
export function defaultNodeImage(kindBinary: string): string | undefined {
  try {
    return /kindest\/node:v[0-9][0-9A-Za-z.+-]*@sha256:[0-9a-f]{64}/.exec(readFileSync(kindBinary, 'latin1'))?.[0];
  } catch {
    return undefined;
  }
}

/** The registry host and port of an image reference (docker.io's is registry-1.docker.io). */
export function registryOf(ref: string): { host: string; port: number } {
  const first = ref.split('/')[0]!;
  const isHost = ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!isHost || first === 'docker.io') return { host: 'registry-1.docker.io', port: 443 };
  const m = /^(.*?)(?::(\d+))?$/.exec(first)!;
  return { host: m[1]!, port: m[2] ? Number(m[2]) : 443 };
}

/** A TCP connect to the registry: can a pull start at all? */
function reachable(host: string, port: number, timeoutMs = 3000): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const sock = createConnection({ host, port });
    const done = (ok: boolean, detail: string) => {
      sock.destroy();
      resolve({ ok, detail });
    };
    sock.setTimeout(timeoutMs, () => done(false, `no answer within ${timeoutMs} ms`));
    sock.once('connect', () => done(true, 'connected'));
    sock.once('error', (e: NodeJS.ErrnoException) => done(false, e.code ?? e.message));
  });
}

export interface KindBackendOptions {
  env?: NodeJS.ProcessEnv;
  run?: Run;
}

export class KindBackend implements KubeBackend {
  readonly name = 'kind';
  readonly fileRoots: NodeFileRoots = { persistent: PERSISTENT_ROOTS, volatile: VOLATILE_ROOTS, kernelBacked: ['/run/netns'] };
  readonly reaper: RunReaper;
  readonly kube: KubeBackendFacet;
  private tools: Promise<{ kind: ResolvedKubeTool; kubectl: ResolvedKubeTool }> | undefined;
  private engine: Promise<EngineCli> | undefined;

  constructor(private readonly opts: KindBackendOptions = {}) {
    this.reaper = { name: 'kind', reap: (ledger) => reapKind(ledger, this.env) };
    this.kube = {
      clusterName: (runId, cellId) => `${runId}-${createHash('sha256').update(cellId).digest('hex').slice(0, 8)}`,
      preflight: (cells, o) => this.preflight(cells, o),
      up: (spec, signal) => this.upKube(spec, signal),
    };
  }

  private get env(): NodeJS.ProcessEnv {
    return this.opts.env ?? process.env;
  }

  nodeNames(count: number): string[] {
    return defaultNodeNames(count);
  }

  /** The tools (cached or provisionable) and an engine that answers, as kind would choose it. */
  async check(o: BackendCheckOptions = {}): Promise<BackendCheck[]> {
    const env = o.env ?? this.env;
    const checks: BackendCheck[] = [];
    for (const name of ['kind', 'kubectl'] as const) {
      try {
        const choice = toolChoice(name, env);
        if (choice.kind === 'debian') {
          const cached = await cachedDebianTool(name, env);
          checks.push({ name, ok: true, detail: cached ? `${cached.version} (${cached.source}, sha256 ${cached.sha256.slice(0, 12)})` : `Debian sid's ${name} package, fetched into the cache at first use` });
        } else {
          const t = await resolveKubeTool(name, { env });
          checks.push({ name, ok: true, detail: `${t.version} (${t.source})` });
        }
      } catch (e) {
        checks.push({ name, ok: false, detail: errorMessage(e), fix: e instanceof FaultlineError && e.hint ? e.hint : `unset FAULTLINE_${name.toUpperCase()}` });
      }
    }
    const plan = await detectProvider({ env, ...(o.extraDirs ? { extraDirs: o.extraDirs } : {}) });
    checks.push(await engineCheck(plan, env));
    const uid = o.uid ?? process.getuid?.() ?? -1;
    checks.push(uid === 0 ? { name: 'kind-root', ok: true, detail: 'running as root' } : { name: 'kind-root', ok: false, detail: `running as uid ${uid}; kind nodes are entered by pid and their files reached through /proc`, fix: 'run faultline as root (sudo -E faultline ...)' });
    return checks;
  }

  private async useTools(o: { signal?: AbortSignal; onProgress?: (m: string) => void } = {}) {
    this.tools ??= (async () => ({ kind: await resolveKubeTool('kind', { ...o, env: this.env }), kubectl: await resolveKubeTool('kubectl', { ...o, env: this.env }) }))();
    this.tools.catch(() => (this.tools = undefined));
    return this.tools;
  }

  private async useEngine(): Promise<EngineCli> {
    this.engine ??= (async () => {
      const plan = await detectProvider({ env: this.env });
      const c = await engineCheck(plan, this.env);
      if (!c.ok || !plan.ok) throw new FaultlineError('prerequisite', `the kind backend cannot run here: ${c.detail}`, { ...(c.fix ? { hint: `fix: ${c.fix}` } : {}) });
      return new EngineCli(plan.provider, plan.cli, this.env);
    })();
    this.engine.catch(() => (this.engine = undefined));
    return this.engine;
  }

  private async preflight(cells: readonly KubePreflightCell[], o: { signal?: AbortSignal; onProgress?: (m: string) => void } = {}): Promise<void> {
    const engine = await this.useEngine();
    const tools = await this.useTools(o);
    if (engine.provider === 'podman') {
      const rebooting = cells.filter((c) => c.reboots);
      if (rebooting.length) {
        throw new FaultlineError('prerequisite', `kind's podman provider cannot reboot nodes (no restart policy, node addresses change on restart: kind #2272, #3473), and ${rebooting.map((c) => c.id).join(', ')} hard-reboot${rebooting.length === 1 ? 's' : ''} nodes`, {
          hint: 'fix: run these cells with Docker (unset KIND_EXPERIMENTAL_PROVIDER, install Docker), or leave them out with --only',
        });
      }
    }
    // Every cell's config decodes with the real binary (located errors at the scenario or the stack).
    const problems: { location: Location; message: string }[] = [];
    for (const c of cells) {
      const config = generateKindConfig({ clusterName: c.clusterName, nodes: c.nodes, ...c.config });
      try {
        await checkKindConfig(tools.kind.path, config, c.clusterName, c.location);
      } catch (e) {
        if (e instanceof InvalidInputError) problems.push(...e.problems.map((p) => ({ ...p, message: `${c.id}: ${p.message}` })));
        else throw e;
      }
    }
    if (problems.length) throw new InvalidInputError(problems);
    const images = [...new Set(cells.map((c) => c.config.nodeImage ?? defaultNodeImage(tools.kind.path) ?? ''))].filter(Boolean);
    for (const image of images) await ensureImage(engine, image, o);
  }

  /** A kind cluster needs its stack's config: cells run through `kube.up` (runner/kube-cell.ts). */
  up(spec: ClusterSpec): Promise<Cluster> {
    return Promise.reject(new FaultlineError('internal', `cell ${spec.cellId}: the kind backend builds clusters through kube.up, with the stack's config`));
  }

  private async upKube(spec: KubeClusterSpec, signal?: AbortSignal): Promise<KubeCluster> {
    signal?.throwIfAborted();
    const run = this.opts.run ?? activeRun(spec.runId);
    if (!run || run.runId !== spec.runId) throw new FaultlineError('internal', `no ledger for run ${spec.runId} in this process`);
    const engine = await this.useEngine();
    const tools = await this.useTools();
    const name = this.kube.clusterName(spec.runId, spec.cellId);
    const containers = kindContainerNames(name, spec.nodes.length);
    const workDir = path.resolve(spec.workDir);
    run.record({ kind: 'work-dir', path: workDir, cellId: spec.cellId });
    await mkdir(workDir, { recursive: true, mode: 0o755 });
    const kubeconfig = path.join(workDir, 'kubeconfig');
    const nodeImage = spec.config.nodeImage ?? defaultNodeImage(tools.kind.path) ?? '(kind default)';
    const config = generateKindConfig({ clusterName: name, nodes: spec.nodes.length, ...spec.config });
    const configFile = path.join(workDir, 'kind-config.yaml');
    await writeFile(configFile, config.yaml);
    if (!run.resources().some(isNetwork)) {
      run.record({ kind: 'kind-network', provider: engine.provider, cli: engine.cli, preexisted: await engine.networkExists(KIND_NETWORK) } satisfies NetworkResource);
    }
    run.record({ kind: 'kind-cluster', cellId: spec.cellId, name, provider: engine.provider, cli: engine.cli, containers, kubeconfig } satisfies ClusterResource);
    const kindEnv = { ...this.env, KUBECONFIG: kubeconfig, KIND_EXPERIMENTAL_PROVIDER: engine.provider };
    const cluster = new KindCluster(name, kubeconfig, tools, engine, kindEnv, workDir);
    const t0 = performance.now();
    // --retain keeps failed nodes for `kind export logs`; the teardown deletes them either way.
    const create = execa(tools.kind.path, ['create', 'cluster', '--name', name, '--config', configFile, '--kubeconfig', kubeconfig, '--retain'], {
      reject: false,
      env: kindEnv,
      extendEnv: false,
      stdin: 'ignore',
      ...(signal ? { cancelSignal: signal } : {}),
      timeout: 20 * 60_000,
    });
    const r = await create;
    const createMs = performance.now() - t0;
    try {
      if (r.exitCode !== 0) {
        throw new FaultlineError('environment', `kind create cluster ${name} failed (exit ${r.exitCode ?? r.signal}): ${String(r.stderr || r.stdout).trim().split('\n').slice(-8).join('\n')}`);
      }
      const nodes = spec.nodes.map(
        (n, i) =>
          new KindNode({
            spec: n,
            containerName: containers[i]!,
            engine,
            workDir: path.join(workDir, 'nodes', n.name),
            ...(engine.provider === 'podman'
              ? { rebootRefusal: "kind's podman provider cannot reboot nodes (no restart policy, addresses change on restart: kind #2272, #3473)" }
              : spec.rebootRefusals?.[n.name]
                ? { rebootRefusal: spec.rebootRefusals[n.name]! }
                : {}),
          }),
      );
      for (const node of nodes) await node.attach();
      if (spec.bootStages?.length) for (const node of nodes) await installBootStages(node, spec.bootStages);
      const info: KubeClusterInfo = { clusterName: name, provider: engine.provider, engine: engine.cli, nodeImage, kind: strip(tools.kind), kubectl: strip(tools.kubectl), config: config.yaml, createMs };
      cluster.attach(nodes, info);
      return cluster;
    } catch (e) {
      await cluster.exportLogs(path.join(workDir, 'kind-logs')).catch(() => undefined);
      await cluster.down().catch((d: unknown) => process.stderr.write(`faultline: cleanup after a failed kind create also failed: ${errorMessage(d)}\n`));
      throw e;
    }
  }
}

const strip = (t: ResolvedKubeTool) => ({ path: t.path, version: t.version, source: t.source, sha256: t.sha256 });

/** Whether the engine kind would use answers, as a check with its fix. */
async function engineCheck(plan: ProviderPlan, env: NodeJS.ProcessEnv): Promise<BackendCheck> {
  if (!plan.ok) return { name: 'kind-engine', ok: false, detail: plan.reason, fix: plan.fix };
  const info = await new EngineCli(plan.provider, plan.cli, env).info();
  if (info.ok) return { name: 'kind-engine', ok: true, detail: `${plan.provider} (${plan.why}): ${info.detail}` };
  return {
    name: 'kind-engine',
    ok: false,
    detail: `kind would use ${plan.provider} (${plan.why}), but its engine does not answer: ${info.detail}`,
    fix: plan.provider === 'docker' ? 'start the Docker engine (systemctl start docker) or point DOCKER_HOST at one; or set KIND_EXPERIMENTAL_PROVIDER=podman' : 'make `podman info` work (podman system migrate), or install Docker',
  };
}

/** The node image is in the engine's store, or is pulled now; refused with the reason otherwise. */
async function ensureImage(engine: EngineCli, image: string, o: { onProgress?: (m: string) => void }): Promise<void> {
  if (await engine.imagePresent(image)) return;
  const reg = registryOf(image);
  const probe = await reachable(reg.host, reg.port);
  const fix = `pull or load it where the registry is reachable (${engine.provider} pull ${image}; or ${engine.provider} save/load), or choose a nodeImage that is present`;
  if (!probe.ok) {
    throw new FaultlineError('prerequisite', `no node image: ${image} is not in the ${engine.provider} engine's image store, and its registry ${reg.host}:${reg.port} cannot be reached (${probe.detail}); kind cannot create a cluster without it`, { hint: `fix: ${fix}` });
  }
  o.onProgress?.(`pulling the node image ${image}`);
  const r = await engine.pull(image, 15 * 60_000);
  if (r.exitCode !== 0) throw new FaultlineError('prerequisite', `no node image: ${engine.provider} pull ${image} failed: ${r.stderr.split('\n').slice(-3).join(' | ')}`, { hint: `fix: ${fix}` });
}

/**
 * The stack's boot stage files as a systemd unit on the node: yip's initramfs stage runs before
 * anything else of the node starts, so the unit runs before containerd and kubelet at every boot.
 * The commands are the release's own stage file content (profile data), as yip runs them (sh -c).
 */
async function installBootStages(node: KindNode, stages: readonly { name: string; commands: string[] }[]): Promise<void> {
  const script = ['#!/bin/sh', '# faultline: boot stage files (yip semantics), before containerd and kubelet', ...stages.flatMap((s) => [`# ${s.name.replace(/\n/g, ' ')}`, ...s.commands.map((c) => `sh -c ${shellQuote(c)} || echo "stage command failed: $?" >&2`)]), ''].join('\n');
  const unit = ['[Unit]', 'Description=faultline boot stages', 'DefaultDependencies=no', 'Before=containerd.service kubelet.service', '', '[Service]', 'Type=oneshot', 'ExecStart=/usr/local/sbin/faultline-stages', '', '[Install]', 'WantedBy=multi-user.target', ''].join('\n');
  for (const [file, text, mode] of [['/usr/local/sbin/faultline-stages', script, '0755'], ['/etc/systemd/system/faultline-stages.service', unit, '0644']] as const) {
    const w = await node.exec(['install', '-D', '-m', mode, '/dev/stdin', file], { stdin: text });
    if (w.exitCode !== 0) throw new FaultlineError('environment', `node ${node.name}: cannot write ${file}: ${w.stderr.trim()}`);
  }
  for (const argv of [['systemctl', 'daemon-reload'], ['systemctl', 'enable', 'faultline-stages.service']]) {
    const r = await node.exec(argv);
    if (r.exitCode !== 0) throw new FaultlineError('environment', `node ${node.name}: ${argv.join(' ')} failed: ${r.stderr.trim()}`);
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export class KindCluster implements KubeCluster {
  private list: KindNode[] = [];
  private details: KubeClusterInfo | undefined;
  private downed: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly kubeconfig: string,
    private readonly tools: { kind: ResolvedKubeTool; kubectl: ResolvedKubeTool },
    private readonly engine: EngineCli,
    private readonly kindEnv: NodeJS.ProcessEnv,
    private readonly workDir: string,
  ) {}

  attach(nodes: KindNode[], info: KubeClusterInfo): void {
    this.list = nodes;
    this.details = info;
  }

  get nodes(): readonly KindNode[] {
    return this.list;
  }

  get info(): KubeClusterInfo {
    if (!this.details) throw new FaultlineError('internal', `cluster ${this.name} is not up`);
    return this.details;
  }

  node(name: string): KindNode {
    const n = this.list.find((x) => x.name === name);
    if (!n) throw new FaultlineError('invalid-input', `no node named ${name} (nodes: ${this.list.map((x) => x.name).join(', ')})`);
    return n;
  }

  kubeNodeName(node: string): string {
    return this.node(node).containerName;
  }

  async exportLogs(dir: string): Promise<string> {
    await mkdir(dir, { recursive: true });
    const r = await execa(this.tools.kind.path, ['export', 'logs', dir, '--name', this.name], { reject: false, env: this.kindEnv, extendEnv: false, timeout: 5 * 60_000, stdin: 'ignore' });
    const said = `${String(r.stdout ?? '')}\n${String(r.stderr ?? '')}`.trim();
    if (r.exitCode !== 0) throw new FaultlineError('environment', `kind export logs ${this.name} failed: ${said}`);
    return said;
  }

  down(): Promise<void> {
    this.downed ??= (async () => {
      const problems: string[] = [];
      const r = await execa(this.tools.kind.path, ['delete', 'cluster', '--name', this.name, '--kubeconfig', this.kubeconfig], { reject: false, env: this.kindEnv, extendEnv: false, timeout: 5 * 60_000, stdin: 'ignore' });
      if (r.exitCode !== 0) problems.push(`kind delete cluster ${this.name}: ${String(r.stderr || r.stdout).trim()}`);
      // What kind delete can miss (podman volumes of a failed create): removed by label.
      try {
        await removeClusterLeftovers(this.engine, this.name, kindContainerNames(this.name, Math.max(1, this.list.length)));
      } catch (e) {
        problems.push(errorMessage(e));
      }
      await rm(this.kubeconfig, { force: true });
      await rm(path.join(this.workDir, 'nodes'), { recursive: true, force: true });
      if (problems.length) throw new FaultlineError('environment', problems.join('\n'), { hint: "run 'faultline gc' once faultline has exited" });
    })();
    return this.downed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }
}

/** A cluster's containers (kind's label) and podman's node volumes (label <node>=true). */
async function removeClusterLeftovers(engine: EngineCli, cluster: string, expected: readonly string[]): Promise<number> {
  let removed = 0;
  for (const c of await engine.containersWithLabel(`${KIND_CLUSTER_LABEL}=${cluster}`)) {
    await engine.removeContainer(c);
    removed++;
  }
  if (engine.provider === 'podman') {
    for (const node of expected) {
      for (const v of await engine.volumesWithLabel(`${node}=true`)) {
        await engine.removeVolume(v);
        removed++;
      }
    }
  }
  return removed;
}

/** The reaper: what a dead (or released) run left, by its ledger only. */
async function reapKind(ledger: LedgerFile, env: NodeJS.ProcessEnv): Promise<void> {
  const clusters = ledger.resources.filter(isCluster);
  const network = ledger.resources.find(isNetwork);
  if (!clusters.length && !network) return;
  const problems: string[] = [];
  for (const c of clusters) {
    // Only names this run made (the run id is their prefix): a ledger can never point gc elsewhere.
    if (!c.name.startsWith(`${ledger.runId}-`)) {
      problems.push(`cluster ${c.name} does not carry run ${ledger.runId}'s id: left alone`);
      continue;
    }
    if (!existsSync(c.cli)) {
      problems.push(`cluster ${c.name}: ${c.cli} is gone, cannot ask the engine`);
      continue;
    }
    try {
      await removeClusterLeftovers(new EngineCli(c.provider, c.cli, env), c.name, c.containers);
    } catch (e) {
      problems.push(`cluster ${c.name}: ${errorMessage(e)}`);
    }
  }
  if (network && !network.preexisted && existsSync(network.cli)) {
    const engine = new EngineCli(network.provider, network.cli, env);
    try {
      if ((await engine.networkExists(KIND_NETWORK)) && !(await engine.networkContainers(KIND_NETWORK)).length) await engine.removeNetwork(KIND_NETWORK);
    } catch (e) {
      problems.push(`network ${KIND_NETWORK}: ${errorMessage(e)}`);
    }
  }
  if (problems.length) throw new FaultlineError('environment', `what run ${ledger.runId} left in kind could not all be removed:\n${problems.join('\n')}`);
}
