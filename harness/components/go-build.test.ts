// What go: sources say when Go, the proxy or a version is missing, against a module proxy on disk
// (testing/go-proxy.ts); and the component cache's one-build-per-entry. The builds are in
// go-build.slow.test.ts.
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultlineError } from '../errors.ts';
import { cachedComponent, downloadModule, goToolchain } from './go-build.ts';
import { FileProxy, goMissing, goSum } from '../../testing/go-proxy.ts';

const skip = goMissing();
let tmp: string;
let proxy: FileProxy;

/** A Go environment using only the file proxy and a cache dir of its own. */
function env(cache: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return proxy.env({ FAULTLINE_GO_CACHE_DIR: path.join(tmp, cache), ...extra });
}

beforeAll(async () => {
  if (skip) return;
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fl-go-build-'));
  proxy = new FileProxy(path.join(tmp, 'proxy'));
  const dep = (word: string) => ({ 'go.mod': 'module example.test/dep\n\ngo 1.21\n', 'dep.go': `package dep\n\nconst Word = "${word}"\n` });
  const d1 = await proxy.add('example.test/dep', 'v1.0.0', dep('one'));
  const d2 = await proxy.add('example.test/dep', 'v1.1.0', dep('two'));
  // Built as the main module, its replace directive holds (go install refuses such modules).
  await proxy.add('example.test/tool', 'v1.0.0', {
    'go.mod': 'module example.test/tool\n\ngo 1.21\n\nrequire example.test/dep v1.0.0\n\nreplace example.test/dep v1.0.0 => example.test/dep v1.1.0\n',
    'go.sum': goSum([d1, d2]),
    'cmd/tool/main.go': 'package main\n\nimport (\n\t"fmt"\n\n\t"example.test/dep"\n)\n\nvar version = "unset"\n\nfunc main() { fmt.Println(dep.Word, version) }\n',
    'vendor/modules.txt': '# example.test/dep v1.0.0\n',
  }, { commit: 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00' });
}, 60_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!!skip)('a missing Go, proxy or version: exit 3 naming the alternatives, exit 2 for no such version', () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  it('says a version the proxy does not have does not exist (exit 2)', async () => {
    const e = await downloadModule(await goToolchain({ env: env('no-build') }), 'example.test/tool', 'v9.9.9').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FaultlineError);
    expect((e as FaultlineError).code).toBe('invalid-input');
    expect((e as FaultlineError).message).toContain('example.test/tool@v9.9.9 does not exist');
  });

  it('names a missing go command', async () => {
    const e = await goToolchain({ env: env('x', { FAULTLINE_GO: path.join(tmp ?? '/nonexistent', 'no-go-here') }) }).catch((x: unknown) => x);
    expect((e as FaultlineError).code).toBe('prerequisite');
    expect((e as FaultlineError).message).toMatch(/no-go-here does not exist.*alternatives: CNI plugins from a release tarball/);
  });

  it('names GOPROXY=off', async () => {
    const e = await goToolchain({ env: env('x', { GOPROXY: 'off' }) }).catch((x: unknown) => x);
    expect((e as FaultlineError).code).toBe('prerequisite');
    expect((e as FaultlineError).message).toContain('Go has no module proxy (GOPROXY=off)');
  });

  it('names an unreachable proxy', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const tc = await goToolchain({ env: env('unreachable', { GOPROXY: `http://127.0.0.1:${port}` }) });
    const e = await downloadModule(tc, 'example.test/tool', 'v1.0.0').catch((x: unknown) => x);
    expect((e as FaultlineError).code).toBe('environment');
    expect((e as FaultlineError).message).toMatch(/cannot be reached for example\.test\/tool@v1\.0\.0: .*connection refused.*alternatives:/);
  }, 60_000);

  it('names a proxy that refuses a version (403), as for a commit it has not seen', async () => {
    server = createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('Forbidden: This module version is not available.\n');
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const tc = await goToolchain({ env: env('forbidden', { GOPROXY: `http://127.0.0.1:${port}` }) });
    const e = await downloadModule(tc, 'example.test/tool', '3d27709faaa4').catch((x: unknown) => x);
    expect((e as FaultlineError).code).toBe('environment');
    expect((e as FaultlineError).message).toMatch(/did not serve example\.test\/tool@3d27709faaa4: .*403/);
    expect((e as FaultlineError).hint).toContain('dir:/path');
  }, 60_000);
});

describe('cachedComponent', () => {
  it('builds an entry once for concurrent callers and leaves nothing from a failed build', async () => {
    const cache = await mkdtemp(path.join(os.tmpdir(), 'fl-component-'));
    try {
      let builds = 0;
      const read = async (dir: string) => readFile(path.join(dir, 'manifest.json'), 'utf8').then((t) => JSON.parse(t) as { n: number }, () => undefined);
      const build = async (temp: string) => {
        builds++;
        await new Promise((r) => setImmediate(r));
        const { writeManifest } = await import('./go-build.ts');
        await writeManifest(temp, { n: builds });
      };
      const [x, y] = await Promise.all([cachedComponent({ cache, name: 'go-v1', read, build }), cachedComponent({ cache, name: 'go-v1', read, build })]);
      expect(x).toEqual({ n: 1 });
      expect(y).toEqual({ n: 1 });
      expect(builds).toBe(1);
      const failed = await cachedComponent({ cache, name: 'go-v2', read, build: async () => { throw new Error('compiler crashed'); } }).catch((e: unknown) => e);
      expect((failed as FaultlineError).message).toContain('building go-v2 failed: compiler crashed');
      expect((await readdir(cache)).filter((n) => !n.startsWith('.locks')).sort()).toEqual(['go-v1']);
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  });
});
