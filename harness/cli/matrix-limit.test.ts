// A matrix is refused by its cell count (the product of its dimensions), before any cell is built:
// run, validate and list refuse it the same way, and --max-cells raises the limit.
import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { looksClean, refusal, tempDir } from '../../testing/cli.ts';
import { cellCount, combinations } from '../scenario/matrix.ts';

/** A valid scenario whose matrix has `dims` dimensions of `values` values each (all used by one expect). */
function scenario(name: string, dims: number, values: number): string {
  const names = Array.from({ length: dims }, (_, i) => `d${i}`);
  const vals = Array.from({ length: values }, (_, i) => `v${i}`);
  return [
    `name: ${name}`,
    'description: A big matrix.',
    'matrix:',
    ...names.map((d) => `  ${d}: [${vals.join(', ')}]`),
    'expect:',
    `  - when: { ${names.map((d) => `${d}: v0`).join(', ')} }`,
    '    outcome: pass',
    'cluster:',
    '  stack: { profile: lab/bridge-portmap }',
    '',
  ].join('\n');
}

let tmp: Awaited<ReturnType<typeof tempDir>>;
let big: string; // 200 x 200 = 40,000 cells
let huge: string; // 10 dimensions of 10 values: 10^10 cells
let over: string; // 2^11 = 2048 cells
beforeAll(async () => {
  tmp = await tempDir('fl-matrix-limit-');
  big = path.join(tmp.dir, 'big.yaml');
  huge = path.join(tmp.dir, 'huge.yaml');
  over = path.join(tmp.dir, 'over.yaml');
  await writeFile(big, scenario('big', 2, 200));
  await writeFile(huge, scenario('huge', 10, 10));
  await writeFile(over, scenario('over', 11, 2));
});
afterAll(async () => {
  await tmp.cleanup();
});

describe('cellCount', () => {
  it('is the product of the dimension sizes, without building the cells', () => {
    const matrix = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`d${i}`, Array.from({ length: 10 }, (_, j) => `v${j}`)]));
    expect(cellCount(matrix)).toBe(1e10);
    expect(cellCount({})).toBe(1);
    expect(() => combinations(matrix)).toThrow('the matrix has 10000000000 cells');
  });
});

describe('a matrix over the cell limit', () => {
  it('faultline run refuses 40,000 cells at the matrix, exit 2, and creates nothing', async () => {
    const out = path.join(tmp.dir, 'out');
    const r = await refusal(['run', big, '--out', out]);
    expect(r.exitCode, r.output).toBe(2);
    expect(r.output).toContain(`${big}:3:1: matrix: the matrix has 40000 cells (2 dimensions: 200 x 200); at most 1000 are allowed (raise the limit with --max-cells N)`);
    expect(looksClean(r.output), r.output).toBe(true);
    expect(existsSync(out)).toBe(false);
    expect(r.runsDirCreated).toBe(false);
  });

  it.each(['run', 'validate', 'list'])('faultline %s refuses 10 dimensions of 10 values the same way', async (cmd) => {
    const out = path.join(tmp.dir, `out-${cmd}`);
    const r = await refusal(cmd === 'run' ? ['run', huge, '--out', out] : [cmd, huge]);
    expect(r.exitCode, r.output).toBe(2);
    expect(r.output).toContain(`${huge}:3:1: matrix: the matrix has 10000000000 cells (10 dimensions: 10 x 10 x 10 x 10 x 10 x 10 x 10 x 10 x 10 x 10); at most 1000 are allowed`);
    expect(looksClean(r.output), r.output).toBe(true);
    expect(existsSync(out)).toBe(false);
    expect(r.runsDirCreated).toBe(false);
  });

  it('--max-cells raises the limit for validate and list', async () => {
    const refused = await refusal(['validate', over]);
    expect(refused.exitCode, refused.output).toBe(2);
    expect(refused.output).toContain('the matrix has 2048 cells');
    const validated = await refusal(['validate', over, '--max-cells', '2048']);
    expect(validated.exitCode, validated.output).toBe(0);
    expect(validated.output).toContain(`ok ${over} (2048 cells)`);
    const listed = await refusal(['list', over, '--max-cells', '2048']);
    expect(listed.exitCode, listed.output).toBe(0);
    expect(listed.output).toContain('cells (2048):');
  });

  it('--max-cells takes a decimal integer from 1 to 1000000', async () => {
    const r = await refusal(['validate', over, '--max-cells', '1e6']);
    expect(r.exitCode, r.output).toBe(2);
    expect(r.output).toContain('Expected the `--max-cells` option to be a decimal integer from 1 to 1000000, got `1e6`');
  });
});
