// Loads scenario files: YAML with positions, the schema, then the checks the schema cannot express
// (matrix use, CIDR arithmetic, node and path references, stack profiles). Every problem of a file
// is reported at once, each at file:line:col with the key path, what was expected and what was found.
import { open, readdir, stat } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { FaultlineError, InvalidInputError, errorMessage, type Location } from '../errors.ts';
import { REPO_ROOT } from '../version.ts';
import { faults, faultSchemas } from '../faults/index.ts';
import { assertions, assertionSchemas } from '../assertions/index.ts';
import { KNOWN_BACKENDS, getBackend, unavailableReason } from '../backends/index.ts';
import type { Backend } from '../backends/types.ts';
import { refProblem } from './refs.ts';
import { containerdReleaseNames } from '../components/containerd.ts';
import { parseCidr, subnetCount } from '../util/net.ts';
import type { Problem, Ref, Schema } from '../schema/dsl.ts';
import { REPEAT_STEP, failingName, type CheckSpec, type LocatedMessage, type NetworkSpec, type RepeatParams, type RuntimeCapability, type Scenario, type ScenarioDoc, type ValidationContext } from '../model/scenario.ts';
import { runtimeCapabilities } from '../runtime/index.ts';
import { MAX_EXPANDED_STEPS, allSteps, expandedStepCount } from './steps.ts';
import { buildScenarioSchema, generateJsonSchema, MAX_REPEAT_TIMES, type ScenarioRegistries } from './schema.ts';
import { parseYamlWithPositions, locate, pathString, type KeyPath, type PositionMap, type YamlProblem } from '../schema/yaml.ts';
import { isProfileFileRef, parseStackProfileFile, profileFilePath, profileFileRefProblem } from '../profiles/stack-profile.ts';
import { readProfileTextSync } from '../profiles/profile-file.ts';
import type { StackProfile } from '../model/profile.ts';
import { DEFAULT_MAX_CELLS, cellCount, cellId, combinations, formatCellCount, matchingExpectations, placeholders, substitute } from './matrix.ts';
import { DELEGATIONS } from '../model/profile.ts';
import { rangeCapacity } from '../observe/headroom.ts';
import { underKernelMount } from '../util/kernel-fs.ts';
import { MULTUS_WITH_PODS, multusProblem } from '../components/multus.ts';
import { isKubeBackend } from '../backends/kube-types.ts';
import { isKindStackName, kindStackNames, loadKindStackSync, type KindStack } from '../kube/stack.ts';

// The composition root of the scenario schema: the registries of steps, checks and backends.
export const SCENARIO_REGISTRIES: ScenarioRegistries = { steps: faultSchemas(), checks: assertionSchemas(), backends: KNOWN_BACKENDS };
export const scenarioSchema = buildScenarioSchema(SCENARIO_REGISTRIES);

/** The JSON Schema editors use (schemas/scenario.schema.json). */
export function scenarioJsonSchema(): Record<string, unknown> {
  return generateJsonSchema(SCENARIO_REGISTRIES);
}

/** Scenario files bigger than this are refused before parsing. */
export const MAX_SCENARIO_BYTES = 1024 * 1024;

export interface LoadOptions {
  /** Where profiles/ lives; default the faultline checkout (tests point it at a fixture). */
  repoRoot?: string;
  /** The backend every cell will run on (--backend), instead of each scenario's cluster.backend. */
  backend?: string;
  /** Most cells a scenario's matrix may have (--max-cells); default DEFAULT_MAX_CELLS. */
  maxCells?: number;
}

/** What validation needs beyond the file: the profiles, and the backend override if any. */
interface LoadContext {
  catalog: ProfileCatalog;
  backendOverride?: string;
  maxCells: number;
  /** The backend whose node names and file roots a scenario's references are checked against. */
  backend: Pick<Backend, 'nodeNames' | 'fileRoots'>;
}

/** The context of one file's semantic checks: where it is, and where problems in other files go. */
interface FileContext extends LoadContext {
  file: string;
  elsewhere: YamlProblem[];
}

function loadContext(opts: LoadOptions): Omit<LoadContext, 'backend'> {
  return { catalog: new ProfileCatalog(opts.repoRoot ?? REPO_ROOT), maxCells: opts.maxCells ?? DEFAULT_MAX_CELLS, ...(opts.backend ? { backendOverride: opts.backend } : {}) };
}

/** The backend a scenario runs on; a planned one is reported elsewhere, so check against local's. */
function backendFor(doc: ScenarioDoc, lc: Omit<LoadContext, 'backend'>): LoadContext {
  const name = lc.backendOverride ?? doc.cluster.backend;
  return { ...lc, backend: getBackend(unavailableReason(name) ? 'local' : name) };
}

/** Loads and validates one scenario file; throws InvalidInputError with every problem found. */
export async function loadScenario(file: string, opts: LoadOptions = {}): Promise<Scenario> {
  return loadWith(file, loadContext(opts));
}

/**
 * Loads every scenario named: files as given, directories searched for *.yaml / *.yml (sorted,
 * skipping testdata/, node_modules/ and hidden directories). Throws one InvalidInputError with the
 * problems of all files, including names used by two files.
 */
export async function loadScenarios(pathsOrDirs: readonly string[], opts: LoadOptions = {}): Promise<Scenario[]> {
  const lc = loadContext(opts);
  const problems: { location: Location; message: string }[] = [];
  const scenarios: Scenario[] = [];
  for (const file of await findScenarioFiles(pathsOrDirs)) {
    try {
      scenarios.push(await loadWith(file, lc));
    } catch (e) {
      if (!(e instanceof InvalidInputError)) throw e;
      problems.push(...e.problems);
    }
  }
  problems.push(...duplicateNames(scenarios));
  if (problems.length) throw new InvalidInputError(problems);
  return scenarios;
}

/** Problems for scenario names used by more than one file, at the later file's `name`. */
export function duplicateNames(scenarios: readonly Scenario[]): { location: Location; message: string }[] {
  const seen = new Map<string, Scenario>();
  const out: { location: Location; message: string }[] = [];
  for (const sc of scenarios) {
    const first = seen.get(sc.name);
    if (first) out.push({ location: { file: sc.file, ...locate(sc.positions, ['name']) }, message: `name: scenario '${sc.name}' is already defined in ${first.file}; names must be unique` });
    else seen.set(sc.name, sc);
  }
  return out;
}

const SKIPPED_DIRS = new Set(['testdata', 'node_modules']);
const SCENARIO_NAME = /\.ya?ml$/;

/** Scenario files under the given paths, in the order given, each directory's files sorted. */
export async function findScenarioFiles(pathsOrDirs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<string[]> => {
    const listed = await readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
      throw new FaultlineError('usage', `cannot read the directory ${dir}: ${e.code ?? e.message}`);
    });
    const entries = listed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const files: string[] = [];
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIPPED_DIRS.has(e.name) && !e.name.startsWith('.')) files.push(...(await walk(p)));
      } else if (SCENARIO_NAME.test(e.name)) files.push(p); // the loader refuses what is not a regular file
    }
    return files;
  };
  for (const p of pathsOrDirs) {
    let st;
    try {
      st = await stat(p);
    } catch {
      throw new FaultlineError('usage', `no such file or directory: ${p}`);
    }
    // A directory named like a scenario file was meant as one: the loader refuses it by its type.
    const searched = st.isDirectory() && !SCENARIO_NAME.test(path.basename(p));
    for (const f of searched ? await walk(p) : [p]) if (!out.includes(f)) out.push(f);
  }
  return out;
}

async function loadWith(file: string, lc: Omit<LoadContext, 'backend'>): Promise<Scenario> {
  return parseScenarioWith(await readScenarioFile(file), file, lc);
}

/** What a path is, for messages: "a FIFO (named pipe)". */
function fileType(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * A scenario file's text. Only a regular file is read, judged by its type before reading (a FIFO
 * would wait for a writer for ever, a device never ends), and never more than MAX_SCENARIO_BYTES.
 */
export async function readScenarioFile(file: string): Promise<string> {
  const refuse = (message: string) => new InvalidInputError([{ location: { file }, message }]);
  const judge = (st: Stats) => {
    if (!st.isFile()) return refuse(`expected a scenario file (a regular YAML file), found ${fileType(st)}`);
    if (st.size > MAX_SCENARIO_BYTES) return refuse(`the file has ${st.size} bytes; scenario files are limited to 1 MiB (${MAX_SCENARIO_BYTES} bytes)`);
    return undefined;
  };
  let fh;
  try {
    const before = judge(await stat(file));
    if (before) throw before;
    // Non-blocking, so that a file swapped for a FIFO meanwhile cannot block the open either.
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    const now = judge(await fh.stat());
    if (now) throw now;
    const buf = Buffer.alloc(MAX_SCENARIO_BYTES + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length < buf.length; length += n) n = (await fh.read(buf, length, buf.length - length, null)).bytesRead;
    if (length > MAX_SCENARIO_BYTES) throw refuse(`the file grew past ${MAX_SCENARIO_BYTES} bytes while read; scenario files are limited to 1 MiB`);
    return buf.subarray(0, length).toString('utf8');
  } catch (e) {
    if (e instanceof InvalidInputError) throw e;
    throw refuse(`cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  } finally {
    await fh?.close();
  }
}

/** Validates scenario text as if read from `file` (the loader's core, without the file system read). */
export function parseScenario(text: string, file: string, opts: LoadOptions = {}): Scenario {
  return parseScenarioWith(text, file, loadContext(opts));
}

function parseScenarioWith(text: string, file: string, lc: Omit<LoadContext, 'backend'>): Scenario {
  if (text.length > MAX_SCENARIO_BYTES) {
    throw new InvalidInputError([{ location: { file }, message: `the file has ${text.length} characters; scenario files are limited to 1 MiB` }]);
  }
  const parsed = parseYamlWithPositions(text, file, { noun: 'scenario', expected: 'a scenario mapping (name, description, cluster, ...)' });
  if (!parsed.ok) throw new InvalidInputError(parsed.problems);
  const { value, positions } = parsed;
  const problems: Problem[] = [];
  // Problems located in other files (a ./ stack profile file the scenario names).
  const elsewhere: YamlProblem[] = [];
  const doc = scenarioSchema.validate(value, [], problems);
  if (doc && !problems.length) problems.push(...semanticProblems(doc, { ...backendFor(doc, lc), file, elsewhere }));
  if (problems.length || elsewhere.length || !doc) {
    throw new InvalidInputError([...locateProblems(problems.length || elsewhere.length ? problems : [{ path: [], message: 'invalid scenario' }], positions, file), ...elsewhere]);
  }
  return { ...doc, file, positions };
}

/** Schema and semantic problems as located messages, in file order, each prefixed with its key path. */
export function locateProblems(problems: readonly Problem[], positions: PositionMap, file: string): { location: Location; message: string }[] {
  return problems
    .map((p) => {
      // A missing key is reported at the mapping's own key ("cluster:"), not at its first entry.
      const atKey = p.atKey === true || p.message.startsWith('missing required key');
      const pos = locate(positions, p.path, atKey);
      return { location: { file, line: pos.line, column: pos.column }, message: `${pathString(p.path) || 'top level'}: ${p.message}` };
    })
    .sort((a, b) => a.location.line - b.location.line || a.location.column - b.location.column);
}

// ---------------------------------------------------------------------------------------------
// Semantic checks (run once the schema holds).

type Check = CheckSpec & { list: 'assertions' | 'invariants'; index: number };

function semanticProblems(doc: ScenarioDoc, lc: FileContext): Problem[] {
  const problems: Problem[] = [];
  const checks: Check[] = [
    ...(doc.invariants ?? []).map((c, index) => ({ ...c, list: 'invariants' as const, index })),
    ...(doc.assertions ?? []).map((c, index) => ({ ...c, list: 'assertions' as const, index })),
  ];
  // The checks that go through every cell run only on a matrix of allowed size: the product is
  // computed first, the cells never built when it is too big.
  const cells = cellCount(doc.matrix ?? {});
  const expandable = cells <= lc.maxCells;
  if (!expandable) {
    const sizes = Object.values(doc.matrix ?? {}).map((v) => v.length);
    const product = sizes.length > 12 ? `${sizes.slice(0, 12).join(' x ')} x ...` : sizes.join(' x ');
    problems.push({ path: ['matrix'], atKey: true, message: `the matrix has ${formatCellCount(cells)} cells (${sizes.length} dimensions: ${product}); at most ${lc.maxCells} are allowed (raise the limit with --max-cells N)` });
  }
  const kube = cellsOnKube(doc, lc);
  checkMatrix(doc, checks, problems, expandable);
  checkCluster(doc, problems);
  checkSteps(doc, problems);
  checkReferences(doc, checks, problems, lc, expandable);
  if (kube) {
    if (expandable) checkKube(doc, checks, lc, problems);
    return problems;
  }
  checkNotKube(doc, checks, lc, problems);
  checkWorkloadCapabilities(doc, problems, lc);
  if (expandable) checkStack(doc, lc, problems);
  if (expandable && !problems.length) checkRuntimeCapabilities(doc, lc, problems);
  return problems;
}

// The steps, repeats unrolled, stay within MAX_EXPANDED_STEPS: refused before anything runs, at the
// repeat that contributes most.
function checkSteps(doc: ScenarioDoc, problems: Problem[]): void {
  const steps = doc.steps ?? [];
  const total = expandedStepCount(steps);
  if (total <= MAX_EXPANDED_STEPS) return;
  let worst = -1;
  let worstCount = 0;
  steps.forEach((st, i) => {
    const n = expandedStepCount([st]);
    if (st.kind === REPEAT_STEP && n > worstCount) {
      worst = i;
      worstCount = n;
    }
  });
  const at = worst >= 0 ? ['steps', worst, REPEAT_STEP, 'times'] : ['steps'];
  const inner = worst >= 0 ? expandedStepCount((steps[worst]!.params as unknown as RepeatParams).steps) : 0;
  const what = worst >= 0 ? `steps.${worst}.repeat runs ${formatCellCount(worstCount)} steps (${(steps[worst]!.params as unknown as RepeatParams).times} times ${inner} step${inner === 1 ? '' : 's'}); ` : '';
  problems.push({ path: at, message: `${what}the scenario's steps expand to ${formatCellCount(total)} steps with their repeats unrolled; at most ${MAX_EXPANDED_STEPS} are allowed (each repeat's times at most ${MAX_REPEAT_TIMES})` });
}

// hostPorts a node cannot give twice: kubernetes' scheduler places at most one pod with a given
// hostPort (and protocol) on a node.
function checkWorkloadCapabilities(doc: ScenarioDoc, problems: Problem[], lc: LoadContext): void {
  const nodeNames = lc.backend.nodeNames(doc.cluster.nodes);
  const taken = new Map<string, string>();
  (doc.workload ?? []).forEach((w, i) => {
    (w.capabilities?.portMappings ?? []).forEach((m, j) => {
      const at = ['workload', i, 'capabilities', 'portMappings', j, 'hostPort'];
      const key = `${m.hostPort}/${m.protocol ?? 'tcp'}`;
      if ((w.replicasPerNode ?? 1) > 1) {
        problems.push({ path: at, message: `hostPort ${m.hostPort} cannot be given to the ${w.replicasPerNode} pods of workload '${w.name}' on one node: the scheduler places at most one pod with a hostPort per node (use replicasPerNode 1)` });
        return;
      }
      for (const node of w.nodes ?? nodeNames) {
        const other = taken.get(`${node}/${key}`);
        if (other !== undefined) {
          problems.push({ path: at, message: `hostPort ${key} on ${node} is already mapped by ${other}; a node gives a hostPort to one pod only` });
          return;
        }
        taken.set(`${node}/${key}`, `workload '${w.name}'`);
      }
    });
  });
}

/**
 * Steps, networks and CNI_ARGS that need what some cells' runtime cannot do (crash points, CNI GC,
 * secondary networks or CNI_ARGS on a real containerd), reported where the scenario asks for them,
 * naming the cells' runtimes.
 */
function checkRuntimeCapabilities(doc: ScenarioDoc, lc: FileContext, problems: Problem[]): void {
  const runtimes = new Map<string, Record<string, string>>();
  for (const values of combinations(doc.matrix ?? {})) {
    const name = doc.cluster.stack.runtime === undefined ? lc.catalog.view(doc, values, lc.file)?.runtime : substitute(doc.cluster.stack.runtime, values);
    if (name !== undefined && !runtimes.has(name)) runtimes.set(name, values);
  }
  const lacking = (cap: RuntimeCapability) => [...runtimes.keys()].filter((r) => !runtimeCapabilities(r).has.includes(cap));
  const say = (what: string, cap: RuntimeCapability) => {
    const bad = lacking(cap);
    if (!bad.length) return undefined;
    return `${what}, which runtime ${bad.join(', ')} cannot: ${runtimeCapabilities(bad[0]!).whyNot(cap) ?? 'not supported'}`;
  };
  for (const { step, at } of allSteps(doc.steps ?? [])) {
    for (const cap of faults.find((f) => f.name === step.kind)?.requires ?? []) {
      const message = say(`${step.kind} needs ${CAPABILITY_TEXT[cap]}`, cap);
      if (message) problems.push({ path: [...at, step.kind], atKey: true, message: cap === 'crash-points' ? `${message} (to leave an empty result cache on a real runtime, use truncate-file with cacheOf)` : message });
    }
  }
  (doc.workload ?? []).forEach((w, i) => {
    if ((w.networks ?? []).length) {
      const message = say(`workload '${w.name}' attaches secondary networks, which needs ${CAPABILITY_TEXT['multi-network']}`, 'multi-network');
      if (message) problems.push({ path: ['workload', i, 'networks'], atKey: true, message });
    }
    if (w.args) {
      const message = say(`workload '${w.name}' sets CNI_ARGS, which needs ${CAPABILITY_TEXT['cni-args']}`, 'cni-args');
      if (message) problems.push({ path: ['workload', i, 'args'], atKey: true, message });
    }
  });
}

/** The backend the scenario's cells run on, when it is one of real Kubernetes (kind). */
function cellsOnKube(doc: ScenarioDoc, lc: LoadContext): string | undefined {
  const name = lc.backendOverride ?? doc.cluster.backend;
  if (unavailableReason(name)) return undefined;
  return isKubeBackend(getBackend(name)) ? name : undefined;
}

const NODE_AGENT_WHY = "it acts through faultline's node agent (kubelet's role on the other backends), which a real cluster replaces with its own kubelet";

/**
 * Cells on real Kubernetes (kind): the stack is a kind stack (profiles/kind/), the node-level stack
 * fields and the node agent do not apply, every step and check must have a kind form, and nodes the
 * stack cannot survive a power cut of are not rebooted.
 */
function checkKube(doc: ScenarioDoc, checks: readonly Check[], lc: LoadContext, problems: Problem[]): void {
  const backend = lc.backendOverride ?? doc.cluster.backend;
  const on = `cells on backend ${backend}`;
  for (const field of ['cni', 'runtime', 'cniVersion', 'delegation', 'networks', 'stageFiles', 'substitutions'] as const) {
    if (doc.cluster.stack[field] !== undefined) problems.push({ path: ['cluster', 'stack', field], atKey: true, message: `does not apply to ${on}: the stack's pinned manifests bring the CNI and the node image brings the runtime` });
  }
  if (doc.cluster.stack.profile === undefined) {
    problems.push({ path: ['cluster', 'stack'], atKey: true, message: `${on} take a kind stack: profile: kind/<name> (profiles/kind/); kind stacks: ${list(lc.catalog.kindStacks(), 'none')}` });
    return;
  }
  const profile = doc.cluster.stack.profile;
  if (doc.cluster.agent !== undefined) problems.push({ path: ['cluster', 'agent'], atKey: true, message: `does not apply to ${on}: the nodes run the real kubelet` });
  (doc.workload ?? []).forEach((w, i) => {
    if ((w.role ?? 'pod') !== 'pod') problems.push({ path: ['workload', i, 'role'], message: `role ${w.role} does not apply to ${on}: create Kube-OVN's VpcNatGateways with the churn-nat-gateways step` });
    for (const k of ['capabilities', 'args'] as const) {
      if (w[k] !== undefined) problems.push({ path: ['workload', i, k], atKey: true, message: `does not apply to ${on}: their pods are real pods, created through the API (their runtime passes what the pod spec asks for)` });
    }
  });
  const stacks = new Map<string, KindStack>();
  for (const values of combinations(doc.matrix ?? {})) {
    const name = substitute(profile, values);
    if (stacks.has(name) || name.includes('${')) continue;
    if (!isKindStackName(name)) {
      problems.push({ path: ['cluster', 'stack', 'profile'], message: `${on} take a kind stack (kind/<name>, profiles/kind/), found '${name}'; kind stacks: ${list(lc.catalog.kindStacks(), 'none')}` });
      continue;
    }
    let stack: KindStack | undefined;
    try {
      stack = lc.catalog.kindStack(name);
    } catch (e) {
      problems.push({ path: ['cluster', 'stack', 'profile'], message: `kind stack '${name}' is not valid: ${e instanceof Error ? e.message : String(e)}` });
      continue;
    }
    if (!stack) {
      problems.push({ path: ['cluster', 'stack', 'profile'], message: `no kind stack '${name}' (profiles/${name}.yaml); kind stacks: ${list(lc.catalog.kindStacks(), 'none')}` });
      continue;
    }
    stacks.set(name, stack);
    if (stack.podSubnet && doc.cluster.podCIDR !== stack.podSubnet) {
      problems.push({ path: ['cluster', 'podCIDR'], message: `kind stack ${name} assumes the pod CIDR ${stack.podSubnet} (its manifests say so), found ${doc.cluster.podCIDR}` });
    }
    if (stack.stageFilesFrom && !lc.catalog.stacks().includes(stack.stageFilesFrom)) {
      problems.push({ path: ['cluster', 'stack', 'profile'], message: `kind stack ${name} takes its boot stage files from '${stack.stageFilesFrom}', which is not a stack profile` });
    }
  }
  (doc.steps ?? []).forEach((step, i) => {
    const fault = faults.find((f) => f.name === step.kind);
    if (fault && !fault.kube) problems.push({ path: ['steps', i, step.kind], atKey: true, message: `${step.kind} does not run on ${on}: ${NODE_AGENT_WHY}` });
    if (step.kind === 'hard-reboot') {
      const node = (step.params as { node?: string }).node;
      for (const [name, stack] of stacks) {
        if (node === 'node-1' && stack.reboot && !stack.reboot.controlPlane) {
          problems.push({ path: ['steps', i, step.kind, 'node'], message: `node-1 is the control plane, which kind stack ${name} cannot survive a power cut of: ${stack.reboot.why}; reboot a worker (node-2...)` });
        }
      }
    }
  });
  for (const c of checks) {
    const def = assertions.find((a) => a.name === c.kind);
    if (def && (def.runsOn ?? 'node') === 'node') problems.push({ path: [c.list, c.index, c.kind], atKey: true, message: `${c.kind} cannot judge ${on}: ${NODE_AGENT_WHY}` });
  }
}

/** Cells not on real Kubernetes: nothing of kind's. */
function checkNotKube(doc: ScenarioDoc, checks: readonly Check[], lc: LoadContext, problems: Problem[]): void {
  const backend = lc.backendOverride ?? doc.cluster.backend;
  const on = `cells on backend ${backend}`;
  if (doc.cluster.kind !== undefined) problems.push({ path: ['cluster', 'kind'], atKey: true, message: `applies to backend kind only; ${on} have no kind cluster` });
  if (isKindStackName(doc.cluster.stack.profile)) problems.push({ path: ['cluster', 'stack', 'profile'], message: `'${doc.cluster.stack.profile}' is a kind stack, for backend kind only; ${on} take a stack profile (${list(lc.catalog.stacks(), 'none')})` });
  (doc.steps ?? []).forEach((step, i) => {
    if (faults.find((f) => f.name === step.kind)?.kubeOnly) problems.push({ path: ['steps', i, step.kind], atKey: true, message: `${step.kind} runs on backend kind only (it acts through the Kubernetes API); ${on} have no API server` });
  });
  for (const c of checks) {
    if (assertions.find((a) => a.name === c.kind)?.runsOn === 'kube') problems.push({ path: [c.list, c.index, c.kind], atKey: true, message: `${c.kind} judges through the Kubernetes API: backend kind only; ${on} have no API server` });
  }
}

const CAPABILITY_TEXT: Record<RuntimeCapability, string> = {
  'crash-points': "crash points inside libcni's ADD",
  'cni-gc': "the runtime's CNI GC",
  'multi-network': 'Multus-style secondary networks',
  'cni-args': 'CNI_ARGS of the scenario\'s choosing',
};

const STACK_FIELDS = ['profile', 'cni', 'runtime', 'cniVersion', 'delegation', 'multus'] as const;
type StackField = (typeof STACK_FIELDS)[number];

const list = (xs: readonly string[], none: string) => (xs.length ? xs.join(', ') : none);

// Placeholders, dimension use, expectations and the checks they name.
function checkMatrix(doc: ScenarioDoc, checks: readonly Check[], problems: Problem[], expandable: boolean): void {
  const matrix = doc.matrix ?? {};
  const dims = Object.keys(matrix);
  const stack = doc.cluster.stack as Record<StackField, string | undefined>;
  const used = new Set<string>();
  const dimList = dims.length ? `dimensions: ${dims.join(', ')}` : 'the scenario has no matrix';

  for (const field of STACK_FIELDS) {
    const value = stack[field];
    if (value === undefined) continue;
    const at = ['cluster', 'stack', field];
    for (const name of placeholders(value)) {
      used.add(name);
      if (!dims.includes(name)) problems.push({ path: at, message: `placeholder \${${name}} names no matrix dimension; ${dimList}` });
    }
    if (value.replace(/\$\{[^}]*\}/g, '').includes('${')) problems.push({ path: at, message: `unclosed placeholder in ${JSON.stringify(value)}; write \${dimension}` });
  }

  // cluster.kind.nodeImage may name a dimension (the node image decides containerd and libcni).
  const nodeImage = doc.cluster.kind?.nodeImage;
  if (nodeImage !== undefined) {
    for (const name of placeholders(nodeImage)) {
      used.add(name);
      if (!dims.includes(name)) problems.push({ path: ['cluster', 'kind', 'nodeImage'], message: `placeholder \${${name}} names no matrix dimension; ${dimList}` });
    }
  }

  // cluster.agent.reconcileAfterBoot may name a dimension whose values are "true" and "false".
  const reconcile = doc.cluster.agent?.reconcileAfterBoot;
  if (typeof reconcile === 'string') {
    const at = ['cluster', 'agent', 'reconcileAfterBoot'];
    for (const name of placeholders(reconcile)) {
      used.add(name);
      if (!dims.includes(name)) problems.push({ path: at, message: `placeholder \${${name}} names no matrix dimension; ${dimList}` });
      else {
        const bad = matrix[name]!.filter((v) => v !== 'true' && v !== 'false');
        if (bad.length) problems.push({ path: ['matrix', name, matrix[name]!.indexOf(bad[0]!)], message: `cluster.agent.reconcileAfterBoot takes dimension '${name}': expected "true" or "false", found ${JSON.stringify(bad[0])}` });
      }
    }
  }

  const expect = doc.expect ?? [];
  expect.forEach((e, i) => {
    for (const [k, v] of Object.entries(e.when ?? {})) {
      used.add(k);
      const values = matrix[k];
      if (!values) problems.push({ path: ['expect', i, 'when', k], atKey: true, message: `'${k}' is not a matrix dimension; ${dimList}` });
      else if (!values.includes(v)) problems.push({ path: ['expect', i, 'when', k], message: `expected a value of dimension '${k}' (${values.join(', ')}), found ${JSON.stringify(v)}` });
    }
  });
  for (const dim of dims) {
    if (!used.has(dim)) problems.push({ path: ['matrix', dim], atKey: true, message: `matrix dimension '${dim}' is not used: refer to it in cluster.stack as \${${dim}} or in an expect.when` });
  }

  const names = checks.map((c) => c.name);
  expect.forEach((e, i) => {
    if (e.outcome === 'fail' && !e.failing) {
      problems.push({ path: ['expect', i, 'outcome'], message: `outcome 'fail' needs 'failing': the assertions expected to fail (${list(names, 'the scenario has no assertions')})` });
    }
    if (e.outcome !== 'fail' && e.failing) {
      problems.push({ path: ['expect', i, 'failing'], atKey: true, message: `'failing' applies only to outcome 'fail', found outcome '${e.outcome}'` });
    }
    if (e.outcome === 'error' && !e.error) {
      problems.push({ path: ['expect', i, 'outcome'], message: "outcome 'error' needs 'error': which error, e.g. error: { source: plugin, match: \"incompatible CNI versions\" } (source plugin, runtime or harness)" });
    }
    if (e.outcome !== 'error' && e.error) {
      problems.push({ path: ['expect', i, 'error'], atKey: true, message: `'error' applies only to outcome 'error', found outcome '${e.outcome}'` });
    }
    const seen = new Set<string>();
    (e.failing ?? []).forEach((f, j) => {
      const name = failingName(f);
      const at = typeof f === 'string' ? ['expect', i, 'failing', j] : ['expect', i, 'failing', j, 'name'];
      if (!names.includes(name)) problems.push({ path: at, message: `expected the name of an assertion of this scenario (${list(names, 'it has none')}), found ${JSON.stringify(name)}` });
      else if (seen.has(name)) problems.push({ path: at, message: `'${name}' is listed twice; list it once (with its evidence, if any)` });
      seen.add(name);
    });
  });

  // Two checks of one list with one name could not be told apart in expect.failing or in reports.
  const byName = new Map<string, Check>();
  for (const c of checks) {
    const first = byName.get(`${c.list}/${c.name}`);
    if (first) problems.push({ path: [c.list, c.index], message: `a check named '${c.name}' already exists (${first.list}.${first.index}); give one of them a distinct 'name'` });
    else byName.set(`${c.list}/${c.name}`, c);
  }

  // Each cell must have at most one expectation; report each conflicting pair once.
  if (expect.length > 1 && expandable) {
    const reported = new Set<string>();
    for (const values of combinations(matrix)) {
      const m = matchingExpectations(expect, values);
      for (let a = 0; a < m.length; a++) {
        for (let b = a + 1; b < m.length; b++) {
          const key = `${m[a]}/${m[b]}`;
          if (reported.has(key)) continue;
          reported.add(key);
          problems.push({ path: ['expect', m[b]!], message: `expect.${m[a]} and expect.${m[b]} both match cell ${cellId(doc.name, values)}; make their 'when' selectors disjoint` });
        }
      }
    }
  }
}

const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].map((c) => parseCidr(c)!);

// Pod CIDR private and big enough for one node subnet per node (the schema's enum checks the backend).
function checkCluster(doc: ScenarioDoc, problems: Problem[]): void {
  const { podCIDR, nodeMask, nodes } = doc.cluster;
  const cidr = podCIDR === undefined ? undefined : parseCidr(podCIDR);
  if (!cidr || nodeMask === undefined || nodes === undefined) return;
  const last = cidr.base + 2 ** (32 - cidr.prefix) - 1;
  const inside = PRIVATE_RANGES.some((r) => cidr.prefix >= r.prefix && cidr.base >= r.base && last < r.base + 2 ** (32 - r.prefix));
  if (!inside) {
    problems.push({ path: ['cluster', 'podCIDR'], message: `expected a private range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, found ${podCIDR}, which is not private (faultline never uses public addresses)` });
  }
  if (nodeMask < cidr.prefix) {
    problems.push({ path: ['cluster', 'nodeMask'], message: `expected a prefix length >= ${cidr.prefix} (node subnets are carved out of podCIDR ${podCIDR}), found ${nodeMask}` });
    return;
  }
  const count = subnetCount(cidr, nodeMask);
  if (count < nodes) {
    problems.push({ path: ['cluster', 'nodes'], message: `expected at most ${count} node${count === 1 ? '' : 's'}: podCIDR ${podCIDR} holds ${count} subnet${count === 1 ? '' : 's'} of /${nodeMask}, found ${nodes}` });
  }
}

// Nodes, workloads and paths named by workloads, steps and checks; each registry entry's own checks.
function checkReferences(doc: ScenarioDoc, checks: readonly Check[], problems: Problem[], lc: FileContext, expandable: boolean): void {
  const nodeNames = lc.backend.nodeNames(doc.cluster.nodes);
  const refCtx = { nodeNames, roots: lc.backend.fileRoots };
  const workloads = doc.workload ?? [];
  const workloadNames: string[] = [];
  const workloadSizes: Record<string, number> = {};
  const profiles = expandable ? profileNetworks(doc, lc) : undefined;

  workloads.forEach((w, i) => {
    const first = workloadNames.indexOf(w.name);
    if (first >= 0) problems.push({ path: ['workload', i, 'name'], message: `workload name '${w.name}' is already used by workload.${first}; names must be unique` });
    workloadNames.push(w.name);
    (w.nodes ?? []).forEach((n, j) => {
      const message = refProblem({ kind: 'node', value: n, path: [] }, refCtx);
      if (message) problems.push({ path: ['workload', i, 'nodes', j], message });
    });
    workloadSizes[w.name] = (w.replicasPerNode ?? 1) * (w.nodes ? w.nodes.filter((n) => nodeNames.includes(n)).length : nodeNames.length);
    (w.networks ?? []).forEach((n, j) => {
      if (!profiles) return;
      const at = ['workload', i, 'networks', j];
      if (profiles.primary.includes(n)) problems.push({ path: at, message: `'${n}' is the default network (every pod has it on eth0); list secondary networks only (${list(profiles.secondary, 'the stack profile has none')})` });
      else if (!profiles.secondary.includes(n)) problems.push({ path: at, message: `unknown network '${n}'; ${profiles.label} define${profiles.label.startsWith('the stacks (') ? '' : 's'} the secondary network(s) ${list(profiles.secondary, '(none)')}` });
    });
    if ((w.role ?? 'pod') === 'nat-gateway' && !(w.networks ?? []).length) {
      problems.push({ path: ['workload', i, 'role'], message: `a nat-gateway needs an external network for net1: list it in 'networks' (${profiles ? list(profiles.secondary, 'the stack profile has no secondary network') : 'e.g. external'})` });
    }
  });
  const ctx: ValidationContext = {
    nodeNames,
    workloadNames,
    networkNames: profiles ? [...profiles.primary, ...profiles.secondary] : [],
    workloadSizes,
    workloads,
    stack: doc.cluster.stack,
    ...(expandable ? { hostLocalCapacity: hostLocalCapacities(doc, lc) } : {}),
  };

  // The references the parameter schema marks (nodes, node paths and globs), then the entry's own check.
  const judge = (def: { params: Schema<unknown>; validate?: (p: any, sc: ValidationContext) => string | LocatedMessage | undefined } | undefined, kind: string, params: Record<string, unknown>, at: KeyPath) => {
    if (!def) return;
    const refs: Ref[] = [];
    def.params.collect(params, [...at, kind], refs);
    let refFailed = false;
    for (const ref of refs) {
      const message = refProblem(ref, refCtx);
      if (message) {
        refFailed = true;
        problems.push({ path: ref.path, message });
      }
    }
    if (refFailed) return; // the entry's own check would judge a value already reported
    const result = def.validate?.(params, ctx);
    if (result === undefined) return;
    if (typeof result === 'object' && result.path.length) problems.push({ path: [...at, kind, ...result.path], message: result.message });
    else problems.push({ path: [...at, kind], atKey: true, message: typeof result === 'object' ? result.message : result });
  };

  for (const { step, at } of allSteps(doc.steps ?? [])) judge(faults.find((f) => f.name === step.kind), step.kind, step.params, at);
  for (const c of checks) judge(assertions.find((a) => a.name === c.kind), c.kind, c.params, [c.list, c.index]);
}

/**
 * Network names the stack defines, in every cell (a matrix may name several profiles: a name counts
 * when all of them define it). Undefined when no stack could be read (reported elsewhere).
 */
function profileNetworks(doc: ScenarioDoc, lc: FileContext): { primary: string[]; secondary: string[]; label: string } | undefined {
  const views = distinctViews(doc, lc);
  if (!views) return undefined;
  const found = views.map((v) => v.networks);
  const inAll = (secondary: boolean) => found[0]!.filter((n) => n.secondary === secondary && found.every((f) => f.some((m) => m.name === n.name && m.secondary === secondary))).map((n) => n.name);
  return { primary: inAll(false), secondary: inAll(true), label: views.length === 1 ? views[0]!.label : `the stacks (${views.map((v) => v.name).join(', ')}) all` };
}

/** The stack of every cell, one per distinct profile value; undefined when one cannot be read. */
function distinctViews(doc: ScenarioDoc, lc: FileContext): StackView[] | undefined {
  const template = doc.cluster.stack.profile;
  if (template !== undefined && template.replace(/\$\{[^}]*\}/g, '').includes('${')) return undefined;
  const byProfile = new Map<string, Record<string, string>>();
  for (const values of combinations(doc.matrix ?? {})) {
    const key = template === undefined ? '' : substitute(template, values);
    if (!byProfile.has(key)) byProfile.set(key, values);
  }
  const views = [...byProfile.values()].map((values) => lc.catalog.view(doc, values, lc.file));
  return views.length && views.every((v) => v !== undefined) ? (views as StackView[]) : undefined;
}

const CNI_FORM = /^(system|sid|latest|dir:\/.*|\d+\.\d+\.\d+|go:v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+incompatible)?|go:[0-9a-f]{7,40})$/;
const CONTAINERD_GO_FORM = /^containerd-go:(v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?|[0-9a-f]{7,40})$/;
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

// The networks a scenario writes inline: a default network among them, unique files and names, and
// every plugin with its type.
function checkInlineNetworks(networks: readonly NetworkSpec[], problems: Problem[]): void {
  const at = ['cluster', 'stack', 'networks'];
  if (!networks.some((n) => !n.secondary)) {
    problems.push({ path: at, atKey: true, message: 'expected a default network (one without secondary: true): every pod gets it on eth0' });
  }
  const files = new Map<string, number>();
  const names = new Map<string, number>();
  networks.forEach((n, j) => {
    const f = files.get(n.file);
    if (f !== undefined) problems.push({ path: [...at, j, 'file'], message: `file '${n.file}' is already used by networks.${f}; each network needs its own file` });
    else files.set(n.file, j);
    const m = names.get(n.conflist.name);
    if (m !== undefined) problems.push({ path: [...at, j, 'conflist', 'name'], message: `network name '${n.conflist.name}' is already used by networks.${m}; names must be unique` });
    else names.set(n.conflist.name, j);
    n.conflist.plugins.forEach((plugin, k) => {
      if (typeof plugin.type !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(plugin.type)) {
        problems.push({ path: [...at, j, 'conflist', 'plugins', k], message: `expected a plugin with a 'type' naming its binary in /opt/cni/bin (bridge, ptp, macvlan, portmap, bandwidth...), found ${plugin.type === undefined ? 'no type' : JSON.stringify(plugin.type)}` });
      }
    });
  });
}

// Every value the stack takes across the matrix names an existing profile (or a valid profile file
// beside the scenario) and a well-formed version; a stack without a profile is complete inline.
function checkStack(doc: ScenarioDoc, lc: FileContext, problems: Problem[]): void {
  const catalog = lc.catalog;
  const matrix = doc.matrix ?? {};
  const cells = combinations(matrix);
  const stack = doc.cluster.stack as Record<StackField, string | undefined>;
  if (doc.cluster.stack.networks) checkInlineNetworks(doc.cluster.stack.networks, problems);
  const checkers: Partial<Record<StackField, (v: string) => string | undefined>> = {
    profile: (v) => {
      if (isKindStackName(v)) return undefined; // refused for these cells already, with the reason
      if (isProfileFileRef(v)) {
        const bad = profileFileRefProblem(v);
        if (bad) return bad;
        const file = profileFilePath(v, lc.file);
        const read = catalog.profileFile(file);
        if (read.error instanceof InvalidInputError) {
          for (const p of read.error.problems) {
            if (!lc.elsewhere.some((q) => q.message === p.message && q.location.line === p.location.line)) lc.elsewhere.push({ location: { file: p.location.file, line: p.location.line ?? 1, column: p.location.column ?? 1 }, message: p.message });
          }
          return `the stack profile file ${v} (${file}) is not valid: ${read.error.problems.length} problem(s), each reported at its line`;
        }
        if (read.error) return errorMessage(read.error);
        return undefined;
      }
      if (!PROFILE_NAME.test(v) || v.split('/').includes('..')) return `expected a stack profile name like harvester/v1.4.3 (a path under profiles/, without .yaml) or a profile file beside the scenario like ./my-stack.yaml, found ${JSON.stringify(v)}`;
      if (!catalog.stacks().includes(v)) return `no stack profile '${v}' (profiles/${v}.yaml); known: ${list(catalog.stacks(), 'none')}`;
      return undefined;
    },
    runtime: (v) => {
      const known = [...catalog.runtimes(), ...catalog.containerdReleases()];
      if (v.startsWith('containerd-go:')) return CONTAINERD_GO_FORM.test(v) ? undefined : `expected containerd-go:vX.Y.Z (a containerd tag built from source) or containerd-go:<commit>, found ${JSON.stringify(v)}`;
      if (v.startsWith('containerd-dir:')) {
        const dir = v.slice('containerd-dir:'.length);
        return dir.startsWith('/') && !dir.split('/').includes('..') ? undefined : `expected containerd-dir:/absolute/path (a build with bin/containerd), found ${JSON.stringify(v)}`;
      }
      if (!PROFILE_NAME.test(v) || v.includes('/')) return `expected a runtime like libcni-1.1 (the model) or containerd-1.6 (real), found ${JSON.stringify(v)}`;
      if (!known.includes(v)) return `no runtime '${v}'; known: ${list(known, 'none')}, or containerd-dir:/path`;
      return undefined;
    },
    cni: (v) => {
      if (!CNI_FORM.test(v)) {
        const hint = /^v\d+\.\d+\.\d+$/.test(v) ? ` (write ${v.slice(1)}, without the v, or go:${v} to build it from upstream source)` : '; go:vX.Y.Z or go:<commit> builds one from upstream source';
        return `expected system, sid, latest, dir:/absolute/path or a version like 1.1.1, found ${JSON.stringify(v)}${hint}`;
      }
      if (v.startsWith('dir:') && v.split('/').includes('..')) return `expected dir:/absolute/path without '..', found ${JSON.stringify(v)}`;
      const kernel = v.startsWith('dir:') ? underKernelMount(v.slice(4)) : undefined;
      if (kernel) return `expected a directory of plugin binaries, found ${JSON.stringify(v)}, which is below ${kernel}: the kernel makes that up`;
      return undefined;
    },
    cniVersion: (v) => (/^\d+\.\d+\.\d+$/.test(v) ? undefined : `expected a CNI spec version like 1.0.0, found ${JSON.stringify(v)}`),
    delegation: (v) => (DELEGATIONS.includes(v as never) ? undefined : `expected a delegation semantics (${DELEGATIONS.join(', ')}), found ${JSON.stringify(v)}`),
    multus: (v) => multusProblem(v, doc.cluster.stack.multusCleanupOnExit === true) ?? (doc.workload.length ? MULTUS_WITH_PODS : undefined),
  };

  for (const field of STACK_FIELDS) {
    const template = stack[field];
    const checker = checkers[field];
    if (template === undefined || !checker) continue;
    if (template.replace(/\$\{[^}]*\}/g, '').includes('${')) continue; // an unclosed placeholder, already reported
    const dims = [...new Set(placeholders(template))];
    if (dims.some((d) => !(d in matrix))) continue; // already reported as a bad placeholder
    // Distinct values the field takes, with the cells giving each.
    const failures = new Map<string, { message: string; cells: Record<string, string>[] }>();
    const distinct = new Set<string>();
    for (const values of cells) {
      const v = substitute(template, values);
      distinct.add(v);
      const known = failures.get(v);
      if (known) known.cells.push(values);
      else {
        const message = checker(v);
        if (message) failures.set(v, { message, cells: [values] });
      }
    }
    if (!failures.size) continue;
    const at = ['cluster', 'stack', field];
    // Every value wrong, or no single dimension to blame: report at the field itself.
    if (dims.length !== 1 || failures.size === distinct.size) {
      for (const f of failures.values()) {
        const from = dims.length ? ` (${template} with ${Object.entries(f.cells[0]!).filter(([k]) => dims.includes(k)).map(([k, x]) => `${k}=${x}`).join(', ')})` : '';
        problems.push({ path: at, message: `${f.message}${from && !f.message.includes(template) ? from : ''}` });
      }
      continue;
    }
    // Some values of one dimension are wrong: point at those matrix entries.
    const dim = dims[0]!;
    for (const f of failures.values()) {
      const value = f.cells[0]![dim]!;
      problems.push({ path: ['matrix', dim, matrix[dim]!.indexOf(value)], message: `cluster.stack.${field} '${template}' with ${dim}=${value}: ${f.message}` });
    }
  }
}

/** A network of a stack, as validation sees it. */
interface ProfileNetwork {
  name: string;
  secondary: boolean;
  /** The host-local IPAM sections of its plugins. */
  hostLocal: Record<string, unknown>[];
}

/** What validation knows of one cell's stack: its networks and its default runtime. */
interface StackView {
  /** The profile value, or "inline". */
  name: string;
  /** For messages: "stack profile lab/x", "the scenario's inline stack". */
  label: string;
  networks: ProfileNetwork[];
  runtime?: string;
}

/** The networks of a profile or an inline stack, as read (unvalidated profile data is tolerated). */
function networksOf(list: unknown): ProfileNetwork[] {
  if (!Array.isArray(list)) return [];
  return (list as { secondary?: unknown; conflist?: { name?: unknown; plugins?: unknown } }[]).flatMap((n) => {
    if (typeof n?.conflist?.name !== 'string') return [];
    const plugins = Array.isArray(n.conflist.plugins) ? (n.conflist.plugins as { ipam?: Record<string, unknown> }[]) : [];
    const hostLocal = plugins.flatMap((pl) => (pl?.ipam?.type === 'host-local' ? [pl.ipam] : []));
    return [{ name: n.conflist.name, secondary: n.secondary === true, hostLocal }];
  });
}

/**
 * Addresses host-local can hand out per node in each default network (those written to
 * /etc/cni/net.d, which ip-headroom judges), the smallest over the stacks the matrix names; a
 * network whose ranges cannot be read is left out (its checks are made at run time).
 */
function hostLocalCapacities(doc: ScenarioDoc, lc: FileContext): Record<string, number> {
  const out: Record<string, number> = {};
  for (const view of distinctViews(doc, lc) ?? []) {
    for (const net of view.networks) {
      if (net.secondary || !net.hostLocal.length) continue;
      const capacities = net.hostLocal.flatMap((ipam) => (Array.isArray(ipam.ranges) ? (ipam.ranges as Record<string, unknown>[][]).flat() : [ipam])).map((r) => {
        const subnet = r?.subnet === 'usePodCidr' ? `10.0.0.0/${doc.cluster.nodeMask}` : r?.subnet;
        return typeof subnet === 'string' ? rangeCapacity({ ...(r as object), subnet }) : undefined;
      });
      if (capacities.some((c) => c === undefined)) continue; // not knowable here
      const total = capacities.reduce<number>((a, b) => a + b!, 0);
      out[net.name] = Math.min(out[net.name] ?? Infinity, total);
    }
  }
  return out;
}

/** The stack and runtime profiles present under a repository's profiles/ directory (read once). */
class ProfileCatalog {
  private stackNames?: string[];
  private runtimeNames?: string[];
  private readonly networkCache = new Map<string, ProfileNetwork[] | undefined>();
  private readonly files = new Map<string, { profile?: StackProfile; error?: unknown }>();
  constructor(private readonly repoRoot: string) {}

  /** A stack profile file named by a scenario (./my-stack.yaml), validated, or why it is not. */
  profileFile(file: string): { profile?: StackProfile; error?: unknown } {
    let r = this.files.get(file);
    if (!r) {
      try {
        r = { profile: parseStackProfileFile(readProfileTextSync(file, 'stack profile'), file) };
      } catch (e) {
        r = { error: e };
      }
      this.files.set(file, r);
    }
    return r;
  }

  /**
   * A cell's stack as validation sees it: its profile's (named, or a file beside the scenario) or
   * none, with the networks the scenario writes inline in place. Undefined when unreadable.
   */
  view(doc: ScenarioDoc, values: Readonly<Record<string, string>>, scenarioFile: string): StackView | undefined {
    const sel = doc.cluster.stack;
    const profile = sel.profile === undefined ? undefined : substitute(sel.profile, values);
    const inline = sel.networks ? networksOf(sel.networks) : undefined;
    if (profile === undefined) return inline ? { name: 'inline', label: "the scenario's inline stack", networks: inline, ...(sel.runtime === undefined ? {} : { runtime: substitute(sel.runtime, values) }) } : undefined;
    let networks: ProfileNetwork[] | undefined;
    let runtime: string | undefined;
    if (isProfileFileRef(profile)) {
      if (profileFileRefProblem(profile)) return undefined;
      const read = this.profileFile(profileFilePath(profile, scenarioFile)).profile;
      if (!read) return undefined;
      networks = networksOf(read.networks);
      runtime = read.runtime;
    } else {
      networks = this.networks(profile);
      runtime = this.defaultRuntime(profile);
    }
    if (!networks) return undefined;
    return { name: profile, label: `stack profile ${profile}${inline ? ' (with its networks written inline)' : ''}`, networks: inline ?? networks, ...(runtime === undefined ? {} : { runtime }) };
  }

  /** The networks a stack profile defines (undefined when it does not exist or cannot be read). */
  networks(profile: string): ProfileNetwork[] | undefined {
    if (this.networkCache.has(profile)) return this.networkCache.get(profile);
    let out: ProfileNetwork[] | undefined;
    if (this.stacks().includes(profile)) {
      try {
        const file = path.join(this.repoRoot, 'profiles', `${profile}.yaml`);
        const parsed = parseYamlWithPositions(readFileSync(file, 'utf8'), file);
        if (!parsed.ok) throw new Error('unreadable profile');
        out = networksOf((parsed.value as { networks?: unknown } | null)?.networks);
      } catch {
        out = undefined; // the stack check reports an unreadable profile when the cell runs
      }
    }
    this.networkCache.set(profile, out);
    return out;
  }

  stacks(): string[] {
    this.stackNames ??= this.scan(path.join(this.repoRoot, 'profiles'), '', true);
    return this.stackNames;
  }

  /** Kind stacks (profiles/kind/*.yaml), as kind/<name>. */
  kindStacks(): string[] {
    return kindStackNames(path.join(this.repoRoot, 'profiles'));
  }

  /** A kind stack, loaded (undefined when it does not exist); throws its own located problems. */
  kindStack(name: string): KindStack | undefined {
    if (!this.kindStacks().includes(name)) return undefined;
    const hit = this.kindCache.get(name);
    if (hit) return hit;
    const v = loadKindStackSync(name, path.join(this.repoRoot, 'profiles'));
    this.kindCache.set(name, v);
    return v;
  }

  private readonly kindCache = new Map<string, KindStack>();

  /** The runtime a stack profile names by default (undefined when unreadable). */
  defaultRuntime(profile: string): string | undefined {
    if (!this.stacks().includes(profile)) return undefined;
    try {
      const doc = parseYamlWithPositions(readFileSync(path.join(this.repoRoot, 'profiles', `${profile}.yaml`), 'utf8'), profile);
      const runtime = doc.ok ? (doc.value as { runtime?: unknown } | undefined)?.runtime : undefined;
      return typeof runtime === 'string' ? runtime : undefined;
    } catch {
      return undefined;
    }
  }

  /** Real containerd releases (profiles/runtime/containerd/*.yaml). */
  containerdReleases(): string[] {
    return containerdReleaseNames(path.join(this.repoRoot, 'profiles', 'runtime', 'containerd'));
  }

  runtimes(): string[] {
    this.runtimeNames ??= this.scan(path.join(this.repoRoot, 'profiles', 'runtime'), '', false);
    return this.runtimeNames;
  }

  private scan(dir: string, prefix: string, recurse: boolean): string[] {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const e of entries) {
      if (e.isDirectory()) {
        if (recurse && !(prefix === '' && (e.name === 'runtime' || e.name === 'kind')) && !e.name.startsWith('.')) out.push(...this.scan(path.join(dir, e.name), `${prefix}${e.name}/`, true));
      } else if (e.name.endsWith('.yaml')) out.push(`${prefix}${e.name.slice(0, -5)}`);
    }
    return out.sort();
  }
}
