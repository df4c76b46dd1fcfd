// The scenario file's schema, built from the step and check schemas the fault and assertion
// registries declare (scenario/load.ts composes them), so that the validator, the generated JSON
// Schema and the code that runs cannot drift apart. The result has exactly the types of
// model/scenario.ts (checked below at compile time).
import * as s from '../schema/dsl.ts';
import { isCidr } from '../util/net.ts';
import { quantityValue } from '../util/quantity.ts';
import { REPEAT_STEP, type CheckSpec, type ScenarioDoc, type StepSpec } from '../model/scenario.ts';
import { networksSchema, stageFilesSchema, substitutionsSchema } from '../profiles/stack-parts.ts';

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

/** The most times a `repeat` may run its steps. */
export const MAX_REPEAT_TIMES = 1000;

/** What `repeat` is, for the schema's docs and `faultline new`. */
export const REPEAT_DESCRIPTION = 'Run the steps, in order, `times` times (nestable). Step numbers read 3.2.1: step 3, iteration 2, inner step 1.';

/**
 * One step: a registered fault or action, or `repeat` (a group of steps run `times` times, nestable).
 * The schema is recursive: the JSON Schema holds it once under #/definitions/step.
 */
export function stepSchema(steps: ScenarioRegistries['steps']): s.RecursiveSchema<StepSpec> {
  return s.recursive<StepSpec>('step', (self) => {
    const repeat = s.object(
      {
        times: s.req(s.integer({ min: 1, max: MAX_REPEAT_TIMES, description: 'How many times to run the steps.' })),
        steps: s.req(s.array(self, { minItems: 1, description: 'The steps of one iteration, in order.' })),
      },
      { description: REPEAT_DESCRIPTION },
    );
    return s.oneKey<StepSpec>({ ...steps, [REPEAT_STEP]: repeat }, (kind, params) => ({ kind, params }), {
      what: 'step',
      description: 'One fault, wait or action, or a repeat of steps. Exactly one key.',
    });
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

// containerd (and kubelet before it) refuse rates outside [1k, 1P] ("resource is unreasonably small/large").
function bandwidthProblem(q: string): string | undefined {
  const v = quantityValue(q);
  if (v === undefined) return `expected a bandwidth like 10M (bits per second; k, M, G, T, P or Ki..Pi), found ${JSON.stringify(q)}`;
  if (v < 1e3) return `expected at least 1k (containerd refuses a rate below 1 kbit/s as unreasonably small), found ${JSON.stringify(q)}`;
  if (v > 1e15) return `expected at most 1P (containerd refuses a rate above 1 Pbit/s as unreasonably large), found ${JSON.stringify(q)}`;
  return undefined;
}

const bandwidth = (description: string) => s.string({ expected: 'a bandwidth like 10M', check: bandwidthProblem, description });

export const capabilitiesSchema = s.object(
  {
    portMappings: s.opt(s.array(
      s.object({
        hostPort: s.req(s.integer({ min: 1, max: 65535, description: 'Port on the node.' })),
        containerPort: s.req(s.integer({ min: 1, max: 65535, description: 'Port in the pod.' })),
        protocol: s.opt(s.literal(['tcp', 'udp', 'sctp'] as const, 'Protocol (default tcp).'), 'tcp'),
        hostIP: s.opt(s.string({ pattern: /^(\d{1,3}\.){3}\d{1,3}$/, expected: 'an IPv4 address', description: 'Node address to bind (default all).' })),
      }),
      { minItems: 1, description: "hostPort mappings, passed to plugins declaring capabilities.portMappings (portmap) as runtimeConfig.portMappings; on containerd through the CRI pod config's port_mappings." },
    )),
    bandwidth: s.opt(s.object(
      {
        ingress: s.opt(bandwidth('The kubernetes.io/ingress-bandwidth annotation (bits/s).')),
        egress: s.opt(bandwidth('The kubernetes.io/egress-bandwidth annotation (bits/s).')),
      },
      { description: 'Traffic shaping as the kubernetes.io/ingress-bandwidth and egress-bandwidth annotations ask it: passed to plugins declaring capabilities.bandwidth as runtimeConfig.bandwidth (rate in bits/s, burst 2^32-1, as containerd does); on containerd through the pod annotations.' },
    )),
  },
  { description: 'What kubelet passes for each pod of the workload besides its identity (CNI capabilities).' },
);

export const workloadSchema = s.object({
  name: s.req(name('Pod name prefix.')),
  replicasPerNode: s.opt(s.integer({ min: 0, max: 250, description: 'Desired pods of this workload on each selected node.' }), 1),
  nodes: s.opt(s.array(name(), { minItems: 1, unique: true, description: 'Nodes to run on; default all.' })),
  networks: s.opt(s.array(name(), { unique: true, description: 'Secondary networks (by name, Multus style) besides the default one.' })),
  role: s.opt(s.literal(['pod', 'nat-gateway'] as const, 'nat-gateway adds SNAT/DNAT for an elastic address inside the pod.'), 'pod'),
  capabilities: s.opt(capabilitiesSchema),
  args: s.opt(s.record(s.string({ pattern: /^[^;=]*$/, expected: "a value without ';' or '='" }), {
    keyPattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
    minProperties: 1,
    description: 'Extra CNI_ARGS (K=V;...) for every pod, after the runtime\'s own (K8S_POD_NAME...). The model runtime only: containerd builds CNI_ARGS itself from the pod metadata.',
  })),
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

export const expectedFailureSchema = s.object(
  {
    name: s.req(name('The assertion (or invariant) that must fail.')),
    evidence: s.req(s.string({ minLength: 1, expected: 'a regular expression', check: regexProblem, description: 'A regular expression one of its evidence lines must match (the summary, or a detail such as the file, link or chain).' })),
  },
  { description: 'An assertion that must fail for a stated reason: its evidence must match.' },
);

export const expectationSchema = s.object({
  when: s.opt(s.record(s.string(), { keyPattern: DIM, description: 'Matrix values this expectation applies to; omitted means every cell.' })),
  outcome: s.req(s.literal(['pass', 'fail', 'error'] as const)),
  failing: s.opt(s.array(s.either(name(), expectedFailureSchema), { minItems: 1, unique: true, description: 'Assertions that must fail (for outcome fail): a name, or { name, evidence: <regex> } to require evidence.' })),
  error: s.opt(expectedErrorSchema),
  reason: s.opt(s.string({ description: 'Why: the bug, the fix, the reference.' })),
});

/** What a stack without a profile must write itself. */
export const WITHOUT_PROFILE: Record<'networks' | 'cni' | 'runtime', string> = {
  networks: "a stack without 'profile' writes its networks inline, each with its file and conflist",
  cni: "a stack without 'profile' names its plugin version, e.g. cni: 1.1.1",
  runtime: "a stack without 'profile' names its runtime, e.g. runtime: libcni-1.1 or containerd-1.6",
};

const stackFields = s.object({
  profile: s.opt(s.string({ minLength: 1, description: 'Stack profile under profiles/ (harvester/${harvester}; ${dim} takes the matrix value), or a profile file beside the scenario (./my-stack.yaml). Omit it to write the stack inline (networks, cni, runtime).' })),
  cni: s.opt(s.string({ minLength: 1, description: 'CNI plugin version (e.g. 1.1.1, system); default from the profile.' })),
  runtime: s.opt(s.string({ minLength: 1, description: 'Runtime profile under profiles/runtime/ (e.g. libcni-1.1).' })),
  cniVersion: s.opt(s.string({ pattern: /^(\$\{[a-z][a-z0-9-]*\}|\d+\.\d+\.\d+)$/, description: "Override the conflist's cniVersion." })),
  delegation: s.opt(s.string({ minLength: 1, description: 'Multi-network delegation semantics (definition-at-del, cached-delegates).' })),
  networks: s.opt(networksSchema),
  stageFiles: s.opt(stageFilesSchema),
  substitutions: s.opt(substitutionsSchema),
  multus: s.opt(s.string({ minLength: 1, description: "Multus's thin plugin on every node, started at boot with the node's /etc/cni/net.d: v4.0.2 or go:v4.0.2 (built from upstream source), go:<commit>, dir:/path." })),
  multusCleanupOnExit: s.opt(s.boolean('Run the thin entrypoint with --cleanup-config-on-exit (v4.1.0 and later remove their config on SIGTERM; refused on v4.0.x, where it loops nesting its own config).')),
}, { description: "The CNI stack: a profile (named, or a file beside the scenario), the scenario's own networks written inline, or a profile with fields replaced inline." });

// A stack is a profile, or written inline: then its networks, plugin version and runtime are all there.
export const stackSchema = s.refine(stackFields, (st) => {
  if (st.profile !== undefined) return [];
  if (st.networks === undefined) return [{ message: "missing required key 'profile' (a stack profile like lab/bridge-portmap, or a file beside the scenario like ./my-stack.yaml), or write the stack inline: networks, cni and runtime" }];
  return (['cni', 'runtime'] as const).filter((k) => st[k] === undefined).map((k) => ({ message: `missing required key '${k}' (${WITHOUT_PROFILE[k]})` }));
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
  const steps = stepSchema(reg.steps);
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
      steps: s.opt(s.array(steps), []),
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
  const step = stepSchema(reg.steps);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://faultline.dev/schemas/scenario.schema.json',
    title: 'faultline scenario',
    ...buildScenarioSchema(reg).jsonSchema(),
    definitions: { [step.definitionName]: step.definition() },
  };
}
