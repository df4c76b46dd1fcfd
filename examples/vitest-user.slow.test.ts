// The vitest-user example, run the way a user runs it: a project of its own that depends on faultline
// (installed as a copy of this checkout, as from a registry or git), type-checks its use of the API,
// and runs a scenario file as vitest tests, one per cell, with real namespaces. A copy of the example
// with one scenario whose expectation is wrong shows what a failing cell's test reads like.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, lstat, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT } from '../harness/version.ts';
import { tempDir } from '../testing/cli.ts';
import { reportSchemaErrors } from '../testing/report-schema.ts';

const EXAMPLE = path.join(REPO_ROOT, 'examples', 'vitest-user');

interface VitestJson {
  testResults: { name: string; status: string; message: string; assertionResults: { title: string; fullName: string; status: string; failureMessages: string[]; meta?: { faultline?: { outcome: string } } }[] }[];
}

let project: string;
let state: string;
const cleanups: (() => Promise<void>)[] = [];
let results: VitestJson;
let vitestExit: number | undefined;
let typecheck: { exitCode: number | undefined; output: string };

beforeAll(async () => {
  const tmp = await tempDir('fl-vitest-user-');
  const st = await tempDir('fl-vitest-user-state-');
  cleanups.push(tmp.cleanup, st.cleanup);
  project = path.join(tmp.dir, 'project');
  state = st.dir;
  // The user's project: the example's own files, with faultline taken from this checkout.
  await cp(EXAMPLE, project, { recursive: true, filter: (src) => !/\/(node_modules|reports)(\/|$)|package-lock\.json$/.test(src.slice(EXAMPLE.length)) });
  const pkgFile = path.join(project, 'package.json');
  const pkg = JSON.parse(await readFile(pkgFile, 'utf8'));
  pkg.devDependencies.faultline = `file:${REPO_ROOT}`;
  await writeFile(pkgFile, JSON.stringify(pkg, null, 2));
  await execa('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: project, env: { npm_config_loglevel: 'error' } });
  // A scenario whose expectation is wrong: its cell's test must fail, showing the evidence.
  const wrong = (await readFile(path.join(project, 'scenarios', 'empty-cache-del.yaml'), 'utf8'))
    .replace('name: empty-cache-del', 'name: wrong-expectation')
    .replace(/  - when: \{ runtime: libcni-1\.1 \}\n    outcome: fail\n    failing: \[[^\]]*\]\n/, '  - when: { runtime: libcni-1.1 }\n    outcome: pass\n');
  await mkdir(path.join(project, 'wrong'));
  await writeFile(path.join(project, 'wrong', 'wrong-expectation.yaml'), wrong);
  await writeFile(path.join(project, 'test', 'wrong-expectation.test.ts'), "import { describeScenario } from 'faultline/vitest';\n\ndescribeScenario('wrong/wrong-expectation.yaml', { only: { runtime: 'libcni-1.1' } });\n");
  // An invalid scenario: the file fails at collection, every problem located.
  await writeFile(path.join(project, 'wrong', 'invalid.yaml'), wrong.replace('podCIDR: 10.88.0.0/16', 'podCIDR: 10.88.0.1/16'));
  await writeFile(path.join(project, 'test', 'invalid.test.ts'), "import { describeScenario } from 'faultline/vitest';\n\ndescribeScenario('wrong/invalid.yaml');\n");
  const tc = await execa('npx', ['tsc', '--noEmit'], { cwd: project, reject: false, all: true });
  typecheck = { exitCode: tc.exitCode, output: tc.all ?? '' };
  const out = path.join(project, 'vitest.json');
  const r = await execa('npx', ['vitest', 'run', '--reporter=json', `--outputFile=${out}`], { cwd: project, reject: false, all: true, env: { FAULTLINE_STATE_DIR: state, NO_COLOR: '1' } });
  vitestExit = r.exitCode;
  results = JSON.parse(await readFile(out, 'utf8').catch(() => { throw new Error(`vitest wrote no results (exit ${r.exitCode}):\n${r.all}`); }));
});

afterAll(async () => {
  for (const c of cleanups) await c();
});

const file = (name: string) => {
  const f = results.testResults.find((t) => t.name.endsWith(`/test/${name}`));
  if (!f) throw new Error(`no results for test/${name}: ${results.testResults.map((t) => t.name).join(', ')}`);
  return f.assertionResults;
};

describe('examples/vitest-user: faultline used from a vitest suite', () => {
  it('imports faultline as an installed package: a copy, not a link into the checkout', async () => {
    const installed = path.join(project, 'node_modules', 'faultline');
    expect((await lstat(installed)).isSymbolicLink()).toBe(false);
    const pkg = JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8'));
    expect(Object.keys(pkg.exports)).toEqual(['.', './vitest', './schemas/*', './package.json']);
    // The package carries no tests of its own.
    const listed = await readdir(path.join(installed, 'harness', 'runner'));
    expect(listed.filter((f) => f.endsWith('.test.ts'))).toEqual([]);
  });

  it('type-checks the project against the API it uses (the report types included)', () => {
    expect(typecheck.output).toBe('');
    expect(typecheck.exitCode).toBe(0);
  });

  it('turns the three-line test file into one test per cell: the expected failure passes, marked, and so does the fix', () => {
    const tests = file('empty-cache-del.test.ts');
    expect(tests.map((t) => [t.title, t.status, t.meta?.faultline?.outcome])).toEqual([
      ['empty-cache-del[runtime=libcni-1.1] [expected to fail]', 'passed', 'xfail'],
      ['empty-cache-del[runtime=libcni-1.2]', 'passed', 'passed'],
    ]);
  });

  it('runs the programmatic API: validate, loadScenario, run', () => {
    expect(file('api.test.ts').map((t) => [t.title, t.status])).toEqual([
      ['validate and loadScenario read the scenario', 'passed'],
      ['run gives the report of the cells it ran', 'passed'],
    ]);
  });

  it('fails the test of a cell that is not as expected, with the evidence in the message', () => {
    const [t] = file('wrong-expectation.test.ts');
    expect(t?.status).toBe('failed');
    const message = t!.failureMessages.join('\n');
    expect(message).toMatch(/^Error: FAILED: unexpected failure of del-succeeds, no-leaked-reservations/);
    expect(message).toMatch(/FAIL no-leaked-reservations \(end\)\n  node    file or device +owner +detail\n  node-1  \/var\/lib\/cni\/networks\/lab-net\/10\.88\.0\.\d+ +[0-9a-f]{12}\/eth0 +not a live attachment/);
    expect(message).toContain('failed to get network "lab-net" cached result: decoding version from network config: unexpected end of JSON input');
    expect(vitestExit).toBe(1);
  });

  it('fails a file whose scenario is invalid at collection, naming every problem at file:line:col', () => {
    const f = results.testResults.find((t) => t.name.endsWith('/test/invalid.test.ts'))!;
    expect(f.status).toBe('failed');
    expect(f.message).toMatch(/wrong\/invalid\.yaml:\d+:\d+: cluster\.podCIDR: expected an IPv4 CIDR like 10\.52\.0\.0\/16, found string "10\.88\.0\.1\/16"/);
  });

  it('writes one report of the cells that ran, which validates against the published schema', async () => {
    const report = JSON.parse(await readFile(path.join(project, 'reports', 'vitest', 'empty-cache-del', 'report.json'), 'utf8'));
    expect(report.cells.map((c: { id: string; outcome: string }) => [c.id, c.outcome])).toEqual([
      ['empty-cache-del[runtime=libcni-1.1]', 'xfail'],
      ['empty-cache-del[runtime=libcni-1.2]', 'passed'],
    ]);
    expect(reportSchemaErrors(report)).toEqual([]);
    expect(await readdir(path.join(project, 'reports', 'vitest', 'empty-cache-del'))).toEqual(expect.arrayContaining(['report.json', 'report.html', 'artifacts']));
  });

  it('leaves no run behind', async () => {
    expect(await readdir(path.join(state, 'runs')).catch(() => [])).toEqual([]);
  });
});
