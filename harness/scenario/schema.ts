// The scenario file's schema, composed from the fault and assertion registries so that the
// validator, the generated JSON Schema and the code that runs cannot drift apart.
import * as s from '../schema/dsl.ts';
import { faultSchemas } from '../faults/index.ts';
import { assertionSchemas } from '../assertions/index.ts';
import { isCidr } from '../util/net.ts';

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DIM = /^[a-z][a-z0-9-]{0,30}$/;
const NAME_EXPECTED = 'a lowercase name like hard-reboot-leak';
const name = (description?: string) => s.string({ pattern: NAME, expected: NAME_EXPECTED, ...(description ? { description } : {}) });

export const cidr = (description?: string) =>
  s.string({ expected: 'an IPv4 CIDR like 10.52.0.0/16', check: (v) => (isCidr(v) ? undefined : `expected an IPv4 CIDR like 10.52.0.0/16, found string ${JSON.stringify(v)}`), ...(description ? { description } : {}) });

export interface StepSpec {
  kind: string;
  params: Record<string, unknown>;
}
export interface CheckSpec {
  kind: string;
  /** Name used in `expect.failing` and reports; defaults to the kind. */
  name: string;
  params: Record<string, unknown>;
}

export const stepSchema = s.oneKey<StepSpec>(faultSchemas(), (kind, params) => ({ kind, params }), {
  what: 'step',
  description: 'One fault, wait or action. Exactly one key.',
});

export const checkSchema = s.oneKey<CheckSpec>(
  assertionSchemas(),
  (kind, params) => {
    const { name, ...rest } = params as Record<string, unknown>;
    return { kind, name: typeof name === 'string' ? name : kind, params: rest };
  },
  {
    what: 'assertion',
    description: 'One check. Exactly one key; `name` distinguishes two checks of the same kind.',
    extra: { name: s.opt(name('Name used by expect.failing and in reports.')) },
  },
);

export const workloadSchema = s.object({
  name: s.req(name('Pod name prefix.')),
  replicasPerNode: s.opt(s.integer({ min: 0, max: 250, description: 'Desired pods of this workload on each selected node.' }), 1),
  nodes: s.opt(s.array(name(), { minItems: 1, unique: true, description: 'Nodes to run on; default all.' })),
  networks: s.opt(s.array(name(), { unique: true, description: 'Secondary networks (by name, Multus style) besides the default one.' })),
  role: s.opt(s.literal(['pod', 'nat-gateway'] as const, 'nat-gateway adds SNAT/DNAT for an elastic address inside the pod.'), 'pod'),
});

export const expectationSchema = s.object({
  when: s.opt(s.record(s.string(), { keyPattern: DIM, description: 'Matrix values this expectation applies to; omitted means every cell.' })),
  outcome: s.req(s.literal(['pass', 'fail', 'error'] as const)),
  failing: s.opt(s.array(name(), { minItems: 1, unique: true, description: 'Assertions that must fail (for outcome fail).' })),
  reason: s.opt(s.string({ description: 'Why: the bug, the fix, the reference.' })),
});

export const stackSchema = s.object({
  profile: s.req(s.string({ minLength: 1, description: 'Stack profile under profiles/, e.g. harvester/${harvester}. ${dim} takes the matrix value.' })),
  cni: s.opt(s.string({ minLength: 1, description: 'CNI plugin version (e.g. 1.1.1, system); default from the profile.' })),
  runtime: s.opt(s.string({ minLength: 1, description: 'Runtime profile under profiles/runtime/ (e.g. libcni-1.1).' })),
  cniVersion: s.opt(s.string({ pattern: /^(\$\{[a-z][a-z0-9-]*\}|\d+\.\d+\.\d+)$/, description: "Override the conflist's cniVersion." })),
  delegation: s.opt(s.string({ minLength: 1, description: 'Multi-network delegation semantics (definition-at-del, cached-delegates).' })),
});

export const clusterSchema = s.object({
  backend: s.opt(s.literal(['local', 'container', 'kind'] as const), 'local'),
  nodes: s.opt(s.integer({ min: 1, max: 16, description: 'Number of nodes, named node-1..node-N.' }), 1),
  podCIDR: s.opt(cidr('Cluster pod CIDR; each node gets a subnet of size nodeMask.'), '10.52.0.0/16'),
  nodeMask: s.opt(s.integer({ min: 8, max: 30, description: 'Prefix length of each node subnet.' }), 24),
  stack: s.req(stackSchema),
});

export const scenarioSchema = s.object(
  {
    name: s.req(name('Scenario name (DNS label).')),
    description: s.req(s.string({ minLength: 1 })),
    references: s.opt(s.array(s.string({ minLength: 1 }), { description: 'Bug threads, PRs, docs this reproduces.' }), []),
    suites: s.opt(s.array(name(), { description: 'Suites this scenario belongs to (npm start runs "default").' }), []),
    matrix: s.opt(s.record(s.array(s.string({ minLength: 1 }), { minItems: 1, unique: true }), { keyPattern: DIM }), {}),
    expect: s.opt(s.array(expectationSchema), []),
    cluster: s.req(clusterSchema),
    workload: s.opt(s.array(workloadSchema), []),
    steps: s.opt(s.array(stepSchema), []),
    invariants: s.opt(s.array(checkSchema), []),
    assertions: s.opt(s.array(checkSchema), []),
  },
  { description: 'A faultline scenario: cluster, stack, faults and what must hold afterwards.' },
);

export type ScenarioDoc = s.Infer<typeof scenarioSchema>;
export type Workload = s.Infer<typeof workloadSchema>;
export type Expectation = s.Infer<typeof expectationSchema>;

/** A validated scenario plus where it came from. */
export interface Scenario extends ScenarioDoc {
  file: string;
  /** Source positions by key path ("steps.0.hard-reboot.node"), for errors found later. */
  positions: Map<string, { line: number; column: number }>;
}

export function generateJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://faultline.dev/schemas/scenario.schema.json',
    title: 'faultline scenario',
    ...scenarioSchema.jsonSchema(),
  };
}
