// Go builds against a module proxy on disk (testing/go-proxy.ts): no network, real go commands and
// builds with cold caches (a minute on 2 cores). The errors are in go-build.test.ts.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGoModule, goToolchain, type GoToolchain } from './go-build.ts';
import { resolvePlugins } from '../cni-versions/index.ts';
import { FileProxy, goMissing, goSum, type ModuleVersion } from '../../testing/go-proxy.ts';

const skip = goMissing();
let tmp: string;
let proxy: FileProxy;
let tool: ModuleVersion;
const sha = async (f: string) => createHash('sha256').update(await readFile(f)).digest('hex');

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
  tool = await proxy.add('example.test/tool', 'v1.0.0', {
    'go.mod': 'module example.test/tool\n\ngo 1.21\n\nrequire example.test/dep v1.0.0\n\nreplace example.test/dep v1.0.0 => example.test/dep v1.1.0\n',
    'go.sum': goSum([d1, d2]),
    'cmd/tool/main.go': 'package main\n\nimport (\n\t"fmt"\n\n\t"example.test/dep"\n)\n\nvar version = "unset"\n\nfunc main() { fmt.Println(dep.Word, version) }\n',
    'vendor/modules.txt': '# example.test/dep v1.0.0\n',
  }, { commit: 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00' });
  // A stand-in for containernetworking/plugins: what build_linux.sh would build, and a windows
  // plugin that does not even compile on Linux (it must be left out).
  const main = (name: string) => `package main\n\nimport (\n\t"fmt"\n\n\t"github.com/containernetworking/plugins/pkg/utils/buildversion"\n)\n\nfunc main() { fmt.Println("${name}", buildversion.BuildVersion) }\n`;
  for (const v of ['v1.0.0', 'v1.0.1']) {
    await proxy.add('github.com/containernetworking/plugins', v, {
      'go.mod': 'module github.com/containernetworking/plugins\n\ngo 1.21\n',
      'pkg/utils/buildversion/buildversion.go': 'package buildversion\n\nvar BuildVersion = "unset"\n',
      'plugins/ipam/host-local/main.go': main('host-local'),
      'plugins/main/bridge/main.go': main('bridge'),
      'plugins/main/windows/main.go': 'package main\n\nthis does not compile\n',
    });
  }
}, 60_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const steps = async () => [{ packages: ['./cmd/tool'], cgo: false, ldflags: '-X main.version=v1.0.0' }];

describe.skipIf(!!skip)('Go builds from a module proxy', () => {
  let tc: GoToolchain;
  let first: Awaited<ReturnType<typeof buildGoModule>>;
  let firstOut: string;

  beforeAll(async () => {
    tc = await goToolchain({ env: env('cache-a') });
    firstOut = await mkdtemp(path.join(tmp, 'out-'));
    first = await buildGoModule(tc, { module: 'example.test/tool', version: 'v1.0.0', label: 'tool', steps, requirements: ['example.test/dep'] }, firstOut);
  }, 180_000);

  it('builds the module as the main module: its replace directive and the ldflags hold', async () => {
    const r = await execa(path.join(firstOut, 'tool'));
    expect(r.stdout.trim()).toBe('two v1.0.0');
    expect(first.requires).toEqual({ 'example.test/dep': 'example.test/dep@v1.1.0' });
  });

  it("records the module's go.sum hashes, the commit, the Go version and every binary's sha256", async () => {
    const goVersion = (await execa(tc.go, ['env', 'GOVERSION'], { env: tc.env })).stdout.trim();
    expect(first).toMatchObject({ module: 'example.test/tool', version: 'v1.0.0', requested: 'v1.0.0', sum: tool.sum, goModSum: tool.goModSum, commit: 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00', go: goVersion, proxy: proxy.url });
    expect(first.steps[0]).toMatchObject({ cgo: false, ldflags: '-X main.version=v1.0.0', flags: '-mod=readonly -buildvcs=false -trimpath' });
    expect(first.sha256).toEqual({ tool: await sha(path.join(firstOut, 'tool')) });
    expect(await readdir(firstOut)).toEqual(['tool']);
  });

  it('gives identical binaries from the same inputs in other caches and work dirs', async () => {
    const tc2 = await goToolchain({ env: env('cache-b') });
    const out = await mkdtemp(path.join(tmp, 'out-'));
    const again = await buildGoModule(tc2, { module: 'example.test/tool', version: 'v1.0.0', label: 'tool', steps }, out);
    expect(again.sha256).toEqual(first.sha256);
    // faultline's own caches, never the user's
    expect(tc2.env.GOMODCACHE).toBe(path.join(tmp, 'cache-b', 'mod'));
    expect(tc2.env.GOCACHE).toBe(path.join(tmp, 'cache-b', 'build'));
    expect(tc2.env.GOFLAGS).toBe('-mod=readonly -buildvcs=false -modcacherw');
  }, 180_000);
});

describe.skipIf(!!skip)('cni: go:<version>', () => {
  it('builds the plugins as build_linux.sh does (windows left out, BuildVersion set) and resolves the cached build without Go', async () => {
    const cacheDir = await mkdtemp(path.join(tmp, 'cni-'));
    const messages: string[] = [];
    const r = await resolvePlugins('go:v1.0.0', { cacheDir, goEnv: env('cache-a'), onProgress: (m) => messages.push(m) });
    expect(r).toMatchObject({ version: 'v1.0.0', source: 'go:github.com/containernetworking/plugins@v1.0.0', dir: path.join(cacheDir, 'go-v1.0.0') });
    expect(Object.keys(r.sha256).sort()).toEqual(['bridge', 'host-local']);
    expect(r.build?.steps[0]?.packages).toEqual(['./plugins/main/bridge', './plugins/ipam/host-local']);
    expect((await execa(path.join(r.dir, 'bridge'))).stdout).toBe('bridge v1.0.0');
    expect(messages.some((m) => m.startsWith('go: building CNI plugins v1.0.0'))).toBe(true);
    // Cached: no go command is run (this one does not exist).
    const again = await resolvePlugins('go:v1.0.0', { cacheDir, goEnv: env('cache-a', { FAULTLINE_GO: '/nonexistent/go' }) });
    expect(again).toEqual(r);
    // 1.0.0 without the v means the same tag
    expect((await resolvePlugins('go:1.0.0', { cacheDir, goEnv: env('cache-a', { FAULTLINE_GO: '/nonexistent/go' }) })).dir).toBe(r.dir);
  }, 180_000);

  it('builds a version once when two resolves want it at the same time', async () => {
    const cacheDir = await mkdtemp(path.join(tmp, 'cni-'));
    const builds: string[] = [];
    const opts = { cacheDir, goEnv: env('cache-a'), onProgress: (m: string) => m.startsWith('go: building CNI plugins') && builds.push(m) };
    const [a, b] = await Promise.all([resolvePlugins('go:v1.0.1', opts), resolvePlugins('go:v1.0.1', opts)]);
    expect(a).toEqual(b);
    expect(builds).toHaveLength(1);
  }, 180_000);
});

