// `faultline new <name>`: a scenario skeleton that validates and runs as it is, with every kind of
// step and check listed in comments beside it, each with its parameters' docs from the schema the
// registries declare (the same text editors show), so a bug report can be written from this file and
// the README alone.
import path from 'node:path';
import { faults } from '../faults/index.ts';
import { assertions } from '../assertions/index.ts';
import { REPEAT_DESCRIPTION, MAX_REPEAT_TIMES } from './schema.ts';
import { MAX_EXPANDED_STEPS } from './steps.ts';

const WIDTH = 100;

/** Text cut into comment lines of at most WIDTH characters, each starting with `prefix`. */
function commentLines(text: string, prefix: string): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && prefix.length + line.length + 1 + word.length > WIDTH) {
      out.push(`${prefix}${line}`);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(`${prefix}${line}`);
  return out;
}

/** One parameter of a JSON Schema object, as a person reads it: type, required or default, docs. */
function paramText(name: string, schema: Record<string, unknown>, required: boolean): string {
  const type = Array.isArray(schema.enum)
    ? (schema.enum as unknown[]).map((v) => JSON.stringify(v)).join(' | ')
    : schema.type === 'array' ? 'list' : schema.type === 'object' ? 'mapping' : typeof schema.type === 'string' ? schema.type : schema.anyOf ? 'see the schema' : 'value';
  const bounds = [schema.minimum !== undefined ? `>= ${schema.minimum}` : '', schema.maximum !== undefined ? `<= ${schema.maximum}` : ''].filter(Boolean).join(', ');
  const how = required ? 'required' : schema.default !== undefined ? `default ${JSON.stringify(schema.default)}` : 'optional';
  const doc = typeof schema.description === 'string' ? `: ${schema.description}` : '';
  return `${name} (${type}${bounds ? ` ${bounds}` : ''}; ${how})${doc}`;
}

/** A kind's docs: its description, then one line per parameter. */
function kindDocs(name: string, description: string, params: Record<string, unknown>, extra: string[] = []): string[] {
  const lines = commentLines(`${name}: ${description}`, '#   ');
  const props = (params.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((params.required ?? []) as string[]);
  for (const [p, schema] of Object.entries(props)) lines.push(...commentLines(paramText(p, schema, required.has(p)), '#       '));
  for (const e of extra) lines.push(...commentLines(e, '#       '));
  return lines;
}

/** The relative path from `dir` to the repository's scenario JSON Schema (for the modeline). */
export function schemaPathFrom(dir: string, repoRoot: string): string {
  const rel = path.relative(dir, path.join(repoRoot, 'schemas', 'scenario.schema.json'));
  return rel.split(path.sep).join('/');
}

/** The skeleton's text for a scenario called `name` written in `dir`. */
export function scenarioSkeleton(name: string, dir: string, repoRoot: string): string {
  const stepDocs = [
    ...faults.slice().sort((a, b) => a.name.localeCompare(b.name)).flatMap((f) => kindDocs(f.name, f.description, f.params.jsonSchema())),
    ...kindDocs('repeat', REPEAT_DESCRIPTION, {}, [
      `times (integer >= 1, <= ${MAX_REPEAT_TIMES}; required): how many times`,
      `steps (list; required): the steps of one iteration; all steps, repeats unrolled, at most ${MAX_EXPANDED_STEPS}`,
    ]),
  ];
  const checkDocs = assertions
    .slice()
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((a) => kindDocs(a.name, `${a.description}${a.cheap ? ' (cheap: judged after every churn operation)' : ''}`, a.params.jsonSchema(), ['name (string; optional): the name expect.failing and reports use (default: the kind)']));
  return [
    `# yaml-language-server: $schema=${schemaPathFrom(dir, repoRoot)}`,
    `# A faultline scenario, written by \`faultline new ${name}\`. It validates and runs as it is:`,
    `#   faultline validate ${name}.yaml && faultline run ${name}.yaml`,
    '# Change the stack to the one of the bug report, the steps to what happened, and the checks and',
    '# `expect` to what the report says goes wrong. docs/reproduce-a-bug-report.md walks through one.',
    `name: ${name}`,
    'description: >-',
    '  What the bug report says happens, on which versions, and what is left behind. Say here when the',
    '  behaviour is not tied to a known bug thread.',
    '# references: [https://github.com/<owner>/<repo>/issues/<n>]   # the bug threads, fixes, docs',
    '# suites: [reproduce]            # `faultline run scenarios --suite reproduce` runs the suite',
    '',
    '# matrix: one cell per combination; ${dimension} in cluster.stack takes the cell\'s value.',
    '# matrix:',
    '#   runtime: [libcni-1.1, libcni-1.2]',
    '# expect: per cell; a cell no entry matches must pass.',
    '# expect:',
    '#   - when: { runtime: libcni-1.1 }',
    '#     outcome: fail                 # pass | fail | error',
    '#     failing:                      # names, or { name, evidence: <regex> } to require a reason',
    '#       - del-succeeds',
    '#       - { name: no-orphan-devices, evidence: "ifb bwp" }',
    '#     reason: the bug, the fix, the reference',
    '#   # an expected error names its source and message:',
    '#   # - when: { runtime: libcni-1.2 }',
    '#   #   outcome: error',
    '#   #   error: { source: plugin, match: "incompatible CNI versions" }',
    '',
    'cluster:',
    '  backend: local',
    '  nodes: 1                        # node-1 .. node-N',
    '  podCIDR: 10.88.0.0/16           # private ranges only',
    '  nodeMask: 24                    # node-i gets the i-th /24',
    '  stack:',
    '    # A profile under profiles/ (lab/bridge-portmap, harvester/v1.4.3...), or a profile file beside',
    '    # this one (profile: ./my-stack.yaml), or the stack written here: networks, cni, runtime.',
    '    # With a profile, networks/stageFiles/substitutions written here replace the profile\'s.',
    '    cni: 1.1.1                     # plugin version: 1.1.1 | 0.9.0 | sid | system | dir:/path',
    '    runtime: libcni-1.1            # libcni-1.1|1.2|1.3 (model) or containerd-1.6|2.1 (real)',
    '    # cniVersion: 1.0.0            # override every conflist\'s cniVersion',
    '    networks:                      # the first file in sorted order is the default network (eth0)',
    '      - file: 10-mynet.conflist',
    '        conflist:                  # the reporter\'s conflist, as JSON or YAML',
    '          name: mynet',
    '          cniVersion: 1.0.0',
    '          plugins:',
    '            - type: bridge',
    '              bridge: cni0',
    '              isGateway: true',
    '              ipMasq: true',
    '              ipam: { type: host-local, subnet: usePodCidr }   # usePodCidr: the node\'s subnet',
    '            # - { type: portmap, capabilities: { portMappings: true } }',
    '            # - { type: bandwidth, capabilities: { bandwidth: true } }',
    '    # stageFiles: [{ path: /system/oem/99_x.yaml, source: <where from>, content: "<yip stages>" }]',
    '    # substitutions: [{ plugin: calico, standIn: bridge, why: <why> }]',
    '',
    'workload:',
    '  - name: web                     # pods are named web-n<node>-<i>',
    '    replicasPerNode: 2            # started at every boot; 0 lets steps create them (create-pods)',
    '    # nodes: [node-1]',
    '    # capabilities:               # what kubelet passes for the pod (CRI pod config)',
    '    #   portMappings: [{ hostPort: 8080, containerPort: 80, protocol: tcp }]',
    '    #   bandwidth: { ingress: 10M, egress: 10M }   # the kubernetes.io/*-bandwidth annotations',
    '    # args: { MY_ARG: value }     # extra CNI_ARGS (model runtimes only)',
    '',
    '# Steps run in order; after each one every node is observed and the invariants are checked.',
    '# Each step is exactly one of these (step numbers in messages are 1-based: 3.2.1 is step 3,',
    '# iteration 2, inner step 1):',
    ...stepDocs,
    'steps:',
    '  - create-pods: { workload: web, node: node-1, count: 2, concurrency: 2 }',
    '  - repeat:',
    '      times: 2',
    '      steps:',
    '        - delete-pods: { node: node-1, pods: [web-n1-0] }',
    '        - create-pods: { workload: web, node: node-1 }',
    '  - delete-pods: { node: node-1, workload: web }',
    '',
    '# Checks: `invariants` are judged after every step, `assertions` at the end. Each gives pass, fail',
    '# or unknown with evidence (the file, the device, the chain, the error string):',
    ...checkDocs,
    'invariants:',
    '  - reservation-accounting: {}',
    'assertions:',
    '  - del-succeeds: {}',
    '  - no-leaked-reservations: {}',
    '  - no-orphan-devices: {}',
    '  - no-orphan-iptables: {}',
    '  - pods-running: {}',
    '',
  ].join('\n');
}
