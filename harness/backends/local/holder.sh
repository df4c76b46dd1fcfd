#!/bin/sh
# faultline local backend: the namespace holder of one node.
#
# Run as: setpriv --pdeathsig KILL -- unshare --pid --fork --kill-child --mount-proc --mount --net \
#           --uts --propagation private -- catatonit -- sh holder.sh <node-dir> <plugin-dir> <hostname> \
#           <tag> <runtime-dir or -> <multus-dir or ->
# Every input is a positional argument or FAULTLINE_CGROUPS in the environment; nothing here is built
# from scenario data. catatonit is PID 1 of the node's own pid namespace: it reaps what daemonizes
# inside (a real runtime's shims), and when it dies the kernel kills everything in the node.
# <node-dir> holds disk/{etc/cni,var/lib/cni,var/log} (the node's persistent state) and .ovl/ (overlay
# upper and work dirs for /etc and /var/lib, so mount points never touch the host's own dirs).
# <tag> (faultline.<run-id>.<cell>.<node>) names the node's mounts, so every process that sees the
# node's mounts can be found from /proc/<pid>/mountinfo.
# <runtime-dir> holds a real container runtime's binaries, shown read-only at /opt/faultline/runtime;
# with FAULTLINE_CGROUPS=1 the host's cgroup tree stays writable at /sys/fs/cgroup (runc puts the
# sandboxes' cgroups under the node's cgroup parent there).
# <multus-dir> holds Multus's thin plugin binaries, shown read-only at /opt/faultline/multus.
# Ends by creating /run/.faultline-ready in the node's tmpfs /run and sleeping forever: the holder's
# death (SIGKILL, or its parent dying) is the node's power cut.
set -eu

W=$1
PLUGINS=$2
NODE=$3
TAG=$4
RUNTIME=${5:--}
MULTUS=${6:--}

for d in disk/etc/cni disk/etc/containerd disk/var/lib/cni disk/var/lib/containerd disk/var/log \
  .ovl/etc-up .ovl/etc-wk .ovl/varlib-up .ovl/varlib-wk; do
  if [ ! -d "$W/$d" ]; then
    echo "faultline holder: missing directory $W/$d" >&2
    exit 1
  fi
done

# The host's mount points, read before the node's own mounts shadow some of them.
# (mountinfo field 5; spaces in paths are escaped as \040, so word splitting is safe.)
host_mounts=$(cut -d ' ' -f 5 /proc/self/mountinfo)

# Stage the node dir and the plugin dir first: the mounts below may shadow where they live
# (a state dir under /tmp or /var/lib, plugins in the host's /opt/cni/bin).
STAGE=
for c in /mnt /media /srv /home; do
  case $W/ in "$c"/*) continue ;; esac
  case $PLUGINS/ in "$c"/*) continue ;; esac
  case $RUNTIME/ in "$c"/*) continue ;; esac
  case $MULTUS/ in "$c"/*) continue ;; esac
  if [ -d "$c" ] && [ ! -L "$c" ]; then
    STAGE=$c
    break
  fi
done
if [ -z "$STAGE" ]; then
  echo "faultline holder: no staging directory (tried /mnt /media /srv /home)" >&2
  exit 1
fi
mount -t tmpfs -o mode=0700 "$TAG" "$STAGE"
mkdir "$STAGE/w" "$STAGE/p" "$STAGE/r" "$STAGE/m" "$STAGE/cg"
mount --bind "$W" "$STAGE/w"
mount --bind -o ro "$PLUGINS" "$STAGE/p"
if [ "$RUNTIME" != - ]; then
  mount --bind -o ro "$RUNTIME" "$STAGE/r"
fi
if [ "$MULTUS" != - ]; then
  mount --bind -o ro "$MULTUS" "$STAGE/m"
fi
if [ "${FAULTLINE_CGROUPS:-0}" = 1 ]; then
  mount --rbind /sys/fs/cgroup "$STAGE/cg"
fi
S=$STAGE/w

# Volatile state: gone with the holder.
mount -t tmpfs -o mode=0755,nosuid,nodev "$TAG" /run
mount -t tmpfs -o mode=1777,nosuid,nodev "$TAG" /tmp

# /etc and /var/lib as private overlays, so mount points can be created without touching the host.
mount -t overlay "$TAG" -o "lowerdir=/etc,upperdir=$S/.ovl/etc-up,workdir=$S/.ovl/etc-wk" /etc
mount -t overlay "$TAG" -o "lowerdir=/var/lib,upperdir=$S/.ovl/varlib-up,workdir=$S/.ovl/varlib-wk" /var/lib
mount -t tmpfs -o mode=0755 "$TAG" /opt
mkdir -p /etc/cni /etc/containerd /var/lib/cni /var/lib/containerd /var/log /opt/cni/bin /opt/faultline/runtime /opt/faultline/multus

# Persistent state: the node's disk.
mount --bind "$S/disk/etc/cni" /etc/cni
mount --bind "$S/disk/etc/containerd" /etc/containerd
mount --bind "$S/disk/var/lib/cni" /var/lib/cni
mount --bind "$S/disk/var/lib/containerd" /var/lib/containerd
mount --bind "$S/disk/var/log" /var/log
mount --bind -o ro "$STAGE/p" /opt/cni/bin
if [ "$RUNTIME" != - ]; then
  mount --bind -o ro "$STAGE/r" /opt/faultline/runtime
fi
if [ "$MULTUS" != - ]; then
  mount --bind -o ro "$STAGE/m" /opt/faultline/multus
fi

# Safety belt: the host's system stays read-only from inside the node.
# A sysfs of the node's own network namespace, read-only; the host's cgroup tree on top of it only
# for a real runtime.
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /sys
if [ "${FAULTLINE_CGROUPS:-0}" = 1 ]; then
  mount --move "$STAGE/cg" /sys/fs/cgroup
fi
umount "$STAGE/w" "$STAGE/p"
if [ "$RUNTIME" != - ]; then umount "$STAGE/r"; fi
if [ "$MULTUS" != - ]; then umount "$STAGE/m"; fi
umount "$STAGE"

hostname "$NODE"
ip link set lo up

# /proc/sys read-only except the per-namespace /proc/sys/net; no sysrq.
mount --bind /proc/sys /proc/sys
mount -o remount,bind,ro /proc/sys
mount --bind /proc/sys/net /proc/sys/net
mount -o remount,bind,rw /proc/sys/net
if [ -e /proc/sysrq-trigger ]; then
  mount --bind /proc/sysrq-trigger /proc/sysrq-trigger
  mount -o remount,bind,ro /proc/sysrq-trigger
fi
# The root and every other host mount that is still visible.
mount -o remount,bind,ro /
for mp in $host_mounts; do
  case $mp in
    / | /proc | /proc/* | /sys | /sys/* | /run | /run/* | /tmp | /tmp/* | /etc | /etc/* | \
      /var/lib | /var/lib/* | /var/log | /var/log/* | /opt | /opt/* | /dev/pts | /dev/pts/*) continue ;;
  esac
  case $mp in
    *\\*)
      echo "faultline holder: warning: left $mp writable (escaped path)" >&2
      continue
      ;;
  esac
  if ! mount -o remount,bind,ro "$mp"; then
    echo "faultline holder: warning: could not make $mp read-only" >&2
  fi
done

: > /run/.faultline-ready
exec sleep infinity
