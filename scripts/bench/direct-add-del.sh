#!/bin/sh
# Baseline for the harness-overhead benchmark: the same plugin, the same config, called directly
# inside the node by a shell loop (netns add, ADD, DEL, netns del per pod). Inputs are arguments.
#   direct-add-del.sh <pods> <config file> <plugin>
set -eu
N=$1
CONF=$2
PLUGIN=$3
i=1
while [ "$i" -le "$N" ]; do
  id=$(printf 'direct%058d' "$i")
  ip netns add "d$i"
  CNI_COMMAND=ADD CNI_CONTAINERID=$id CNI_NETNS=/run/netns/d$i CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin \
    "/opt/cni/bin/$PLUGIN" < "$CONF" > /dev/null
  CNI_COMMAND=DEL CNI_CONTAINERID=$id CNI_NETNS=/run/netns/d$i CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin \
    "/opt/cni/bin/$PLUGIN" < "$CONF" > /dev/null
  ip netns del "d$i"
  i=$((i + 1))
done
