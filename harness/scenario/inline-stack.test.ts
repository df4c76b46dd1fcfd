// A stack written in the scenario (no profile), a profile file beside the scenario (./my-stack.yaml),
// and a profile with fields replaced inline: validated and located as profiles are, and resolved to
// the stack the cell runs.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.ts';
import { loadScenario, parseScenario } from './load.ts';
import { expandMatrix } from './matrix.ts';
import { loadStackProfile, loadStackProfileFile, withInlineStack } from '../profiles/stack-profile.ts';

const HEAD = 'name: demo\ndescription: A demo.\n';
const NETWORKS = [
  '    networks:',
  '      - file: 10-mine.conflist',
  '        conflist:',
  '          name: mine',
  '          cniVersion: 1.0.0',
  '          plugins:',
  '            - { type: bridge, bridge: br-mine, ipam: { type: host-local, subnet: usePodCidr } }',
  '            - { type: bandwidth, capabilities: { bandwidth: true } }',
  '      - file: 20-side.conflist',
  '        secondary: true',
  '        conflist: { name: side, cniVersion: 1.0.0, plugins: [{ type: macvlan, master: ext0, ipam: { type: host-local, subnet: 10.99.0.0/24 } }] }',
].join('\n');
const INLINE = `${HEAD}cluster:\n  nodeMask: 29\n  stack:\n    cni: 1.1.1\n    runtime: libcni-1.1\n${NETWORKS}\n`;

function problems(text: string, file = 's.yaml'): string[] {
  try {
    parseScenario(text, file);
  } catch (e) {
    if (!(e instanceof InvalidInputError)) throw e;
    return e.problems.map((p) => `${path.basename(p.location.file)}:${p.location.line}:${p.location.column} ${p.message}`);
  }
  throw new Error('expected the scenario to be invalid');
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'faultline-inline-'));
  await mkdir(path.join(dir, 'stacks'));
  const stack = (name: string, cniVersion: string) => `name: ${name}\ndescription: a stack beside the scenario\ncni: 1.1.1\nruntime: libcni-1.2\nnetworks:\n  - file: 10-x.conflist\n    conflist:\n      name: xnet\n      cniVersion: ${cniVersion}\n      plugins: [{ type: ptp, ipam: { type: host-local, subnet: usePodCidr } }]\n`;
  await writeFile(path.join(dir, 'stacks', 'good.yaml'), stack('any-name-at-all', '"1.0.0"'));
  await writeFile(path.join(dir, 'stacks', 'bad.yaml'), stack('bad', '1.0'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('an inline stack (no profile)', () => {
  it('loads with its networks, the profile schema defaults filled in', () => {
    const sc = parseScenario(INLINE, 's.yaml');
    expect(sc.cluster.stack.profile).toBeUndefined();
    expect(sc.cluster.stack.networks!.map((n) => [n.file, n.secondary, n.conflist.name])).toEqual([['10-mine.conflist', false, 'mine'], ['20-side.conflist', true, 'side']]);
    expect(sc.positions.get('cluster.stack.networks.0.conflist.plugins.1.type')).toEqual({ line: 15, column: 23 });
  });

  it('gives its networks and host-local capacities to the checks (secondary networks, ip-headroom)', () => {
    expect(parseScenario(`${INLINE}workload:\n  - name: web\n    networks: [side]\n`, 's.yaml').workload[0]!.networks).toEqual(['side']);
    expect(problems(`${INLINE}workload:\n  - name: web\n    networks: [other]\n`)).toEqual([
      "s.yaml:21:16 workload.0.networks.0: unknown network 'other'; the scenario's inline stack defines the secondary network(s) side",
    ]);
    // A /29 node subnet: host-local hands out 5 addresses (the gateway takes one).
    expect(problems(`${INLINE}assertions:\n  - ip-headroom: { min: 6 }\n`)[0]).toMatch(/assertions\.0\.ip-headroom\.min: .*5/);
  });

  it('resolves to the stack the cell runs: the inline networks, the scenario as its file', () => {
    const sc = parseScenario(INLINE, '/virtual/s.yaml');
    const p = withInlineStack(undefined, expandMatrix(sc)[0]!.stack, sc.file);
    expect(p).toMatchObject({ name: 'inline', cni: '1.1.1', runtime: 'libcni-1.1', file: '/virtual/s.yaml', origin: { kind: 'inline', inline: ['networks'] }, stageFiles: [], substitutions: [] });
    expect(p.networks.map((n) => n.conflist.name)).toEqual(['mine', 'side']);
  });
});

describe('a profile with fields written inline', () => {
  it('replaces the profile networks and keeps the rest of it', async () => {
    const text = `${HEAD}cluster:\n  stack:\n    profile: lab/bridge-portmap\n${NETWORKS}\n`;
    const sc = parseScenario(text, '/virtual/s.yaml');
    const base = await loadStackProfile('lab/bridge-portmap');
    const p = withInlineStack(base, sc.cluster.stack, sc.file);
    expect(p.networks.map((n) => n.conflist.name)).toEqual(['mine', 'side']);
    expect(p).toMatchObject({ name: 'lab/bridge-portmap', cni: base.cni, runtime: base.runtime, origin: { kind: 'profile', inline: ['networks'] } });
    expect(base.networks.map((n) => n.conflist.name)).toEqual(['lab-net']); // the profile itself is untouched
  });
});

describe('a profile file beside the scenario (./stacks/x.yaml)', () => {
  it('is read relative to the scenario, with its own name free', async () => {
    const file = path.join(dir, 's.yaml');
    await writeFile(file, `${HEAD}cluster:\n  stack:\n    profile: ./stacks/good.yaml\nassertions:\n  - ip-headroom: { min: 300 }\n`);
    await expect(loadScenario(file)).rejects.toThrow(/assertions\.0\.ip-headroom\.min: .*253/); // its networks are checked
    await writeFile(file, `${HEAD}cluster:\n  stack:\n    profile: ./stacks/good.yaml\n`);
    const sc = await loadScenario(file);
    const p = await loadStackProfileFile(sc.cluster.stack.profile!, sc.file);
    expect(p).toMatchObject({ name: 'any-name-at-all', runtime: 'libcni-1.2', file: path.join(dir, 'stacks', 'good.yaml'), origin: { kind: 'file', inline: [] } });
  });

  it('reports a broken file at its own lines, and the scenario at its profile key', async () => {
    const file = path.join(dir, 's2.yaml');
    await writeFile(file, `${HEAD}cluster:\n  stack:\n    profile: ./stacks/bad.yaml\n`);
    let err: unknown;
    await loadScenario(file).catch((e) => (err = e));
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).problems.map((p) => `${path.basename(p.location.file)}:${p.location.line}:${p.location.column} ${p.message}`)).toEqual([
      `s2.yaml:5:14 cluster.stack.profile: the stack profile file ./stacks/bad.yaml (${path.join(dir, 'stacks', 'bad.yaml')}) is not valid: 1 problem(s), each reported at its line`,
      'bad.yaml:9:19 stack profile: networks.0.conflist.cniVersion: expected a string matching ^\\d+\\.\\d+\\.\\d+$, found number 1 (put it in quotes to read it as text)',
    ]);
  });

  it('takes ${dimension} placeholders and blames the matrix value that names a missing file', async () => {
    const file = path.join(dir, 's3.yaml');
    await writeFile(file, `${HEAD}matrix:\n  stackfile: [good, gone]\ncluster:\n  stack:\n    profile: ./stacks/\${stackfile}.yaml\n`);
    let err: unknown;
    await loadScenario(file).catch((e) => (err = e));
    expect((err as InvalidInputError).problems.map((p) => `${p.location.line}:${p.location.column} ${p.message}`)).toEqual([
      `4:21 matrix.stackfile.1: cluster.stack.profile './stacks/\${stackfile}.yaml' with stackfile=gone: stack profile ${path.join(dir, 'stacks', 'gone.yaml')}: cannot read the file: ENOENT`,
    ]);
  });

  it('refuses what would leave the scenario directory, or not name a YAML file', () => {
    expect(problems(`${HEAD}cluster:\n  stack:\n    profile: ./a/../../b.yaml\n`)[0]).toMatch(/^s\.yaml:5:14 cluster\.stack\.profile: expected a path below the scenario's directory without '\.\.'/);
    expect(problems(`${HEAD}cluster:\n  stack:\n    profile: ./stack.json\n`)[0]).toMatch(/expected a profile file like \.\/my-stack\.yaml/);
  });
});

describe('a scenario written elsewhere (a shrunk one)', () => {
  it('carries its profile file inline, the fields it wrote itself kept', async () => {
    const { withProfileFileInlined } = await import('../profiles/stack-profile.ts');
    const file = path.join(dir, 'anywhere.yaml');
    const sel = withProfileFileInlined({ profile: './stacks/good.yaml', runtime: 'libcni-1.1' }, file);
    expect(sel).toEqual({
      cni: '1.1.1',
      runtime: 'libcni-1.1',
      networks: [{ file: '10-x.conflist', secondary: false, conflist: { name: 'xnet', cniVersion: '1.0.0', plugins: [{ type: 'ptp', ipam: { type: 'host-local', subnet: 'usePodCidr' } }] } }],
      stageFiles: [],
      substitutions: [],
    });
    // The result validates on its own, from another directory.
    const text = `${HEAD}cluster:\n  stack: ${JSON.stringify(sel)}\n`;
    expect(parseScenario(text, '/elsewhere/shrunk.yaml').cluster.stack.networks).toHaveLength(1);
    expect(withProfileFileInlined({ profile: 'lab/bridge-portmap' }, file)).toEqual({ profile: 'lab/bridge-portmap' });
  });
});
