// docs/ci.md's GitHub Actions and GitLab CI examples, parsed and run here as those CI systems would
// run them: each shard job in a fresh workspace of its own with the matrix values filled in, the
// artifacts moved the way the systems move them, then the merge job. Each merged report must hold the
// same cells with the same outcomes as one run of the whole suite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, cp, mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { REPO_ROOT } from '../harness/version.ts';
import { BIN, tempDir } from '../testing/cli.ts';
import { reportSchemaErrors } from '../testing/report-schema.ts';
import { GITHUB_STEP_SUMMARY_MAX_BYTES } from '../harness/reporters/markdown-reporter.ts';
import type { RunReport } from '../harness/model/report.ts';

/** The scenarios the examples run here: a small set of the project's own (7 cells, every kind of outcome they expect). */
const SCENARIOS = [
  path.join(REPO_ROOT, 'examples', 'vitest-user', 'scenarios', 'empty-cache-del.yaml'),
  path.join(REPO_ROOT, 'scenarios', 'cni-version-compat.yaml'),
  path.join(REPO_ROOT, 'scenarios', 'hard-reboot-gc.yaml'),
];
const SEED = '7';

/** The ```yaml blocks of a Markdown document, in order. */
export function yamlBlocks(md: string): string[] {
  return [...md.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** Lines that install what this machine already has; the test does not run them. */
const INSTALL = /^(sudo )?(npm ci|apt-get )/;
const onlyInstalls = (script: string) => script.split('\n').map((l) => l.trim()).filter(Boolean).every((l) => INSTALL.test(l));

interface StepResult {
  job: string;
  name: string;
  exitCode: number | undefined;
  output: string;
  summary?: string;
}

let root: string;
let state: string;
const cleanups: (() => Promise<void>)[] = [];
let baseline: RunReport;
let workspaces = 0;

/** A fresh checkout of "the user's repository": the scenarios, faultline installed (linked), a sudo that passes through. */
async function workspace(extra?: (dir: string) => Promise<void>): Promise<string> {
  const dir = path.join(root, `ws-${++workspaces}`);
  await mkdir(path.join(dir, 'scenarios'), { recursive: true });
  for (const f of SCENARIOS) await cp(f, path.join(dir, 'scenarios', path.basename(f)));
  await mkdir(path.join(dir, 'node_modules', '.bin'), { recursive: true });
  await symlink(REPO_ROOT, path.join(dir, 'node_modules', 'faultline'));
  await symlink('../faultline/bin/faultline.js', path.join(dir, 'node_modules', '.bin', 'faultline'));
  await extra?.(dir);
  return dir;
}

async function shims(): Promise<string> {
  const dir = path.join(root, 'shims');
  await mkdir(dir);
  // The test runs as root: sudo passes the command through (-E keeps the environment, as here).
  await writeFile(path.join(dir, 'sudo'), '#!/bin/sh\n[ "$1" = "-E" ] && shift\nexec "$@"\n');
  await chmod(path.join(dir, 'sudo'), 0o755);
  return dir;
}

async function sh(job: string, name: string, script: string, cwd: string, env: Record<string, string>, summaryFile?: string): Promise<StepResult> {
  const r = await execa('bash', ['-e', '-o', 'pipefail', '-c', script], {
    cwd,
    reject: false,
    all: true,
    env: { ...env, PATH: `${path.join(root, 'shims')}:${process.env.PATH}`, FAULTLINE_STATE_DIR: state, NO_COLOR: '1', ...(summaryFile ? { GITHUB_STEP_SUMMARY: summaryFile } : {}) },
  });
  const summary = summaryFile ? await readFile(summaryFile, 'utf8').catch(() => undefined) : undefined;
  return { job, name, exitCode: r.exitCode, output: r.all ?? '', ...(summary !== undefined ? { summary } : {}) };
}

const essence = (r: RunReport) => r.cells.map((c) => ({ id: c.id, outcome: c.outcome, asExpected: c.asExpected, reason: c.reason, assertions: c.assertions.map((a) => `${a.name}: ${a.status}`) }));

beforeAll(async () => {
  const t = await tempDir('fl-ci-doc-');
  const s = await tempDir('fl-ci-doc-state-');
  cleanups.push(t.cleanup, s.cleanup);
  root = t.dir;
  state = s.dir;
  await shims();
  // One run of the whole suite, the reference the merged shards must equal.
  const ws = await workspace();
  const r = await execa('node', [BIN, 'run', 'scenarios/', '--seed', SEED, '--out', 'single', '--reporter', 'json'], { cwd: ws, reject: false, all: true, env: { FAULTLINE_STATE_DIR: state, NO_COLOR: '1' } });
  if (r.exitCode !== 0) throw new Error(`the reference run failed (exit ${r.exitCode}):\n${r.all}`);
  baseline = JSON.parse(await readFile(path.join(ws, 'single', 'report.json'), 'utf8'));
});

afterAll(async () => {
  for (const c of cleanups) await c();
});

const doc = () => readFile(path.join(REPO_ROOT, 'docs', 'ci.md'), 'utf8');

describe('docs/ci.md: GitHub Actions', () => {
  const steps: StepResult[] = [];
  const artifacts = new Map<string, string>();
  let merged: RunReport;
  let mergeWs: string;
  let shardReports: RunReport[] = [];

  // Expressions the workflow may use, as GitHub would fill them in.
  const expression = (text: string, ctx: Record<string, string>) =>
    text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_m, e: string) => {
      if (!(e in ctx)) throw new Error(`the workflow uses \${{ ${e} }}, which this test does not know`);
      return ctx[e]!;
    });

  interface Step { name?: string; uses?: string; run?: string; if?: string; with?: Record<string, string> }

  async function runJob(jobName: string, job: { steps: Step[] }, ctx: Record<string, string>, env: Record<string, string>, ws: string): Promise<void> {
    let failed = false;
    for (const [i, step] of job.steps.entries()) {
      if (failed && step.if !== 'always()') continue;
      const name = expression(step.name ?? step.uses ?? step.run ?? `step ${i}`, ctx);
      const w = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, expression(String(v), ctx)]));
      if (step.uses) {
        const action = step.uses.replace(/@.*$/, '');
        if (action === 'actions/checkout' || action === 'actions/setup-node') continue; // the workspace is the checkout; node is this one
        if (action === 'actions/upload-artifact') {
          const from = path.join(ws, w.path!);
          if (!(await stat(from).catch(() => undefined))) continue; // GitHub warns that no files were found
          const store = path.join(root, 'artifacts', w.name!);
          await cp(from, store, { recursive: true });
          artifacts.set(w.name!, store);
          continue;
        }
        if (action === 'actions/download-artifact') {
          // With a pattern and no merge-multiple, each artifact lands in <path>/<artifact name>/.
          const re = new RegExp(`^${w.pattern!.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
          for (const [n, store] of artifacts) if (re.test(n)) await cp(store, path.join(ws, w.path!, n), { recursive: true });
          continue;
        }
        throw new Error(`the workflow uses ${step.uses}, which this test does not emulate`);
      }
      const script = expression(step.run!, ctx);
      if (onlyInstalls(script)) continue;
      const result = await sh(jobName, name, script, ws, env, path.join(root, `summary-${jobName}-${i}.md`));
      steps.push(result);
      if (result.exitCode !== 0) failed = true;
    }
  }

  beforeAll(async () => {
    const [text] = yamlBlocks(await doc());
    const wf = YAML.parse(text!) as { env: Record<string, string>; jobs: Record<string, { strategy?: { matrix: { shard: number[] } }; needs?: string; if?: string; steps: Step[] }> };
    const github = { 'github.run_id': '4242', 'github.run_attempt': '1', 'github.run_number': SEED };
    const shardJob = wf.jobs.shard!;
    const values = shardJob.strategy!.matrix.shard;
    for (const v of values) {
      const ws = await workspace(async (dir) => {
        // The durations the docs tell to commit: merge-reports' durations.json of an earlier run.
        await mkdir(path.join(dir, '.github'));
        await writeFile(path.join(dir, '.github', 'faultline-durations.json'), JSON.stringify({ cells: baseline.cells.map((c) => ({ id: c.id, durationMs: c.durationMs })) }));
      });
      await runJob(`shard-${v}`, shardJob, { ...github, 'matrix.shard': String(v), 'strategy.job-total': String(values.length) }, wf.env, ws);
      shardReports.push(JSON.parse(await readFile(path.join(ws, 'reports', `shard-${v}`, 'report.json'), 'utf8')));
    }
    const mergeJob = wf.jobs.merge!;
    expect(mergeJob.needs).toBe('shard');
    expect(mergeJob.if).toBe('always()');
    mergeWs = await workspace();
    await runJob('merge', mergeJob, github, wf.env, mergeWs);
    merged = JSON.parse(await readFile(path.join(artifacts.get('faultline-report')!, 'report.json'), 'utf8'));
  });

  it('runs four shard jobs that split the suite, balanced by the committed durations', () => {
    const shardSteps = steps.filter((s) => s.name.startsWith('Run shard'));
    expect(shardSteps.map((s) => [s.name, s.exitCode])).toEqual([1, 2, 3, 4].map((i) => [`Run shard ${i}`, 0]));
    expect(shardReports.map((r) => r.shard?.index)).toEqual([1, 2, 3, 4]);
    expect(new Set(shardReports.map((r) => r.shard?.runKey)).size).toBe(1);
    expect(shardReports.every((r) => r.shard?.balance === 'durations' && r.shard.label === '4242-1')).toBe(true);
    expect(shardReports.flatMap((r) => r.cells.map((c) => c.id)).sort()).toEqual(baseline.cells.map((c) => c.id).sort());
    for (const s of steps.filter((x) => x.name === 'Prerequisites')) expect(s.exitCode, s.output).toBe(0);
  });

  it('merges them into the same cells and outcomes as one run of the suite', () => {
    expect(steps.find((s) => s.name === 'Merge the shards')?.exitCode).toBe(0);
    expect(essence(merged)).toEqual(essence(baseline));
    expect(merged.summary).toEqual(baseline.summary);
    expect(merged.merged?.shards).toHaveLength(4);
    expect(reportSchemaErrors(merged)).toEqual([]);
  });

  it('uploads the whole report and writes the step summary of the merge job', async () => {
    expect(await readdir(artifacts.get('faultline-report')!)).toEqual(expect.arrayContaining(['report.json', 'junit.xml', 'summary.md', 'report.html', 'durations.json', 'artifacts']));
    const summary = steps.find((s) => s.name === 'Merge the shards')?.summary ?? '';
    expect(summary).toContain(`**All ${baseline.cells.length} cells as expected`);
    expect(summary).toContain('Merged from 4 shards of run');
    expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(GITHUB_STEP_SUMMARY_MAX_BYTES);
    // Only the merge job writes a summary: the shards run with the console and json reporters.
    expect(steps.filter((s) => s.job !== 'merge' && s.summary)).toEqual([]);
  });
});

describe('docs/ci.md: GitLab CI', () => {
  const steps: StepResult[] = [];
  let merged: RunReport;
  let shardReports: RunReport[] = [];
  let mergeWs: string;
  let junitPath: string;

  interface Job { stage: string; parallel?: number; when?: string; needs?: string[]; before_script?: string[]; script: string[]; artifacts: { paths: string[]; reports?: { junit?: string } } }

  // A job's lines in one shell, as the runner does: the first failing line ends the job.
  const scriptOf = (job: Job) => [...(job.before_script ?? []), ...job.script].filter((l) => !INSTALL.test(l.trim())).join('\n');

  beforeAll(async () => {
    const [, text] = yamlBlocks(await doc());
    const ci = YAML.parse(text!) as { variables: Record<string, string>; stages: string[] } & Record<string, Job>;
    expect(ci.stages).toEqual(['test', 'report']);
    const job = ci.faultline!;
    const jobWorkspaces: string[] = [];
    for (let i = 1; i <= job.parallel!; i++) {
      const ws = await workspace();
      jobWorkspaces.push(ws);
      steps.push(await sh(`faultline ${i}/${job.parallel}`, 'script', scriptOf(job), ws, { ...ci.variables, CI_NODE_INDEX: String(i), CI_NODE_TOTAL: String(job.parallel), CI_PIPELINE_ID: '888', CI_PIPELINE_IID: SEED }));
      shardReports.push(JSON.parse(await readFile(path.join(ws, 'reports', `shard-${i}`, 'report.json'), 'utf8')));
    }
    const merge = ci.merge!;
    expect(merge.needs).toEqual(['faultline']);
    // needs: the artifacts of every parallel job, extracted at their paths.
    mergeWs = await workspace();
    for (const ws of jobWorkspaces) for (const p of job.artifacts.paths) await cp(path.join(ws, p), path.join(mergeWs, p), { recursive: true });
    steps.push(await sh('merge', 'script', scriptOf(merge), mergeWs, ci.variables));
    merged = JSON.parse(await readFile(path.join(mergeWs, merge.artifacts.paths[0]!, 'report.json'), 'utf8'));
    junitPath = path.join(mergeWs, merge.artifacts.reports!.junit!);
  });

  it('runs the parallel jobs as the four shards of one run, by count', () => {
    expect(steps.map((s) => [s.job, s.exitCode])).toEqual([['faultline 1/4', 0], ['faultline 2/4', 0], ['faultline 3/4', 0], ['faultline 4/4', 0], ['merge', 0]]);
    expect(shardReports.every((r) => r.shard?.balance === 'count' && r.shard.label === '888')).toBe(true);
  });

  it('merges them into the same cells and outcomes as one run, with the JUnit report GitLab reads', async () => {
    expect(essence(merged)).toEqual(essence(baseline));
    expect(reportSchemaErrors(merged)).toEqual([]);
    const junit = await readFile(junitPath, 'utf8');
    expect(junit.match(/<testcase /g)).toHaveLength(baseline.cells.length);
  });
});
