import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { thinEntrypointArgs } from './multus-daemon.ts';
import { daemonsetThinArgs } from '../components/multus.ts';

// The flags of v4.0.2's and v4.1.0's thin_entrypoint -help (v4.1.0 added multus-cni-conf-dir).
const V402 = ['additional-bin-dir', 'cleanup-config-on-exit', 'cni-bin-dir', 'cni-conf-dir', 'cni-version', 'multus-autoconfig-dir', 'multus-bin-file', 'multus-conf-file', 'multus-kubeconfig-file-host', 'skip-multus-binary-copy'];
const V410 = [...V402, 'multus-cni-conf-dir'];
const DS = ['--multus-conf-file=auto', '--multus-autoconfig-dir=/host/etc/cni/net.d', '--cni-conf-dir=/host/etc/cni/net.d'];

describe('the thin entrypoint on a node', () => {
  it("runs the DaemonSet's args on the node's paths, never a /host default", () => {
    const a = thinEntrypointArgs({ daemonsetArgs: DS, thinFlags: V402 }, false);
    expect(a).toEqual(['--multus-conf-file=auto', '--multus-autoconfig-dir=/etc/cni/net.d', '--cni-conf-dir=/etc/cni/net.d', '--cni-bin-dir=/opt/cni/bin', '--multus-bin-file=/opt/faultline/multus/multus', '--skip-multus-binary-copy']);
    expect(a.join(' ')).not.toContain('/host');
  });

  it('points v4.1.0s --multus-cni-conf-dir (which it mkdirs) at the node, and adds cleanup only when asked', () => {
    const a = thinEntrypointArgs({ daemonsetArgs: DS, thinFlags: V410 }, true);
    expect(a).toContain('--multus-cni-conf-dir=/etc/cni/multus/net.d');
    expect(a).toContain('--cleanup-config-on-exit');
    expect(thinEntrypointArgs({ daemonsetArgs: DS, thinFlags: V410 }, false)).not.toContain('--cleanup-config-on-exit');
  });

  it('refuses an argument left on a host path', () => {
    expect(() => thinEntrypointArgs({ daemonsetArgs: [...DS, '--multus-log-file=/host/var/log/multus.log', '--readiness-indicator-file=/host'], thinFlags: V410 }, false)).toThrow(/refusing a \/host path/);
  });
});

describe("a release's DaemonSet manifest", () => {
  it('gives the args of the container whose command is /thin_entrypoint', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fl-ds-'));
    try {
      const file = path.join(dir, 'multus-daemonset.yml');
      await writeFile(file, [
        'kind: ConfigMap\napiVersion: v1\nmetadata: {name: multus-cni-config}\n---',
        'kind: DaemonSet\napiVersion: apps/v1\nspec:\n  template:\n    spec:\n      initContainers:\n        - name: install\n          command: ["/install_multus"]\n          args: ["--type", "thin"]\n      containers:\n        - name: kube-multus\n          command: ["/thin_entrypoint"]\n          args:\n            - "--multus-conf-file=auto"\n            - "--cni-conf-dir=/host/etc/cni/net.d"\n',
      ].join('\n'));
      expect(await daemonsetThinArgs(file)).toEqual(['--multus-conf-file=auto', '--cni-conf-dir=/host/etc/cni/net.d']);
      expect(await daemonsetThinArgs(path.join(dir, 'missing.yml'))).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
