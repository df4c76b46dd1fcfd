// Third step of setup (after npm packages and Debian packages): the versioned components the default
// suite and the tests run, provisioned into the per-user cache once (real CNI plugin versions from
// Debian, the real containerd versions and CRI's api.proto), so no test depends on the network at test
// time. Quiet when everything is cached; prints what it installs.
import { resolvePlugins } from '../harness/cni-versions/index.ts';
import { resolveContainerd, resolveCriProto } from '../harness/components/containerd.ts';
import { errorMessage } from '../harness/errors.ts';
import { resolveKubeTool } from '../harness/components/kube-tools.ts';

const CNI_VERSIONS = ['1.1.1', '0.9.0', 'sid'];
const RUNTIMES = ['containerd-1.6', 'containerd-2.1'];

const say = (line: string) => process.stderr.write(`setup: ${line}\n`);
const progress = { onProgress: (m: string) => say(`  ${m}`) };

try {
  for (const v of CNI_VERSIONS) await resolvePlugins(v, progress);
  await resolveCriProto(progress);
  for (const r of RUNTIMES) await resolveContainerd(r, progress);
  // The kind backend's tools (Debian sid's kind and kubectl, unless FAULTLINE_KIND / FAULTLINE_KUBECTL say otherwise).
  for (const t of ['kind', 'kubectl'] as const) await resolveKubeTool(t, progress);
} catch (e) {
  say(`error: provisioning the components failed: ${errorMessage(e)}`);
  say("retry when the Debian mirror answers ('faultline doctor' shows what is missing), or set FAULTLINE_SKIP_COMPONENTS=1 to provision on demand");
  process.exit(3);
}
