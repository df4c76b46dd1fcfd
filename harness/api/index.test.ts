import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FaultlineError, InvalidInputError, loadScenario, run, validate } from './index.ts';
import { REPO_ROOT } from '../version.ts';

const GOOD = path.join(REPO_ROOT, 'scenarios', 'cni-version-compat.yaml');
const BAD = path.join(REPO_ROOT, 'harness', 'scenario', 'testdata', 'bad', 'bad-cidr.yaml');

describe('the programmatic API', () => {
  it('validate reports every file, bad ones with problems at file:line:col, without throwing', async () => {
    const r = await validate([GOOD, pathToFileURL(BAD)]);
    expect(r.ok).toBe(false);
    expect(r.files.map((f) => [path.basename(f.file), f.ok, f.cells])).toEqual([['cni-version-compat.yaml', true, 2], ['bad-cidr.yaml', false, undefined]]);
    expect(r.files[1]!.problems[0]!.where).toMatch(/bad-cidr\.yaml:5:12$/);
    expect(r.files[1]!.problems[0]!.message).toContain('cluster.podCIDR: expected an IPv4 CIDR like 10.52.0.0/16');
    expect((await validate(GOOD)).ok).toBe(true);
  });

  it('loadScenario gives the scenario, or an InvalidInputError with its problems', async () => {
    expect((await loadScenario(pathToFileURL(GOOD))).name).toBe('cni-version-compat');
    await expect(loadScenario(BAD)).rejects.toBeInstanceOf(InvalidInputError);
  });

  it.each([
    [{ jobs: 0 }, 'Expected the `jobs` option to be an integer from 1 to 1024, got `0` (number)'],
    [{ seed: 1.5 }, 'Expected the `seed` option to be an integer from 0 to 9007199254740991, got `1.5` (number)'],
    [{ shard: '5/4' }, 'Expected the `shard` option to be i/n with 1 <= i <= n <= 1024 (e.g. 2/4), got `5/4`'],
    [{ shard: { index: 0, total: 2 } }, 'Expected the `shard` option to be i/n'],
    [{ runLabel: 'x' }, 'the `durations` and `runLabel` options need `shard`'],
    [{ only: { conf: [] } }, 'Expected the `only.conf` option to be a matrix value or a list of them, got `[]`'],
    [{ only: { nope: 'x' } }, "--only nope=...: no scenario has a matrix dimension 'nope'"],
  ])('run refuses %j before running anything', async (options, message) => {
    const err = await run({ scenarios: GOOD, ...options } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaultlineError);
    expect((err as FaultlineError).code).toBe('usage');
    expect((err as Error).message).toContain(message);
  });
});
