// `npm ci` accepts package.json + package-lock.json as a clean clone has them: a fresh directory
// and an empty npm cache (a warm cache could hide an entry the registry cannot serve). Needs the
// npm registry; skipped, saying so, when it cannot be reached.
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../harness/version.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultline-npm-ci-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('npm ci on a clean copy of the lock file', () => {
  it('installs every locked package and exits 0', async (ctx) => {
    const cache = join(dir, 'npm-cache');
    const ping = await execa('npm', ['ping', '--cache', cache], { reject: false, timeout: 60_000, all: true });
    if (ping.exitCode !== 0) ctx.skip(`the npm registry cannot be reached (npm ping: ${(ping.all ?? ping.shortMessage ?? '').trim().split('\n').pop()})`);

    const project = join(dir, 'project');
    await mkdir(project);
    for (const f of ['package.json', 'package-lock.json']) await copyFile(join(REPO_ROOT, f), join(project, f));
    const r = await execa('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--cache', cache], { cwd: project, reject: false, all: true, timeout: 600_000 });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).not.toMatch(/Missing: .* from lock file/);
    // What tsx needs to run the sources, for this platform.
    await expect(execa(process.execPath, ['-e', "require('esbuild').transformSync('let a: number = 1', { loader: 'ts' })"], { cwd: project })).resolves.toMatchObject({ exitCode: 0 });
  }, 660_000);
});
