// Numeric flags take plain decimal integers in range; anything else is refused naming the flag,
// before any scenario is run.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decimalFlag } from './flags.ts';
import { looksClean, refusal, tempDir } from '../../testing/cli.ts';

const NOT_DECIMAL = ['0x10', '1e3', ' 5', '5 ', '+5', '5.0', '-1', '', '05', 'five', '１'];

describe('decimalFlag', () => {
  it('accepts plain decimal integers in range', () => {
    expect(decimalFlag('jobs', '1', 1, 1024)).toBe(1);
    expect(decimalFlag('jobs', '1024', 1, 1024)).toBe(1024);
    expect(decimalFlag('seed', '0', 0, Number.MAX_SAFE_INTEGER)).toBe(0);
    expect(decimalFlag('seed', String(Number.MAX_SAFE_INTEGER), 0, Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
    expect(decimalFlag('jobs', undefined, 1, 1024)).toBeUndefined();
  });

  it.each(NOT_DECIMAL)('refuses %j, naming the flag', (raw) => {
    expect(() => decimalFlag('jobs', raw, 0, 1024)).toThrow(`Expected the \`--jobs\` option to be a decimal integer from 0 to 1024, got \`${raw}\``);
  });

  it('refuses values out of range, and seeds past 2^53-1', () => {
    expect(() => decimalFlag('jobs', '0', 1, 1024)).toThrow('--jobs');
    expect(() => decimalFlag('jobs', '1025', 1, 1024)).toThrow('--jobs');
    expect(() => decimalFlag('seed', '9007199254740992', 0, Number.MAX_SAFE_INTEGER)).toThrow('--seed');
  });
});

describe('faultline run with a bad number', () => {
  const cases: [string, string][] = [
    ['--jobs', '0x10'],
    ['--jobs', '1e3'],
    ['--jobs', ' 5'],
    ['--jobs', '0'],
    ['--jobs', '1025'],
    ['--seed', '+5'],
    ['--seed', '5.0'],
    ['--seed', '9007199254740992'],
  ];
  it.each(cases)('%s %j exits 2 naming the flag, and creates nothing', async (flag, value) => {
    const tmp = await tempDir('fl-flags-');
    try {
      const out = path.join(tmp.dir, 'out');
      const r = await refusal(['run', 'scenarios/cni-version-compat.yaml', '--out', out, flag, value]);
      expect(r.exitCode, r.output).toBe(2);
      expect(r.output).toContain(`Expected the \`${flag}\` option to be a decimal integer from`);
      expect(r.output).toContain(`got \`${value}\``);
      expect(looksClean(r.output), r.output).toBe(true);
      expect(existsSync(out)).toBe(false);
      expect(r.runsDirCreated).toBe(false);
    } finally {
      await tmp.cleanup();
    }
  });
});
