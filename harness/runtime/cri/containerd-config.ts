// containerd's config for a faultline node, per config generation: containerd 1.x reads `version = 2`
// (CRI under plugins."io.containerd.grpc.v1.cri"), 2.x reads `version = 3` (CRI split into
// io.containerd.cri.v1.images and .runtime). Every path is the node's own: state on its tmpfs /run,
// root on its disk, CNI from /opt/cni/bin and /etc/cni/net.d. What this host needs (see
// docs/ARCHITECTURE.md "Real runtimes"): restrict_oom_score_adj (the harness lacks CAP_SYS_RESOURCE in
// its bounding set), cgroupfs instead of systemd, no AppArmor, the CNI bin dir set explicitly (2.x's
// default also reads /usr/lib/cni), and the opt plugin kept under the node's containerd root.
import { stringify } from 'smol-toml';

/** The sandbox (pause) image faultline builds and imports on every node (runtime/cri/pause-image.ts). */
export const PAUSE_IMAGE = 'faultline.local/pause:catatonit';

export const CONTAINERD_ROOT = '/var/lib/containerd';
export const CONTAINERD_STATE = '/run/containerd';
export const CONTAINERD_SOCKET = `${CONTAINERD_STATE}/containerd.sock`;
export const CONTAINERD_CONFIG = '/etc/containerd/config.toml';
export const CONTAINERD_LOG = '/var/log/containerd.log';

/** The config generation a containerd major version reads. */
export function configGeneration(containerdVersion: string): 2 | 3 {
  const major = Number(/^v?(\d+)\./.exec(containerdVersion)?.[1]);
  if (!Number.isInteger(major)) throw new Error(`cannot tell the config generation of containerd ${JSON.stringify(containerdVersion)}`);
  return major >= 2 ? 3 : 2;
}

const COMMON = {
  root: CONTAINERD_ROOT,
  state: CONTAINERD_STATE,
  temp: '/tmp',
  oom_score: 0,
  grpc: { address: CONTAINERD_SOCKET },
  ttrpc: { address: '' },
  debug: { address: '', level: 'info' },
  metrics: { address: '' },
  // containerd and its shims stay in the harness's cgroup; sandboxes get the node's cgroup parent.
  cgroup: { path: '' },
};

const RUNC = { runtime_type: 'io.containerd.runc.v2', options: { SystemdCgroup: false } };
const CNI_BIN = '/opt/cni/bin';
const CNI_CONF = '/etc/cni/net.d';

/** The config file's text for a containerd of this generation. */
export function containerdConfig(generation: 2 | 3): string {
  if (generation === 2) {
    return stringify({
      version: 2,
      ...COMMON,
      disabled_plugins: ['io.containerd.snapshotter.v1.aufs', 'io.containerd.snapshotter.v1.btrfs', 'io.containerd.snapshotter.v1.devmapper', 'io.containerd.snapshotter.v1.zfs', 'io.containerd.tracing.processor.v1.otlp', 'io.containerd.internal.v1.tracing'],
      plugins: {
        'io.containerd.grpc.v1.cri': {
          sandbox_image: PAUSE_IMAGE,
          restrict_oom_score_adj: true,
          disable_apparmor: true,
          enable_selinux: false,
          disable_tcp_service: true,
          stream_server_address: '127.0.0.1',
          stream_server_port: '0',
          systemd_cgroup: false,
          netns_mounts_under_state_dir: false,
          containerd: { snapshotter: 'overlayfs', default_runtime_name: 'runc', runtimes: { runc: RUNC } },
          cni: { bin_dir: CNI_BIN, conf_dir: CNI_CONF, max_conf_num: 1 },
        },
        'io.containerd.internal.v1.opt': { path: `${CONTAINERD_ROOT}/opt` },
      },
    });
  }
  return stringify({
    version: 3,
    ...COMMON,
    disabled_plugins: ['io.containerd.snapshotter.v1.btrfs', 'io.containerd.snapshotter.v1.devmapper', 'io.containerd.snapshotter.v1.blockfile', 'io.containerd.snapshotter.v1.erofs', 'io.containerd.differ.v1.erofs', 'io.containerd.tracing.processor.v1.otlp', 'io.containerd.internal.v1.tracing', 'io.containerd.nri.v1.nri'],
    plugins: {
      'io.containerd.cri.v1.images': { snapshotter: 'overlayfs', pinned_images: { sandbox: PAUSE_IMAGE } },
      'io.containerd.cri.v1.runtime': {
        restrict_oom_score_adj: true,
        disable_apparmor: true,
        enable_selinux: false,
        enable_cdi: false,
        netns_mounts_under_state_dir: false,
        containerd: { default_runtime_name: 'runc', runtimes: { runc: RUNC } },
        cni: { bin_dirs: [CNI_BIN], conf_dir: CNI_CONF, max_conf_num: 1 },
      },
      'io.containerd.grpc.v1.cri': { disable_tcp_service: true, stream_server_address: '127.0.0.1', stream_server_port: '0' },
      'io.containerd.internal.v1.opt': { path: `${CONTAINERD_ROOT}/opt` },
    },
  });
}
