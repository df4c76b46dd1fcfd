import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { FaultlineError, exitCodeFor } from '../../errors.ts';
import type { CommandIO } from '../command.ts';
import { cniCommand } from './cni.ts';

const work = mkdtempSync(join(tmpdir(), 'faultline-cni-cmd-test-'));
afterAll(() => {
  delete process.env.FAULTLINE_CACHE_DIR;
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
beforeEach(() => {
  process.env.FAULTLINE_CACHE_DIR = mkdtempSync(join(work, `cache${n++}-`));
});

function io(): CommandIO & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  return { out_, err_, out: (l) => out_.push(l), err: (l) => err_.push(l), signal: new AbortController().signal };
}

function plugins(): string {
  const dir = mkdtempSync(join(work, 'plugins-'));
  for (const p of ['host-local', 'bridge']) {
    writeFileSync(join(dir, p), '#!/bin/sh\n');
    chmodSync(join(dir, p), 0o755);
  }
  return dir;
}

async function codeOf(values: Record<string, string | boolean | undefined>, args: string[]): Promise<{ code: number; error?: FaultlineError }> {
  try {
    return { code: await cniCommand.run(values, args, io()) };
  } catch (e) {
    return { code: exitCodeFor(e), error: e as FaultlineError };
  }
}

describe('faultline cni', () => {
  it('list on an empty cache says so and shows what can be installed', async () => {
    const a = io();
    expect(await cniCommand.run({}, ['list'], a)).toBe(0);
    expect(a.out_).toContain(`cache: ${process.env.FAULTLINE_CACHE_DIR}`);
    expect(a.out_).toContain('installed: none');
    expect(a.out_.join('\n')).toMatch(/0\.9\.0 \(Debian bullseye/);
  });

  it('install --from-dir caches a directory under a version; list shows it (text and JSON)', async () => {
    const src = plugins();
    const a = io();
    expect(await cniCommand.run({ 'from-dir': src }, ['install', '7.7.7'], a)).toBe(0);
    expect(a.out_).toEqual([`ok  7.7.7  dir:${src}  ${join(process.env.FAULTLINE_CACHE_DIR!, '7.7.7')}`]);
    expect(a.err_.join('\n')).toMatch(/installing CNI plugins 7\.7\.7 from/);
    const b = io();
    await cniCommand.run({}, ['list'], b);
    expect(b.out_.some((l) => /^\s+7\.7\.7\s+dir:.*2 binaries/.test(l))).toBe(true);
    const c = io();
    await cniCommand.run({ json: true }, ['list'], c);
    const j = JSON.parse(c.out_.join('\n'));
    expect(j.installed.map((m: { version: string }) => m.version)).toEqual(['7.7.7']);
  });

  it('rejects bad usage with exit 2', async () => {
    expect((await codeOf({}, [])).code).toBe(2);
    expect((await codeOf({}, ['frobnicate'])).error?.message).toMatch(/unknown subcommand 'frobnicate'/);
    expect((await codeOf({}, ['install'])).error?.message).toMatch(/at least one version/);
    expect((await codeOf({ source: 'ftp' }, ['install', '1.1.1'])).error?.message).toMatch(/--source must be one of/);
    expect((await codeOf({ source: 'dir' }, ['install', '1.1.1'])).error?.message).toMatch(/--from-dir/);
    expect((await codeOf({ 'from-dir': '/x' }, ['install', '1.0.0', '2.0.0'])).code).toBe(2);
  });

  it('an unknown version is invalid input (exit 2) listing the known ones', async () => {
    const r = await codeOf({}, ['install', 'banana']);
    expect(r.code).toBe(2);
    expect(r.error?.code).toBe('invalid-input');
    expect(r.error?.message).toMatch(/known versions:[\s\S]*1\.1\.1/);
  });
});
