// CNI plugins from the real Go module proxy: the module's identity as go.sum knows it, the libcni the
// plugins were built with, what the built binaries answer; a commit the proxy does not serve gives a
// clear error; the proxy's version list.
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { FaultlineError } from '../errors.ts';
import { resolvePlugins } from './index.ts';
import { PLUGINS_MODULE } from './go.ts';
import { goToolchain, listModuleVersions } from '../components/go-build.ts';
import { goProxySkipReason, titled } from '../../testing/network.ts';

const offline = await goProxySkipReason('go: plugins from the module proxy', { plugins: ['v1.5.1'] });

describe.skipIf(offline)(titled('cni: go:v1.5.1 from the Go module proxy', offline), () => {
  it('records the module version, its go.sum hash, the Go version, libcni, and builds what the release builds', async () => {
    const r = await resolvePlugins('go:v1.5.1');
    expect(r.version).toBe('v1.5.1');
    expect(r.build).toMatchObject({ module: PLUGINS_MODULE, version: 'v1.5.1', sum: 'h1:T5ji+LPYjjgW0QM+KyrigZbLsZ8jaX+E5J/EcKOE4gQ=', goModSum: 'h1:MIQfgMayGuHYs0XdNudf31cLLAC+i242hNm6KuDGqCM=', requires: { 'github.com/containernetworking/cni': 'v1.1.2' } });
    expect(Object.keys(r.sha256)).toEqual(expect.arrayContaining(['bridge', 'host-local', 'portmap', 'loopback', 'dummy', 'tap']));
    expect(Object.keys(r.sha256)).toHaveLength(18);
    const v = await execa(path.join(r.dir, 'bridge'), [], { env: { CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.0.0"}', reject: false });
    expect(JSON.parse(v.stdout)).toEqual({ cniVersion: '1.0.0', supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0'] });
    // the release's BuildVersion, on stderr
    expect((await execa(path.join(r.dir, 'bridge'), ['--version'], { reject: false })).stderr).toContain('CNI bridge plugin v1.5.1');
  }, 600_000);

  it('a commit: a pseudo-version where the proxy resolves it, else an error naming that the proxy did not serve it', async () => {
    const r = await resolvePlugins('go:3d27709faaa4').then(
      (x) => ({ ok: x }),
      (e: unknown) => ({ err: e }),
    );
    if ('ok' in r) expect(r.ok.version).toMatch(/^v\d+\.\d+\.\d+-.*3d27709faaa4$/);
    else {
      expect(r.err).toBeInstanceOf(FaultlineError);
      expect((r.err as FaultlineError).code).toBe('environment');
      expect((r.err as FaultlineError).message).toMatch(/did not serve github\.com\/containernetworking\/plugins@3d27709faaa4/);
    }
  }, 600_000);

  it("lists the proxy's versions of the plugins module", async () => {
    const r = await listModuleVersions(await goToolchain(), PLUGINS_MODULE);
    expect(r.error).toBeUndefined();
    expect(r.versions).toEqual(expect.arrayContaining(['v1.9.1']));
  });
});
