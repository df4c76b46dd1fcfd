// The generated containerd configs parse as TOML and carry what this host needs (see the file's header).
import { describe, expect, it } from 'vitest';
import { parse } from 'smol-toml';
import { CONTAINERD_SOCKET, PAUSE_IMAGE, configGeneration, containerdConfig } from './containerd-config.ts';

describe('containerd configs', () => {
  it('picks the config generation from the version', () => {
    expect(configGeneration('1.6.20~ds1')).toBe(2);
    expect(configGeneration('v1.7.22')).toBe(2);
    expect(configGeneration('2.1.9+unknown')).toBe(3);
    expect(() => configGeneration('dev')).toThrow(/config generation/);
  });

  it('1.x (version 2): node-local state, cgroupfs, restricted oom adj, no AppArmor, explicit CNI dirs, the pause image', () => {
    const c = parse(containerdConfig(2)) as any;
    expect(c).toMatchObject({ version: 2, root: '/var/lib/containerd', state: '/run/containerd', grpc: { address: CONTAINERD_SOCKET }, cgroup: { path: '' } });
    const cri = c.plugins['io.containerd.grpc.v1.cri'];
    expect(cri).toMatchObject({ sandbox_image: PAUSE_IMAGE, restrict_oom_score_adj: true, disable_apparmor: true, systemd_cgroup: false });
    expect(cri.containerd.runtimes.runc).toEqual({ runtime_type: 'io.containerd.runc.v2', options: { SystemdCgroup: false } });
    expect(cri.cni).toEqual({ bin_dir: '/opt/cni/bin', conf_dir: '/etc/cni/net.d', max_conf_num: 1 });
    // The opt plugin stays on the node's disk instead of the host's /opt/containerd.
    expect(c.plugins['io.containerd.internal.v1.opt']).toEqual({ path: '/var/lib/containerd/opt' });
  });

  it('2.x (version 3): the same under the split CRI plugins, bin_dirs only /opt/cni/bin, NRI off', () => {
    const c = parse(containerdConfig(3)) as any;
    expect(c.version).toBe(3);
    expect(c.plugins['io.containerd.cri.v1.images'].pinned_images).toEqual({ sandbox: PAUSE_IMAGE });
    const rt = c.plugins['io.containerd.cri.v1.runtime'];
    expect(rt).toMatchObject({ restrict_oom_score_adj: true, disable_apparmor: true, enable_cdi: false });
    expect(rt.cni.bin_dirs).toEqual(['/opt/cni/bin']);
    expect(c.disabled_plugins).toContain('io.containerd.nri.v1.nri');
    expect(c.plugins['io.containerd.internal.v1.opt']).toEqual({ path: '/var/lib/containerd/opt' });
  });

  it('writes no path outside the node (state on its tmpfs, root on its disk)', () => {
    for (const gen of [2, 3] as const) {
      const text = containerdConfig(gen);
      const paths = [...text.matchAll(/['"](\/[^'"]+)['"]/g)].map((m) => m[1]!);
      for (const p of paths) expect(p, p).toMatch(/^\/(run\/containerd|var\/lib\/containerd|tmp|opt\/cni\/bin|etc\/cni\/net\.d)(\/|$)/);
    }
  });
});
