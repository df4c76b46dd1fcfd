// A real bisect through the CLI: which plugins release first runs a CNI 1.1.0 config
// (scenarios/cni-spec-1.1.0.yaml), over Debian's 1.1.1 and two upstream tags built from source. The
// answer is v1.9.1 (1.1.1 and v1.5.1 list CNI versions up to 1.0.0 only), with the evidence of both
// neighbours; run again, every probe comes from the probe cache.
import { describe, expect, it } from 'vitest';
import { faultline, tempDir } from '../../testing/cli.ts';
import { goProxySkipReason, networkSkipReason, titled } from '../../testing/network.ts';

const offline = (await networkSkipReason('bisect', ['1.1.1'])) ?? (await goProxySkipReason('bisect', { plugins: ['v1.5.1', 'v1.9.1'] }));

describe.skipIf(offline)(titled('faultline bisect over upstream plugin tags', offline), () => {
  it('names the first tag whose outcome differs, with both neighbours, then answers from its cache', async () => {
    const work = await tempDir('fl-bisect-');
    try {
      const env = { FAULTLINE_STATE_DIR: `${work.dir}/state`, FAULTLINE_BISECT_CACHE_DIR: `${work.dir}/probes` };
      const args = ['bisect', 'scenarios/cni-spec-1.1.0.yaml', '--dim', 'cni', '--values', '1.1.1,go:v1.5.1,go:v1.9.1', '--out', `${work.dir}/out`];
      const r = await faultline(args, env);
      const text = r.all ?? '';
      expect(r.exitCode, text).toBe(0);
      expect(text).toContain('assumption: the outcome changes once along this order (monotone)');
      const probes = text.split('\n').filter((l) => / -> /.test(l) && l.startsWith('probe '));
      expect(probes.map((l) => l.replace(/ \(.*\)$/, ''))).toEqual(['probe 1: cni=1.1.1 -> error', 'probe 2: cni=go:v1.5.1 -> error', 'probe 3: cni=go:v1.9.1 -> pass']);
      expect(text).toContain("first value whose outcome differs from 1.1.1's: cni=go:v1.9.1 (3 probes)");
      const answer = text.slice(text.indexOf('first value whose outcome differs'));
      expect(answer).toMatch(/before: cni=go:v1\.5\.1: error\n +plugins v1\.5\.1 \(go:github\.com\/containernetworking\/plugins@v1\.5\.1, h1:T5ji\+LPYjjgW0QM\+KyrigZbLsZ8jaX\+E5J\/EcKOE4gQ=, go[0-9.]+\)\n +- node-1: pod web-n1-0: plugin bridge ADD failed \(code 1\): incompatible CNI versions; config is "1\.1\.0"/);
      expect(answer).toMatch(/from: +cni=go:v1\.9\.1: pass\n +plugins v1\.9\.1 \(go:github\.com\/containernetworking\/plugins@v1\.9\.1, h1:8oU6WsIsU3bpnNZuvHp74a6cE1MJwbj2P7s4\/yTUNlA=, go[0-9.]+\)\n +- all 5 check\(s\) held/);

      const again = await faultline(args, env);
      expect(again.exitCode, again.all).toBe(0);
      expect((again.all ?? '').split('\n').filter((l) => l.includes('(cached result of '))).toHaveLength(3);
      expect(again.all).toContain("first value whose outcome differs from 1.1.1's: cni=go:v1.9.1 (3 probes)");
    } finally {
      await work.cleanup();
    }
  }, 900_000);
});
