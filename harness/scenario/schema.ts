// The scenario file's schema, built from the step and check schemas the fault and assertion
// registries declare (scenario/load.ts composes them), so that the validator, the generated JSON
// Schema and the code that runs cannot drift apart. The result has exactly the types of
// model/scenario.ts (checked below at compile time).
import * as s from '../schema/dsl.ts';
import { isCidr } from '../util/net.ts';
import type { CheckSpec, ScenarioDoc, StepSpec } from '../model/scenario.ts';

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DIM = /^[a-z][a-z0-9-]{0,30}$/;
const NAME_EXPECTED = 'a lowercase name like hard-reboot-leak';
const name = (description?: string) => s.string({ pattern: NAME, expected: NAME_EXPECTED, ...(description ? { description } : {}) });

export const cidr = (description?: string) =>
  s.string({ expected: 'an IPv4 CIDR like 10.52.0.0/16', check: (v) => (isCidr(v) ? undefined : `expected an IPv4 CIDR like 10.52.0.0/16, found string ${JSON.stringify(v)}`), ...(description ? { description } : {}) });

/** The parameter schemas of every registered step kind and check kind. */
export interface ScenarioRegistries {
  steps: Record<string, s.Schema<any>>;
  checks: Record<string, s.Schema<any>>;
  /** Backend names the registry knows. */
  backends: readonly string[];
}

export function stepSchema(steps: ScenarioRegistries['steps']): s.Schema<StepSpec> {
  return s.oneKey<StepSpec>(steps, (kind, params) => ({ kind, params }), {
    what: 'step',
    description: 'One fault, wait or action. Exactly one key.',
  });
}

export function checkSchema(checks: ScenarioRegistries['checks']): s.Schema<CheckSpec> {
  return s.oneKey<CheckSpec>(
    checks,
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
}

export const workloadSchema = s.object({
  name: s.req(name('Pod name prefix.')),
  replicasPerNode: s.opt(s.integer({ min: 0, max: 250, description: 'Desired pods of this workload on each selected node.' }), 1),
  nodes: s.opt(s.array(name(), { minItems: 1, unique: true, description: 'Nodes to run on; default all.' })),
  networks: s.opt(s.array(name(), { unique: true, description: 'Secondary networks (by name, Multus style) besides the default one.' })),
  role: s.opt(s.literal(['pod', 'nat-gateway'] as const, 'nat-gateway adds SNAT/DNAT for an elastic address inside the pod.'), 'pod'),
});

/** Why a regular expression does not compile, or undefined. */
function regexProblem(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (e) {
    return `expected a regular expression, found ${JSON.stringify(source)}: ${(e as Error).message}`;
  }
}

export const expectedErrorSchema = s.object(
  {
    match: s.req(s.string({ minLength: 1, expected: 'a regular expression', check: regexProblem, description: 'A regular expression the error message must match, e.g. "incompatible CNI versions".' })),
    source: s.req(s.literal(['plugin', 'runtime', 'harness'] as const, "Where the error must come from: a CNI plugin's own error, the runtime's, or the harness (anything else).")),
  },
  { description: 'The error an `outcome: error` cell must end in; any other error is unexpected.' },
);

export const expectationSchema = s.object({
  when: s.opt(s.record(s.string(), { keyPattern: DIM, description: 'Matrix values this expectation applies to; omitted means every cell.' })),
  outcome: s.req(s.literal(['pass', 'fail', 'error'] as const)),
  failing: s.opt(s.array(name(), { minItems: 1, unique: true, description: 'Assertions that must fail (for outcome fail).' })),
  error: s.opt(expectedErrorSchema),
  reason: s.opt(s.string({ description: 'Why: the bug, the fix, the reference.' })),
});

export const stackSchema = s.object({
  profile: s.req(s.string({ minLength: 1, description: 'Stack profile under profiles/, e.g. harvester/${harvester}. ${dim} takes the matrix value.' })),
  cni: s.opt(s.string({ minLength: 1, description: 'CNI plugin version (e.g. 1.1.1, system); default from the profile.' })),
  runtime: s.opt(s.string({ minLength: 1, description: 'Runtime profile under profiles/runtime/ (e.g. libcni-1.1).' })),
  cniVersion: s.opt(s.string({ pattern: /^(\$\{[a-z][a-z0-9-]*\}|\d+\.\d+\.\d+)$/, description: "Override the conflist's cniVersion." })),
  delegation: s.opt(s.string({ minLength: 1, description: 'Multi-network delegation semantics (definition-at-del, cached-delegates).' })),
  multus: s.opt(s.string({ minLength: 1, description: "Multus's thin plugin on every node, started at boot with the node's /etc/cni/net.d: v4.0.2 or go:v4.0.2 (built from upstream source), go:<commit>, dir:/path." })),
  multusCleanupOnExit: s.opt(s.boolean('Run the thin entrypoint with --cleanup-config-on-exit (v4.1.0 and later remove their config on SIGTERM; refused on v4.0.x, where it loops nesting its own config).')),
});

export const agentSchema = s.object(
  {
    reconcileAfterBoot: s.opt(
      s.either(
        s.boolean(),
        s.string({ pattern: /^\$\{[a-z][a-z0-9-]*\}$/, expected: 'a ${dimension} placeholder whose values are "true" or "false"' }),
        'After a boot, Stop then Remove every sandbox the runtime lists as not ready, as kubelet does (default true); false models a node that forgot its sandboxes.',
      ),
    ),
  },
  { description: 'What the node agent (kubelet) does.' },
);

export const kindSchema = s.object(
  {
    nodeImage: s.opt(s.string({ pattern: /^(\$\{[a-z][a-z0-9-]*\}|[a-z0-9][a-z0-9._:/@-]*)$/, expected: 'a node image like kindest/node:v1.31.0@sha256:... or a ${dimension} placeholder', description: 'kind node image (it decides containerd and libcni); default: the kind binary\'s own.' })),
  },
  { description: 'Only for backend kind: a real cluster made by kind. The stack is cluster.stack.profile kind/<name> (profiles/kind/).' },
);

export const clusterSchema = (backends: readonly string[]) => s.object({
  backend: s.opt(s.literal<string>(backends, 'Where the nodes run (default local); --backend overrides it for every cell.'), 'local'),
  nodes: s.opt(s.integer({ min: 1, max: 16, description: 'Number of nodes, named node-1..node-N.' }), 1),
  podCIDR: s.opt(cidr('Cluster pod CIDR; each node gets a subnet of size nodeMask.'), '10.52.0.0/16'),
  nodeMask: s.opt(s.integer({ min: 8, max: 30, description: 'Prefix length of each node subnet.' }), 24),
  stack: s.req(stackSchema),
  agent: s.opt(agentSchema),
  kind: s.opt(kindSchema),
});

export function buildScenarioSchema(reg: ScenarioRegistries) {
  return s.object(
    {
      name: s.req(name('Scenario name (DNS label).')),
      description: s.req(s.string({ minLength: 1 })),
      references: s.opt(s.array(s.string({ minLength: 1 }), { description: 'Bug threads, PRs, docs this reproduces.' }), []),
      suites: s.opt(s.array(name(), { description: 'Suites this scenario belongs to (npm start runs "default").' }), []),
      matrix: s.opt(s.record(s.array(s.string({ minLength: 1 }), { minItems: 1, unique: true }), { keyPattern: DIM }), {}),
      expect: s.opt(s.array(expectationSchema), []),
      cluster: s.req(clusterSchema(reg.backends)),
      workload: s.opt(s.array(workloadSchema), []),
      steps: s.opt(s.array(stepSchema(reg.steps)), []),
      invariants: s.opt(s.array(checkSchema(reg.checks)), []),
      assertions: s.opt(s.array(checkSchema(reg.checks)), []),
    },
    { description: 'A faultline scenario: cluster, stack, faults and what must hold afterwards.' },
  );
}

// The schema's output is exactly model/scenario.ts's ScenarioDoc (a compile error here means the two drifted).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const conforms: Same<s.Infer<ReturnType<typeof buildScenarioSchema>>, ScenarioDoc> = true;
void conforms;

export function generateJsonSchema(reg: ScenarioRegistries): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://faultline.dev/schemas/scenario.schema.json',
    title: 'faultline scenario',
    ...buildScenarioSchema(reg).jsonSchema(),
  };
}
