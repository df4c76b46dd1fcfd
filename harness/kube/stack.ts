// Kind stacks (profiles/kind/<name>.yaml): what a real cluster runs, as data. Each pins the upstream
// files it installs by URL and sha256 (manifests applied with kubectl, install scripts run as the
// project's own kind install runs them), says what "the CNI is ready" means (rollouts to wait for),
// what it needs of the kind config (disableDefaultCNI, the pod subnet its manifests assume, extra
// config such as kube-proxy mode or kubeadm patches), and what its nodes can survive (a control plane
// whose etcd is on tmpfs cannot be rebooted). Scenarios name them as cluster.stack.profile kind/<name>.
import { readdir } from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as s from '../schema/dsl.ts';
import { FaultlineError, InvalidInputError } from '../errors.ts';
import { locateProblems, parseYamlWithPositions, type PositionMap } from '../schema/yaml.ts';
import { isCidr } from '../util/net.ts';
import { PROFILES_ROOT } from '../profiles/stack-profile.ts';

/** Stack profile names of this form are kind stacks. */
export const KIND_STACK_PREFIX = 'kind/';

const sha256 = s.string({ pattern: /^[0-9a-f]{64}$/, expected: '64 lowercase hex digits (the sha256 of the upstream file)' });
const url = s.string({ pattern: /^https:\/\/\S+$/, expected: 'an https URL at a tag or commit' });

const installSchema = s.object({
  name: s.req(s.string({ pattern: /^[a-z0-9][a-z0-9.-]*$/, expected: 'a short name like canal' })),
  url: s.req(url),
  sha256: s.req(sha256),
  type: s.opt(s.literal(['manifest', 'script'] as const, 'manifest: kubectl apply; script: bash with KUBECONFIG and kubectl on PATH, as the project runs it.'), 'manifest'),
  images: s.opt(s.record(s.string({ minLength: 1 }), { description: 'Image references replaced in the manifest (upstream manifests often name :snapshot).' })),
  env: s.opt(s.record(s.string(), { keyPattern: /^[A-Z][A-Z0-9_]*$/, description: 'Environment of an install script.' })),
});

const readySchema = s.object({
  kind: s.req(s.literal(['daemonset', 'deployment'] as const)),
  namespace: s.req(s.string({ minLength: 1 })),
  name: s.req(s.string({ minLength: 1 })),
});

export const kindStackSchema = s.object(
  {
    name: s.req(s.string({ minLength: 1 })),
    description: s.req(s.string({ minLength: 1 })),
    references: s.opt(s.array(s.string()), []),
    disableDefaultCNI: s.opt(s.boolean('The stack brings its own CNI (kindnet is not installed).'), false),
    podSubnet: s.opt(s.string({ expected: 'an IPv4 CIDR', check: (v) => (isCidr(v) ? undefined : `expected an IPv4 CIDR, found ${JSON.stringify(v)}`), description: "The pod CIDR the stack's manifests assume (the scenario's podCIDR must equal it)." })),
    install: s.req(s.array(installSchema, { minItems: 1, description: 'Pinned upstream files, installed in this order.' })),
    ready: s.opt(s.array(readySchema, { description: 'Rollouts that mean the stack is ready.' }), []),
    config: s.opt(s.record(s.json(), { description: 'Merged into the generated kind config (networking extras, kubeadmConfigPatches...): never name, nodes, kind or apiVersion.' })),
    reboot: s.opt(
      s.object({
        controlPlane: s.req(s.boolean('Whether a control-plane node survives a hard reboot.')),
        why: s.req(s.string({ minLength: 1 })),
      }),
    ),
    stageFilesFrom: s.opt(s.string({ pattern: /^[a-z0-9][a-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/, expected: 'a stack profile like harvester/v1.4.2', description: 'Run the boot stage files of this stack profile at every boot of every node, before containerd and kubelet (yip initramfs).' })),
  },
  { description: 'A stack for real clusters on the kind backend.' },
);

export type KindStackDoc = s.Infer<typeof kindStackSchema>;

export interface KindStack extends KindStackDoc {
  file: string;
  positions: PositionMap;
}

const RESERVED_CONFIG_KEYS = ['name', 'nodes', 'kind', 'apiVersion'];

/** Names of the kind stacks under profiles/kind/ (kind/<file name>), sync for the loader. */
export function kindStackNames(root = PROFILES_ROOT): string[] {
  try {
    return readdirSync(path.join(root, 'kind'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => `${KIND_STACK_PREFIX}${f.slice(0, -5)}`)
      .sort();
  } catch {
    return [];
  }
}

export function isKindStackName(name: string | undefined): boolean {
  return name?.startsWith(KIND_STACK_PREFIX) ?? false;
}

/** Loads and validates a kind stack; every problem at file:line:col. */
export async function loadKindStack(name: string, root = PROFILES_ROOT): Promise<KindStack> {
  return loadKindStackSync(name, root);
}

/** The same, synchronously (scenario validation). */
export function loadKindStackSync(name: string, root = PROFILES_ROOT): KindStack {
  const known = kindStackNames(root);
  if (!known.includes(name)) throw new FaultlineError('invalid-input', `unknown kind stack '${name}'; known: ${known.join(', ') || '(none)'}`);
  const file = path.join(root, `${name}.yaml`);
  const text = readFileSync(file, 'utf8');
  const parsed = parseYamlWithPositions(text, file, { noun: 'kind stack', expected: 'a kind stack mapping (name, description, install, ...)' });
  if (!parsed.ok) throw new InvalidInputError(parsed.problems);
  const problems: s.Problem[] = [];
  const v = kindStackSchema.validate(parsed.value, [], problems);
  if (v && v.name !== name) problems.push({ path: ['name'], message: `'${v.name}' does not match the file's place under profiles/ ('${name}')` });
  for (const k of Object.keys(v?.config ?? {})) {
    if (RESERVED_CONFIG_KEYS.includes(k)) problems.push({ path: ['config', k], atKey: true, message: `'${k}' is made by faultline from the scenario; a stack's config may not set it` });
  }
  if (problems.length || !v) throw new InvalidInputError(locateProblems(problems.length ? problems : [{ path: [], message: 'invalid kind stack' }], parsed.positions, file, 'kind stack: '));
  return { ...v, file, positions: parsed.positions };
}

/** Every kind stack, loaded (tests and doctor). */
export async function loadAllKindStacks(root = PROFILES_ROOT): Promise<KindStack[]> {
  const dir = path.join(root, 'kind');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.yaml'));
  return Promise.all(names.sort().map((f) => loadKindStack(`${KIND_STACK_PREFIX}${f.slice(0, -5)}`, root)));
}
