// The layering of docs/ARCHITECTURE.md, checked with dependency-cruiser (.dependency-cruiser.cjs):
// the tree has no violation, and the rules do fire on a cycle, on production code importing a test
// helper, and on a leaf importing the harness (a fixture tree in a temp dir).
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './version.ts';

const DEPCRUISE = path.join(REPO_ROOT, 'node_modules', '.bin', 'depcruise');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
  cycle?: { name: string }[];
}

async function violations(cwd: string, dirs: string[]): Promise<Violation[]> {
  const r = await execa(DEPCRUISE, [...dirs, '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], { cwd, reject: false });
  if (!r.stdout.trim().startsWith('{')) throw new Error(`depcruise failed (exit ${r.exitCode}): ${r.stderr}`);
  return (JSON.parse(r.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

const show = (v: Violation[]) => v.map((x) => `${x.rule.name}: ${x.from} -> ${x.to}${x.cycle ? ` (cycle ${x.cycle.map((c) => c.name).join(' -> ')})` : ''}`);

describe('layering', () => {
  it('the tree keeps every rule (no cycle, leaves stay leaves, no test helpers in production)', async () => {
    expect(show(await violations(REPO_ROOT, ['harness', 'bin', 'bench', 'testing', 'scripts']))).toEqual([]);
  });

  it('the rules fire on a reintroduced cycle (type-only imports included), a test helper in production and a leaf importing the harness', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fl-arch-'));
    try {
      await copyFile(path.join(REPO_ROOT, '.dependency-cruiser.cjs'), path.join(dir, '.dependency-cruiser.cjs'));
      await copyFile(path.join(REPO_ROOT, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
      const files: Record<string, string> = {
        'harness/faults/a.ts': "import type { B } from '../observe/b.ts';\nexport interface A { b?: B }\n",
        'harness/observe/b.ts': "import type { A } from '../faults/a.ts';\nexport interface B { a?: A }\n",
        'harness/runner/uses-helper.ts': "import { helper } from '../../testing/helper.ts';\nexport const x = helper;\n",
        'testing/helper.ts': 'export const helper = 1;\n',
        'harness/model/leaky.ts': "import type { A } from '../faults/a.ts';\nexport type L = A;\n",
      };
      for (const [f, text] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
        await writeFile(path.join(dir, f), text);
      }
      const names = (await violations(dir, ['harness', 'testing'])).map((v) => `${v.rule.name} ${v.from}`);
      expect(names).toEqual(
        expect.arrayContaining([
          'no-cycles harness/faults/a.ts',
          'no-test-helpers-in-production harness/runner/uses-helper.ts',
          'model-is-a-leaf harness/model/leaky.ts',
        ]),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
