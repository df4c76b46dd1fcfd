import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.ts';
import { faults } from '../faults/index.ts';
import { assertions } from '../assertions/index.ts';
import { findScenarioFiles, loadScenario, loadScenarios, parseScenario } from './load.ts';
import { pathProblem } from './refs.ts';
import { expandMatrix } from './matrix.ts';

const GOOD = path.join(import.meta.dirname, 'testdata', 'good');
/** A test about a fault or assertion fails (never skips) when it is not registered: renamed or gone. */
function requireFault(name: string): void {
  expect(faults.map((f) => f.name), `fault '${name}' is not registered`).toContain(name);
}
function requireAssertion(name: string): void {
  expect(assertions.map((a) => a.name), `assertion '${name}' is not registered`).toContain(name);
}

let root: string; // a repository with a few profiles
let work: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'faultline-load-'));
  work = path.join(root, 'work');
  for (const f of ['harvester/v1.4.1', 'harvester/v1.4.2', 'harvester/v1.4.3', 'kube-ovn/v1.13.0', 'runtime/libcni-1.1', 'runtime/libcni-1.2']) {
    await mkdir(path.dirname(path.join(root, 'profiles', f)), { recursive: true });
    await writeFile(path.join(root, 'profiles', `${f}.yaml`), 'name: x\n');
  }
  await mkdir(work, { recursive: true });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const HEAD = 'name: demo\ndescription: A demo.\n';
const parse = (text: string) => parseScenario(text, 's.yaml', { repoRoot: root });

// Every located problem of an invalid scenario, as "line:col message".
function problems(text: string): string[] {
  try {
    parse(text);
  } catch (e) {
    if (!(e instanceof InvalidInputError)) throw e;
    return e.problems.map((p) => {
      expect(p.location.file).toBe('s.yaml');
      return `${p.location.line}:${p.location.column} ${p.message}`;
    });
  }
  throw new Error('expected the scenario to be invalid');
}

describe('loadScenario: good files', () => {
  it('loads the minimal fixture with defaults and positions', async () => {
    const sc = await loadScenario(path.join(GOOD, 'minimal.yaml'), { repoRoot: root });
    expect(sc.name).toBe('minimal');
    expect(sc.cluster).toEqual({ backend: 'local', nodes: 1, podCIDR: '10.52.0.0/16', nodeMask: 24, stack: { profile: 'harvester/v1.4.3' } });
    expect(sc.steps).toEqual([]);
    expect(sc.file).toBe(path.join(GOOD, 'minimal.yaml'));
    expect(sc.positions.get('cluster.stack.profile')).toEqual({ line: 7, column: 14 });
  });

  it('loads the matrix fixture: six cells, two expected to error', async () => {
    const sc = await loadScenario(path.join(GOOD, 'matrix-expect.yaml'), { repoRoot: root });
    const cells = expandMatrix(sc);
    expect(cells).toHaveLength(6);
    expect(cells.filter((c) => c.expectation.outcome === 'error').map((c) => c.id)).toEqual([
      'matrix-expect[harvester=v1.4.1,cni=system]',
      'matrix-expect[harvester=v1.4.1,cni=1.1.1]',
      'matrix-expect[harvester=v1.4.2,cni=1.1.1]',
    ]);
  });

  it('loads a fixture with hard-reboot steps and an expected failure', async () => {
    requireFault('hard-reboot');
    requireAssertion('no-leaked-reservations');
    const sc = await loadScenario(path.join(GOOD, 'hard-reboot-leak.yaml'), { repoRoot: root });
    expect(sc.steps).toEqual([{ kind: 'hard-reboot', params: expect.objectContaining({ node: 'node-1', repeat: 2 }) }]);
    expect(expandMatrix(sc)[0]!.expectation).toMatchObject({ outcome: 'fail', failing: ['no-leaked-reservations'] });
  });
});

describe('loadScenario: schema problems', () => {
  it('reports every problem of a file at once, in file order, with the key path', () => {
    const text = 'name: Bad Name\ndescription: 3\ncluster:\n  nodes: two\n  nodemask: 24\n  stack: {}\nsurprise: 1\n';
    expect(problems(text)).toEqual([
      '1:7 name: expected a lowercase name like hard-reboot-leak, found string "Bad Name"',
      '2:14 description: expected a string, found number 3 (put it in quotes to read it as text)',
      '4:10 cluster.nodes: expected an integer >= 1 and <= 16, found string "two"',
      "5:3 cluster.nodemask: unknown key 'nodemask' (did you mean 'nodeMask'?); expected one of: backend, nodes, podCIDR, nodeMask, stack, agent, kind",
      "6:3 cluster.stack: missing required key 'profile' (a stack profile like lab/bridge-portmap, or a file beside the scenario like ./my-stack.yaml), or write the stack inline: networks, cni and runtime",
      "7:1 surprise: unknown key 'surprise'; expected one of: name, description, references, suites, matrix, expect, cluster, workload, steps, invariants, assertions",
    ]);
  });

  it('leaves semantic checks until the schema holds', () => {
    // A public CIDR would be a semantic problem; the wrong type hides it.
    expect(problems(`${HEAD}cluster:\n  nodes: x\n  podCIDR: 8.8.0.0/16\n  stack: {profile: harvester/v1.4.3}\n`)).toHaveLength(1);
  });

  it('rejects an unknown step kind at its key, whatever is registered', () => {
    expect(problems(`${HEAD}cluster:\n  stack: {profile: harvester/v1.4.3}\nsteps:\n  - no-such-fault: {}\n`)[0]).toMatch(/^6:5 steps\.0\.no-such-fault: unknown step 'no-such-fault'/);
  });
});

describe('loadScenario: matrix checks', () => {
  const stack = (profile: string, extra = '') => `cluster:\n  stack:\n    profile: ${profile}\n${extra}`;

  it('requires placeholders to name dimensions and every dimension to be used', () => {
    const text = `${HEAD}matrix:\n  harvester: [v1.4.2]\n  spare: [a, b]\n${stack('harvester/${harvester}-${flavour}')}`;
    expect(problems(text)).toEqual([
      "5:3 matrix.spare: matrix dimension 'spare' is not used: refer to it in cluster.stack as ${spare} or in an expect.when",
      '8:14 cluster.stack.profile: placeholder ${flavour} names no matrix dimension; dimensions: harvester, spare',
    ]);
    expect(problems(`${HEAD}${stack('harvester/${v')}`)).toEqual(['5:14 cluster.stack.profile: unclosed placeholder in "harvester/${v"; write ${dimension}']);
  });

  it('counts a dimension used only by expect.when as used', () => {
    const text = `${HEAD}matrix:\n  harvester: [v1.4.2, v1.4.3]\n  seed: ['1', '2']\nexpect:\n  - when: {seed: '2'}\n    outcome: error\n    error: {source: plugin, match: x}\n${stack('harvester/${harvester}')}`;
    expect(expandMatrix(parse(text))).toHaveLength(4);
  });

  it('checks expect.when keys and values, failing lists and overlapping expectations', () => {
    const text = [
      HEAD.trimEnd(),
      'matrix:',
      '  harvester: [v1.4.2, v1.4.3]',
      'expect:',
      '  - when: {harvester: v1.4.9, runtime: x}',
      '    outcome: error',
      '    error: {source: plugin, match: x}',
      '  - outcome: fail',
      '  - when: {harvester: v1.4.3}',
      '    outcome: fail',
      '    failing: [no-leaked-reservations]',
      '  - outcome: pass',
      '    failing: [a]',
      stack('harvester/${harvester}'),
    ].join('\n');
    expect(problems(text)).toEqual([
      "6:23 expect.0.when.harvester: expected a value of dimension 'harvester' (v1.4.2, v1.4.3), found \"v1.4.9\"",
      "6:31 expect.0.when.runtime: 'runtime' is not a matrix dimension; dimensions: harvester",
      "9:14 expect.1.outcome: outcome 'fail' needs 'failing': the assertions expected to fail (the scenario has no assertions)",
      "10:5 expect.2: expect.1 and expect.2 both match cell demo[harvester=v1.4.3]; make their 'when' selectors disjoint",
      '12:15 expect.2.failing.0: expected the name of an assertion of this scenario (it has none), found "no-leaked-reservations"',
      "13:5 expect.3: expect.1 and expect.3 both match cell demo[harvester=v1.4.2]; make their 'when' selectors disjoint",
      "13:5 expect.3: expect.2 and expect.3 both match cell demo[harvester=v1.4.3]; make their 'when' selectors disjoint",
      "14:5 expect.3.failing: 'failing' applies only to outcome 'fail', found outcome 'pass'",
      '14:15 expect.3.failing.0: expected the name of an assertion of this scenario (it has none), found "a"',
    ]);
  });

  it('points at the matrix value when only some values name a missing profile', () => {
    const text = `${HEAD}matrix:\n  harvester: [v1.4.2, v1.9.9]\n  runtime: [libcni-1.1, libcni-7]\n${stack('harvester/${harvester}', '    runtime: ${runtime}\n')}`;
    expect(problems(text)).toEqual([
      "4:23 matrix.harvester.1: cluster.stack.profile 'harvester/${harvester}' with harvester=v1.9.9: no stack profile 'harvester/v1.9.9' (profiles/harvester/v1.9.9.yaml); known: harvester/v1.4.1, harvester/v1.4.2, harvester/v1.4.3, kube-ovn/v1.13.0",
      "5:25 matrix.runtime.1: cluster.stack.runtime '${runtime}' with runtime=libcni-7: no runtime 'libcni-7'; known: libcni-1.1, libcni-1.2, or containerd-dir:/path",
    ]);
  });

  it('points at the stack field when every value is wrong', () => {
    const text = `${HEAD}matrix:\n  harvester: [v1.4.2, v1.4.3]\n${stack('harvestr/${harvester}')}`;
    expect(problems(text)).toEqual([
      "7:14 cluster.stack.profile: no stack profile 'harvestr/v1.4.2' (profiles/harvestr/v1.4.2.yaml); known: harvester/v1.4.1, harvester/v1.4.2, harvester/v1.4.3, kube-ovn/v1.13.0 (harvestr/${harvester} with harvester=v1.4.2)",
      "7:14 cluster.stack.profile: no stack profile 'harvestr/v1.4.3' (profiles/harvestr/v1.4.3.yaml); known: harvester/v1.4.1, harvester/v1.4.2, harvester/v1.4.3, kube-ovn/v1.13.0 (harvestr/${harvester} with harvester=v1.4.3)",
    ]);
  });

  it('never takes a runtime profile, an escaping name or a .yaml suffix as a stack profile', () => {
    expect(problems(`${HEAD}${stack('runtime/libcni-1.1')}`)[0]).toContain("no stack profile 'runtime/libcni-1.1'");
    expect(problems(`${HEAD}${stack('harvester/../../../etc/passwd')}`)[0]).toContain('expected a stack profile name like harvester/v1.4.3');
    expect(problems(`${HEAD}${stack('/etc/passwd')}`)[0]).toContain('expected a stack profile name');
    expect(problems(`${HEAD}${stack('harvester/v1.4.3.yaml')}`)[0]).toContain("no stack profile 'harvester/v1.4.3.yaml'");
  });

  it('accepts the cni forms and checks only their shape', () => {
    for (const cni of ['system', 'sid', 'latest', 'dir:/opt/my-plugins', '1.9.1', '0.0.99']) {
      expect(parse(`${HEAD}${stack('harvester/v1.4.3', `    cni: "${cni}"\n`)}`).cluster.stack.cni).toBe(cni);
    }
    expect(problems(`${HEAD}${stack('harvester/v1.4.3', '    cni: v1.1.1\n')}`)).toEqual([
      '6:10 cluster.stack.cni: expected system, sid, latest, dir:/absolute/path or a version like 1.1.1, found "v1.1.1" (write 1.1.1, without the v, or go:v1.1.1 to build it from upstream source)',
    ]);
    expect(problems(`${HEAD}${stack('harvester/v1.4.3', '    cni: dir:plugins\n')}`)[0]).toContain('found "dir:plugins"');
  });

  it('accepts go: sources (tags, pseudo-versions, commits) for plugins, containerd and Multus, and says where a malformed one is', () => {
    for (const cni of ['go:v1.5.1', 'go:1.5.1', 'go:v1.5.2-0.20240624145753-352c8b7ab5d6', 'go:352c8b7ab5d6']) {
      expect(parse(`${HEAD}${stack('harvester/v1.4.3', `    cni: "${cni}"\n`)}`).cluster.stack.cni).toBe(cni);
    }
    expect(parse(`${HEAD}${stack('harvester/v1.4.3', '    runtime: containerd-go:v1.7.22\n')}`).cluster.stack.runtime).toBe('containerd-go:v1.7.22');
    for (const m of ['v4.0.2', 'go:v4.1.0', 'go:f03765681fe8', 'dir:/opt/multus']) {
      expect(parse(`${HEAD}${stack('harvester/v1.4.3', `    multus: "${m}"\n`)}`).cluster.stack.multus).toBe(m);
    }
    expect(problems(`${HEAD}${stack('harvester/v1.4.3', '    cni: go:main\n')}`)[0]).toMatch(/^6:10 cluster\.stack\.cni: .*found "go:main"; go:vX\.Y\.Z or go:<commit> builds one from upstream source$/);
    expect(problems(`${HEAD}${stack('harvester/v1.4.3', '    runtime: containerd-go:latest\n')}`)).toEqual([
      '6:14 cluster.stack.runtime: expected containerd-go:vX.Y.Z (a containerd tag built from source) or containerd-go:<commit>, found "containerd-go:latest"',
    ]);
    expect(problems(`${HEAD}${stack('harvester/v1.4.3', '    multus: v3.9.3\n')}`)).toEqual(['6:13 cluster.stack.multus: faultline runs the v4 thin plugin; found "v3.9.3"']);
    expect(problems(`${HEAD}${stack('harvester/v1.4.3', '    multus: dir:../multus\n')}`)[0]).toContain('6:13 cluster.stack.multus: expected vX.Y.Z or go:vX.Y.Z');
  });

  it('refuses pods on a Multus stack, and restart-daemon of a multus the stack does not run', () => {
    requireFault('restart-daemon');
    expect(problems(`${HEAD}${stack('harvester/v1.4.3', '    multus: v4.1.0\n')}workload:\n  - name: web\n`)[0]).toContain("6:13 cluster.stack.multus: a stack with multus runs no pods here: their ADD would go through Multus's own binary");
    expect(problems(`${HEAD}${stack('harvester/v1.4.3')}steps:\n  - restart-daemon: { node: node-1, daemon: multus }\n`)).toEqual([
      '7:45 steps.0.restart-daemon.daemon: the stack runs no multus: set cluster.stack.multus (e.g. v4.1.0)',
    ]);
    expect(parse(`${HEAD}${stack('harvester/v1.4.3', '    multus: v4.1.0\n')}steps:\n  - restart-daemon: { node: node-1, daemon: multus, signal: TERM }\n`).steps[0]).toEqual({ kind: 'restart-daemon', params: { node: 'node-1', daemon: 'multus', signal: 'TERM', graceMs: 30000 } });
  });

  it('refuses --cleanup-config-on-exit on a v4.0.x Multus, at the matrix value that selects it', () => {
    const text = `${HEAD}matrix:\n  multus: [v4.0.2, v4.1.0]\n${stack('harvester/v1.4.3', '    multus: ${multus}\n    multusCleanupOnExit: true\n')}`;
    expect(problems(text)).toEqual([
      "4:12 matrix.multus.0: cluster.stack.multus '${multus}' with multus=v4.0.2: multusCleanupOnExit with Multus v4.0.2: v4.0.x's --cleanup-config-on-exit loops regenerating its config from its own output (multus-cni#1130); use it with v4.1.0 or later",
    ]);
  });
});

describe('loadScenario: cluster checks', () => {
  const cluster = (lines: string) => `${HEAD}cluster:\n${lines}  stack: {profile: harvester/v1.4.3}\n`;

  it('accepts private ranges and refuses anything reaching outside them', () => {
    for (const c of ['10.0.0.0/8', '172.16.0.0/12', '172.31.255.0/24', '192.168.0.0/16']) {
      expect(parse(cluster(`  podCIDR: ${c}\n  nodeMask: 28\n`)).cluster.podCIDR).toBe(c);
    }
    for (const c of ['8.8.0.0/16', '172.32.0.0/16', '100.64.0.0/10', '0.0.0.0/0', '10.0.0.0/7']) {
      expect(problems(cluster(`  podCIDR: ${c}\n  nodeMask: 28\n`))[0], c).toMatch(/^4:12 cluster\.podCIDR: expected a private range inside .*, found .* which is not private/);
    }
  });

  it('requires node subnets to fit the pod CIDR, one per node', () => {
    expect(problems(cluster('  podCIDR: 10.52.0.0/16\n  nodeMask: 12\n'))).toEqual([
      '5:13 cluster.nodeMask: expected a prefix length >= 16 (node subnets are carved out of podCIDR 10.52.0.0/16), found 12',
    ]);
    expect(problems(cluster('  nodes: 5\n  podCIDR: 10.52.0.0/22\n'))).toEqual([
      '4:10 cluster.nodes: expected at most 4 nodes: podCIDR 10.52.0.0/22 holds 4 subnets of /24, found 5',
    ]);
    expect(parse(cluster('  nodes: 4\n  podCIDR: 10.52.0.0/22\n')).cluster.nodes).toBe(4);
  });
});

describe('loadScenario: references', () => {
  it('checks workload names and nodes', () => {
    const text = `${HEAD}cluster:\n  nodes: 2\n  stack: {profile: harvester/v1.4.3}\nworkload:\n  - name: web\n    nodes: [node-2, node-3]\n  - name: web\n`;
    expect(problems(text)).toEqual([
      '8:21 workload.0.nodes.1: expected a node of this cluster (node-1..node-2), found "node-3"',
      "9:11 workload.1.name: workload name 'web' is already used by workload.0; names must be unique",
    ]);
  });

  it('confines paths to the node root', () => {
    expect(pathProblem('/var/lib/cni')).toBeUndefined();
    expect(pathProblem('/var/lib/../..')).toBe('path escapes the node root: "/var/lib/../.." has a \'..\' segment');
    expect(pathProblem('var/lib')).toMatch(/^expected an absolute path/);
    expect(pathProblem('/a\0b')).toMatch(/NUL/);
    expect(pathProblem('/a/..b/c')).toBeUndefined();
  });

  it('reports an unknown node of a hard-reboot step once, at its value', () => {
    requireFault('hard-reboot');
    const text = `${HEAD}cluster:\n  nodes: 2\n  stack: {profile: harvester/v1.4.3}\nsteps:\n  - hard-reboot:\n      node: node-3\n`;
    expect(problems(text)).toEqual(['8:13 steps.0.hard-reboot.node: expected a node of this cluster (node-1..node-2), found "node-3"']);
  });

  it('resolves expect.failing against assertion names, custom names included', () => {
    requireAssertion('no-leaked-reservations');
    const text = `${HEAD}expect:\n  - outcome: fail\n    failing: [custom]\ncluster:\n  stack: {profile: harvester/v1.4.3}\nassertions:\n  - no-leaked-reservations: {}\n    name: custom\n  - no-leaked-reservations: {}\n  - no-leaked-reservations: {}\n`;
    expect(problems(text)).toEqual([
      "12:5 assertions.2: a check named 'no-leaked-reservations' already exists (assertions.1); give one of them a distinct 'name'",
    ]);
  });

  it('checks path parameters of assertions', () => {
    requireAssertion('stale-state-cleared-on-boot');
    const base = `${HEAD}cluster:\n  stack: {profile: harvester/v1.4.3}\nassertions:\n  - stale-state-cleared-on-boot:\n      path: `;
    expect(problems(`${base}/var/../../etc\n`)).toEqual(['7:13 assertions.0.stale-state-cleared-on-boot.path: path escapes the node root: "/var/../../etc" has a \'..\' segment']);
    expect(problems(`${base}var/lib\n`)[0]).toMatch(/^7:13 .*expected an absolute path inside the node root/);
    expect(parse(`${base}/var/lib/cni/networks/x\n`).assertions).toHaveLength(1);
  });
});

describe('loadScenario: files', () => {
  it('refuses a file over 1 MiB before parsing it', async () => {
    const file = path.join(work, 'huge.yaml');
    await writeFile(file, `${HEAD}# ${'x'.repeat(1024 * 1024)}\n`);
    await expect(loadScenario(file, { repoRoot: root })).rejects.toThrow(/limited to 1 MiB/);
  });

  it('reports a missing file as invalid input at the file', async () => {
    const err = await loadScenario(path.join(work, 'nope.yaml')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).problems[0]!.message).toContain('ENOENT');
  });
});

describe('loadScenarios', () => {
  it('finds *.yaml and *.yml sorted, recursing but not into testdata or hidden dirs', async () => {
    const dir = path.join(work, 'tree');
    const body = (name: string) => `name: ${name}\ndescription: d\ncluster:\n  stack: {profile: harvester/v1.4.3}\n`;
    await mkdir(path.join(dir, 'sub'), { recursive: true });
    await mkdir(path.join(dir, 'testdata'), { recursive: true });
    await mkdir(path.join(dir, '.hidden'), { recursive: true });
    await writeFile(path.join(dir, 'b.yaml'), body('b'));
    await writeFile(path.join(dir, 'a.yml'), body('a'));
    await writeFile(path.join(dir, 'notes.txt'), 'not a scenario');
    await writeFile(path.join(dir, 'sub', 'c.yaml'), body('c'));
    await writeFile(path.join(dir, 'testdata', 'broken.yaml'), 'name: [');
    await writeFile(path.join(dir, '.hidden', 'broken.yaml'), 'name: [');
    expect(await findScenarioFiles([dir])).toEqual([path.join(dir, 'a.yml'), path.join(dir, 'b.yaml'), path.join(dir, 'sub', 'c.yaml')]);
    expect((await loadScenarios([dir], { repoRoot: root })).map((s) => s.name)).toEqual(['a', 'b', 'c']);
    // Named explicitly, a testdata file is loaded like any other.
    await expect(loadScenarios([path.join(dir, 'testdata', 'broken.yaml')], { repoRoot: root })).rejects.toThrow(InvalidInputError);
  });

  it('collects the problems of every file and flags a name used twice', async () => {
    const dir = path.join(work, 'clash');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, '1.yaml'), 'name: same\ndescription: d\ncluster:\n  stack: {profile: harvester/v1.4.3}\n');
    await writeFile(path.join(dir, '2.yaml'), 'name: same\ndescription: d\ncluster:\n  stack: {profile: harvester/v1.4.3}\n');
    await writeFile(path.join(dir, '3.yaml'), 'name: other\ndescription: d\ncluster:\n  nodes: 0\n  stack: {profile: harvester/v1.4.3}\n');
    const err = (await loadScenarios([dir], { repoRoot: root }).catch((e: unknown) => e)) as InvalidInputError;
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.problems.map((p) => `${path.basename(p.location.file)}:${p.location.line}:${p.location.column} ${p.message}`)).toEqual([
      '3.yaml:4:10 cluster.nodes: expected an integer >= 1 and <= 16, found number 0',
      `2.yaml:1:7 name: scenario 'same' is already defined in ${path.join(dir, '1.yaml')}; names must be unique`,
    ]);
  });

  it('says which path does not exist', async () => {
    await expect(loadScenarios([path.join(work, 'missing-dir')])).rejects.toThrow(/no such file or directory: .*missing-dir/);
  });
});
