import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listCommand, summaryLine } from './list.ts';

const GOOD = path.resolve(import.meta.dirname, '..', '..', 'scenario', 'testdata', 'good');
const files = [path.join(GOOD, 'minimal.yaml'), path.join(GOOD, 'matrix-expect.yaml')];

async function list(values: Record<string, string | boolean | string[] | undefined>, args = files) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await listCommand.run(values, args, { out: (l) => out.push(l), err: (l) => err.push(l), signal: new AbortController().signal });
  return { code, out, err };
}

describe('faultline list', () => {
  it('shows each scenario with its first description line, suites and cells', async () => {
    const r = await list({});
    expect(r.code).toBe(0);
    expect(r.out).toEqual([
      `minimal  (${files[0]})`,
      '  One node, the v1.4.3 stack, nothing injected.',
      '  suites: -',
      '  cells (1):',
      '    minimal  expect pass',
      `matrix-expect  (${files[1]})`,
      '  Two dimensions, one of them only selecting expectations.',
      '  suites: default, matrix',
      '  cells (6):',
      '    matrix-expect[harvester=v1.4.1,cni=system]  expect error (harness: /cannot boot/)',
      '    matrix-expect[harvester=v1.4.1,cni=1.1.1]  expect error (harness: /cannot boot/)',
      '    matrix-expect[harvester=v1.4.2,cni=system]  expect pass',
      '    matrix-expect[harvester=v1.4.2,cni=1.1.1]  expect error (plugin: /incompatible CNI versions/)',
      '    matrix-expect[harvester=v1.4.3,cni=system]  expect pass',
      '    matrix-expect[harvester=v1.4.3,cni=1.1.1]  expect pass',
    ]);
  });

  it('filters by suite and prints JSON for scripts', async () => {
    const r = await list({ suite: ['matrix'], json: true });
    const doc = JSON.parse(r.out.join('\n'));
    expect(doc.map((s: { name: string }) => s.name)).toEqual(['matrix-expect']);
    expect(doc[0].cells[3]).toEqual({ id: 'matrix-expect[harvester=v1.4.2,cni=1.1.1]', values: { harvester: 'v1.4.2', cni: '1.1.1' }, stack: { profile: 'harvester/v1.4.2', cni: '1.1.1' }, expect: { outcome: 'error', failing: [], error: { source: 'plugin', match: 'incompatible CNI versions' }, index: 1 } });
    await expect(list({ suite: ['nightly'] })).rejects.toThrow("--suite nightly: no scenario belongs to it; suites: default, matrix");
  });

  it('cuts a long folded description at its first sentence', () => {
    expect(summaryLine(`Harvester node loses power three times. ${'After that, more words. '.repeat(10)}`)).toBe('Harvester node loses power three times.');
    expect(summaryLine('short\nsecond')).toBe('short');
    expect(summaryLine('x'.repeat(150))).toBe(`${'x'.repeat(97)}...`);
  });
});
