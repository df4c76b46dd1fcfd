#!/bin/sh
# faultline local backend: the namespace holder of one node.
#
# Run as: setpriv --pdeathsig KILL -- unshare --mount --net --uts --propagation private -- \
#           sh holder.sh <node-dir> <plugin-dir> <hostname> <tag>
# Every input is a positional argument; nothing here is built from scenario data.
# <node-dir> holds disk/{etc/cni,var/lib/cni,var/log} (the node's persistent state) and .ovl/ (overlay
# upper and work dirs for /etc and /var/lib, so mount points never touch the host's own dirs).
# <tag> (faultline.<run-id>.<cell>.<node>) names the node's mounts, so every process that sees the
# node's mounts can be found from /proc/<pid>/mountinfo.
# Ends by creating /run/.faultline-ready in the node's tmpfs /run and sleeping forever: the holder's
# death (SIGKILL, or its parent dying) is the node's power cut.
set -eu

W=$1
PLUGINS=$2
NODE=$3
TAG=$4

for d in disk/etc/cni disk/var/lib/cni disk/var/log .ovl/etc-up .ovl/etc-wk .ovl/varlib-up .ovl/varlib-wk; do
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
mkdir "$STAGE/w" "$STAGE/p"
mount --bind "$W" "$STAGE/w"
mount --bind -o ro "$PLUGINS" "$STAGE/p"
S=$STAGE/w

# Volatile state: gone with the holder.
mount -t tmpfs -o mode=0755,nosuid,nodev "$TAG" /run
mount -t tmpfs -o mode=1777,nosuid,nodev "$TAG" /tmp

# /etc and /var/lib as private overlays, so mount points can be created without touching the host.
mount -t overlay "$TAG" -o "lowerdir=/etc,upperdir=$S/.ovl/etc-up,workdir=$S/.ovl/etc-wk" /etc
mount -t overlay "$TAG" -o "lowerdir=/var/lib,upperdir=$S/.ovl/varlib-up,workdir=$S/.ovl/varlib-wk" /var/lib
mount -t tmpfs -o mode=0755 "$TAG" /opt
mkdir -p /etc/cni /var/lib/cni /var/log /opt/cni/bin

# Persistent state: the node's disk.
mount --bind "$S/disk/etc/cni" /etc/cni
mount --bind "$S/disk/var/lib/cni" /var/lib/cni
mount --bind "$S/disk/var/log" /var/log
mount --bind -o ro "$STAGE/p" /opt/cni/bin
umount "$STAGE/w" "$STAGE/p" "$STAGE"

hostname "$NODE"
ip link set lo up

# Safety belt: the host's system stays read-only from inside the node.
# A sysfs of the node's own network namespace, read-only.
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /sys
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
