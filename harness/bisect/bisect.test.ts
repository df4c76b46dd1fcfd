// The bisect's preparation and judgement, without running probes (bisect.slow.test.ts runs them).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FaultlineError } from '../errors.ts';
import { REPO_ROOT } from '../version.ts';
import type { CellReport } from '../model/report.ts';
import { loadScenario } from '../scenario/load.ts';
import { main } from '../cli/main.ts';
import { bareRef, prepareBisect, probeOutcome, sourceDimension } from './bisect.ts';

const SPEC = path.join(REPO_ROOT, 'scenarios', 'cni-spec-1.1.0.yaml');
const EMPTY_CACHE = path.join(REPO_ROOT, 'scenarios', 'libcni-empty-cache-del.yaml');
const MULTUS = path.join(REPO_ROOT, 'scenarios', 'multus-self-nesting.yaml');
const none = new Map<string, Set<string>>();

const usage = async (p: Promise<unknown>) => {
  const e = await p.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(FaultlineError);
  expect((e as FaultlineError).code).toBe('usage');
  return (e as FaultlineError).message;
};

describe('prepareBisect', () => {
  it('narrows the matrix to the values (checked as the loader checks the file) and fixes the other dimensions', async () => {
    const plan = await prepareBisect(EMPTY_CACHE, 'cni', ['1.1.1', 'go:v1.5.1', 'go:v1.9.1'], new Map([['runtime', new Set(['libcni-1.2'])]]));
    expect(plan.scenario.matrix).toEqual({ runtime: ['libcni-1.2'], cni: ['1.1.1', 'go:v1.5.1', 'go:v1.9.1'] });
    expect(plan.scenario.expect).toEqual([]);
    expect(plan.fixed).toEqual({ runtime: 'libcni-1.2' });
    // by default the other dimensions take their first value
    expect((await prepareBisect(EMPTY_CACHE, 'cni', ['1.1.1', 'sid'], none)).fixed).toEqual({ runtime: 'libcni-1.1' });
  });

  it('refuses values the scenario would not accept, naming them', async () => {
    expect(await usage(prepareBisect(SPEC, 'cni', ['go:v1.5.1', 'go:main'], none))).toContain('found "go:main"');
    expect(await usage(prepareBisect(SPEC, 'cni', ['go:v1.5.1'], none))).toContain('bisect needs at least two values');
    expect(await usage(prepareBisect(SPEC, 'cni', ['go:v1.5.1', 'go:v1.5.1'], none))).toContain("'go:v1.5.1' is listed twice");
    expect(await usage(prepareBisect(SPEC, 'plugins', ['go:v1.5.1', 'go:v1.9.1'], none))).toContain("has no matrix dimension 'plugins' (dimensions: cni)");
    expect(await usage(prepareBisect(EMPTY_CACHE, 'cni', ['1.1.1', 'sid'], new Map([['runtime', new Set(['libcni-9'])]])))).toContain("dimension 'runtime' has no value 'libcni-9'");
  });
});

describe('the value form --between gives each dimension', () => {
  it('prefixes go: where the stack field needs it, and refuses a dimension that selects no source build', async () => {
    expect(sourceDimension(await loadScenario(SPEC), 'cni').valueFor('v1.2.0')).toBe('go:v1.2.0');
    expect(sourceDimension(await loadScenario(MULTUS), 'multus').valueFor('v4.0.2')).toBe('v4.0.2');
    expect(sourceDimension(await loadScenario(EMPTY_CACHE), 'runtime').valueFor('v1.7.22')).toBe('containerd-go:v1.7.22');
    const harvester = await loadScenario(path.join(REPO_ROOT, 'scenarios', 'harvester-hard-reboot-ip-leak.yaml'));
    expect(() => sourceDimension(harvester, 'harvester')).toThrow(/--between needs a dimension that selects a component built from source .* 'harvester' feeds no such field/);
    expect(bareRef('go:v1.0.0')).toBe('v1.0.0');
    expect(bareRef('1.9.1')).toBe('v1.9.1');
  });
});

describe('probeOutcome', () => {
  const cell = (over: Partial<CellReport>): CellReport =>
    ({ matrix: { cni: 'go:v1.5.1' }, assertions: [], durationMs: 5, stack: { profile: 'p', cni: { version: 'v1.5.1', source: 'go:github.com/containernetworking/plugins@v1.5.1', dir: '/x', sha256: {}, build: { sum: 'h1:abc=', go: 'go1.26.8' } }, runtime: 'libcni-1.3', substitutions: [], conflistCniVersion: '1.1.0' }, ...over }) as unknown as CellReport;

  it('compares what the checks said: pass, the failing checks, or an error', () => {
    expect(probeOutcome({ dim: 'cni' }, 'go:v1.5.1', cell({ error: { message: 'incompatible CNI versions', code: 'environment' } }))).toMatchObject({ key: 'error', evidence: ['incompatible CNI versions'], component: 'plugins v1.5.1 (go:github.com/containernetworking/plugins@v1.5.1, h1:abc=, go1.26.8)' });
    const failing = cell({ assertions: [
      { name: 'no-leaked-reservations', phase: 'end', status: 'fail', evidence: [{ summary: '10.88.0.2 leaked' }] },
      { name: 'del-succeeds', phase: 'end', status: 'fail', evidence: [{ summary: 'DEL failed' }] },
      { name: 'cache-valid', phase: 'end', status: 'pass', evidence: [] },
    ] });
    expect(probeOutcome({ dim: 'cni' }, 'v', failing)).toMatchObject({ key: 'fail: del-succeeds, no-leaked-reservations', evidence: ['no-leaked-reservations: 10.88.0.2 leaked', 'del-succeeds: DEL failed'] });
    expect(probeOutcome({ dim: 'cni' }, 'v', cell({ assertions: [{ name: 'a', phase: 'end', status: 'pass', evidence: [] }] }))).toMatchObject({ key: 'pass', evidence: ['all 1 check(s) held'] });
  });
});

describe('faultline bisect: usage', () => {
  const run = async (...args: string[]) => {
    const out: string[] = [];
    const code = await main(['bisect', ...args], { out: (l) => out.push(l), err: (l) => out.push(l), signal: new AbortController().signal });
    return { code, text: out.join('\n') };
  };

  it('exits 2 naming what is missing or contradictory', async () => {
    expect(await run(SPEC, '--values', 'go:v1.5.1,go:v1.9.1')).toMatchObject({ code: 2, text: expect.stringContaining('--dim is required') });
    expect(await run(SPEC, '--dim', 'cni')).toMatchObject({ code: 2, text: expect.stringContaining('give exactly one of --values and --between') });
    expect(await run(SPEC, '--dim', 'cni', '--values', 'a,b', '--between', 'v1.0.0..v1.9.1')).toMatchObject({ code: 2, text: expect.stringContaining('give exactly one of --values and --between') });
    expect(await run('--dim', 'cni', '--values', 'a,b')).toMatchObject({ code: 2, text: expect.stringContaining('name exactly one scenario file') });
    expect(await run(SPEC, '--dim', 'cni', '--between', 'v1.0.0')).toMatchObject({ code: 2, text: expect.stringContaining('--between takes two refs') });
    expect(await run(SPEC, '--dim', 'cni', '--values', 'go:v1.5.1,go:nope')).toMatchObject({ code: 2, text: expect.stringContaining('found "go:nope"') });
  });
});
