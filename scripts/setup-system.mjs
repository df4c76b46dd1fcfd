#!/usr/bin/env node
// Debian packages the harness needs on the host, installed when missing. Idempotent and silent when
// everything is there; prints what it installs. Changes nothing else on the host (no sysctls, no
// kernel modules, no services). Exit 3 when something is missing and we are not root.
import { $ } from 'zx';

$.verbose = false;
$.quiet = true;

/** Package -> why faultline needs it. */
const PACKAGES = {
  iproute2: 'ip: veth pairs, bridges and routes inside node and pod namespaces',
  iptables: 'iptables: the chains that portmap, bridge ipMasq and firewall plugins write',
  'util-linux': 'unshare, nsenter, setpriv: nodes as processes holding their own namespaces',
  'containernetworking-plugins': 'the system CNI plugins at /usr/lib/cni',
  'debian-archive-keyring': 'verifies the Debian suites that other CNI plugin and runtime versions come from',
  catatonit: "each node's init (PID 1 of its pid namespace), and the pause image of real runtimes",
  runc: 'the OCI runtime real containerd versions start sandboxes with',
  podman: "the container backend's engine when no Docker engine runs (faultline starts it privately)",
  debootstrap: "builds the container backend's node image (once per machine)",
};

/**
 * dpkg leaves these paths alone: podman's package ships a conflist in /etc/cni/net.d, and the host's
 * CNI config is not ours to change.
 */
const PATH_EXCLUDES = ['/etc/cni', '/etc/cni/*'].flatMap((p) => ['-o', `Dpkg::Options::=--path-exclude=${p}`]);

function say(line) {
  process.stderr.write(`setup: ${line}\n`);
}

async function missingPackages(names) {
  const res = await $`dpkg-query -W -f=${'${binary:Package}\t${db:Status-Abbrev}\n'} ${names}`.nothrow();
  const installed = new Set(
    res.stdout
      .split('\n')
      .map((l) => l.split('\t'))
      .filter(([, status]) => status?.startsWith('ii'))
      .map(([name]) => name.replace(/:.*$/, '')),
  );
  return names.filter((n) => !installed.has(n));
}

if (!(await $`command -v dpkg-query`.nothrow()).ok) {
  say('not a Debian-based system: install iproute2, iptables, util-linux and the CNI plugins yourself;');
  say("'faultline doctor' lists what is missing");
  process.exit(0);
}

const names = Object.keys(PACKAGES);
const missing = await missingPackages(names);
if (missing.length === 0) process.exit(0);

const listing = missing.map((n) => `  ${n}: ${PACKAGES[n]}`).join('\n');
if (process.getuid?.() !== 0) {
  say(`missing Debian packages:\n${listing}`);
  say(`run as root: apt-get update && apt-get install -y --no-install-recommends ${PATH_EXCLUDES.join(' ')} ${missing.join(' ')}`);
  say('(or set FAULTLINE_SKIP_SYSTEM_SETUP=1 to skip this check)');
  process.exit(3);
}

say(`installing Debian packages:\n${listing}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const update = await $({ env })`apt-get -q update`.nothrow();
if (!update.ok) {
  process.stderr.write(update.stderr);
  say('apt-get update failed');
  process.exit(3);
}
const install = await $({ env })`apt-get install -y -q --no-install-recommends ${PATH_EXCLUDES} ${missing}`.nothrow();
if (!install.ok) {
  process.stderr.write(install.stdout + install.stderr);
  say(`apt-get install ${missing.join(' ')} failed`);
  process.exit(3);
}
const still = await missingPackages(names);
if (still.length) {
  say(`still missing after install: ${still.join(' ')}`);
  process.exit(3);
}
say(`installed: ${missing.join(' ')}`);
