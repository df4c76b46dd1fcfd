import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { selectRun } from './select.ts';
import { InvalidInputError } from '../errors.ts';

describe('selectRun with --suite and --backend', () => {
  let dir: string;
  beforeAll(async () => {
    // A suite's scenario beside a kind scenario, as in scenarios/.
    dir = await mkdtemp(path.join(os.tmpdir(), 'fl-select-'));
    await copyFile('scenarios/cni-version-compat.yaml', path.join(dir, 'cni-version-compat.yaml'));
    await copyFile('scenarios/kind/multus-self-nesting-kind.yaml', path.join(dir, 'multus-self-nesting-kind.yaml'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('runs the suite on the backend asked for, without refusing the kind scenario beside it', async () => {
    const sel = await selectRun({ paths: [dir], suite: 'default', backend: 'container' });
    expect(sel.scenarios.map((s) => s.name)).toEqual(['cni-version-compat']);
    expect(new Set(sel.cells.map((c) => c.backend))).toEqual(new Set(['container']));
  });

  it('still refuses the kind scenario on another backend when it is selected', async () => {
    const err = await selectRun({ paths: [dir], backend: 'local' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).problems.map((p) => p.message).join('\n')).toMatch(/kind stack, for backend kind only/);
  });
});
