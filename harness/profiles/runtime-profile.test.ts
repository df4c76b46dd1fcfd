import { mkdir, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultlineError, InvalidInputError } from '../errors.ts';
import { listRuntimeProfiles, loadRuntimeProfile } from './runtime-profile.ts';

describe('shipped runtime profiles', () => {
  it('lists libcni 1.1, 1.2 and 1.3', async () => {
    expect(await listRuntimeProfiles()).toEqual(['libcni-1.1', 'libcni-1.2', 'libcni-1.3']);
  });

  it('libcni-1.1 aborts DEL on a bad cache and has no GC/STATUS', async () => {
    const p = await loadRuntimeProfile('libcni-1.1');
    expect(p.del).toEqual({ readsCacheFromCniVersion: '0.4.0', onCacheError: 'abort', removeCacheAfterDel: true });
    expect(p.gc.supported).toBe(false);
    expect(p.status.supported).toBe(false);
    expect(p.cache?.writesNetns).toBe(false);
    expect(p.specVersions).not.toContain('1.1.0');
    expect(p.references.join(' ')).toContain('cni/issues/1055');
    expect(p.file).toMatch(/profiles\/runtime\/libcni-1\.1\.yaml$/);
  });

  it('libcni-1.2 tolerates, GCs with the legacy key, speaks 1.1.0 and cites its PRs', async () => {
    const p = await loadRuntimeProfile('libcni-1.2');
    expect(p.del.onCacheError).toBe('tolerate');
    expect(p.gc).toEqual({ supported: true, skipUnparsableCache: true, legacyAttachmentsKey: true });
    expect(p.status.supported).toBe(true);
    expect(p.cache?.writesNetns).toBe(true);
    expect(p.specVersions).toContain('1.1.0');
    for (const pr of ['pull/1072', 'pull/1095', 'pull/1103']) expect(p.references.join(' ')).toContain(pr);
  });
});

describe('bad runtime profiles', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'faultline-rtprof-'));
    await mkdir(path.join(root, 'runtime'));
    const good = await readFile(new URL('../../profiles/runtime/libcni-1.2.yaml', import.meta.url), 'utf8');
    await writeFile(path.join(root, 'runtime', 'typo.yaml'), good.replace('name: libcni-1.2', 'name: typo').replace('onCacheError: tolerate', 'onCacheError: ignore'));
    await writeFile(path.join(root, 'runtime', 'misnamed.yaml'), good);
    await writeFile(path.join(root, 'runtime', 'broken.yaml'), 'name: broken\ndel: [\n');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('names the unknown profile and the known ones', async () => {
    const err = await loadRuntimeProfile('libcni-9', root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaultlineError);
    expect((err as FaultlineError).code).toBe('invalid-input');
    expect((err as Error).message).toBe("unknown runtime profile 'libcni-9'; known: broken, misnamed, typo");
  });

  it('points at the file and line of a bad value', async () => {
    const err = await loadRuntimeProfile('typo', root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    const problem = (err as InvalidInputError).problems[0]!;
    expect(problem.message).toBe('runtime profile: del.onCacheError: expected one of "abort", "tolerate", found string "ignore"');
    expect(problem.location.file).toBe(path.join(root, 'runtime', 'typo.yaml'));
    const lines = (await readFile(problem.location.file, 'utf8')).split('\n');
    expect(lines[problem.location.line! - 1]).toMatch(/^\s+onCacheError: ignore/);
  });

  it('rejects a name that does not match the file and invalid YAML', async () => {
    await expect(loadRuntimeProfile('misnamed', root)).rejects.toThrow(/misnamed\.yaml:\d+:7: runtime profile: name: 'libcni-1\.2' does not match the file name \('misnamed'\)/);
    const err = await loadRuntimeProfile('broken', root).catch((e: unknown) => e);
    expect((err as FaultlineError).code).toBe('invalid-input');
    expect((err as FaultlineError).location).toMatchObject({ line: 3, column: 1 });
  });
});
