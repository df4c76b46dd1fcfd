// What a cell's stack selection means concretely: profile, runtime profile, plugin binaries, and
// the conflists each node's CNI daemon writes.
import { loadStackProfile } from '../profiles/stack-profile.ts';
import { loadRuntimeProfile } from '../profiles/runtime-profile.ts';
import { resolvePlugins } from '../cni-versions/index.ts';
import type { NetworkDef, ResolvedStack } from '../model/profile.ts';
import type { NetworkConfigList } from '../runtime/libcni/types.ts';
import { PROFILES_ROOT } from '../profiles/stack-profile.ts';

export interface StackSelection {
  profile: string;
  cni?: string;
  runtime?: string;
  cniVersion?: string;
  delegation?: string;
}

export async function resolveStack(sel: StackSelection, opts: { signal?: AbortSignal; onProgress?: (m: string) => void } = {}): Promise<ResolvedStack> {
  const profile = await loadStackProfile(sel.profile);
  const runtime = await loadRuntimeProfile(sel.runtime ?? profile.runtime, PROFILES_ROOT);
  const plugins = await resolvePlugins(sel.cni ?? profile.cni, { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  const delegation = (sel.delegation ?? 'definition-at-del') as ResolvedStack['delegation'];
  return { profile, runtime, plugins, conflistCniVersion: sel.cniVersion ?? profile.networks[0]!.conflist.cniVersion, delegation };
}

/** The conflist as a node's CNI daemon writes it: node subnet in place of usePodCidr, the cell's cniVersion. */
export function renderConflist(net: NetworkDef, nodeSubnet: string, cniVersion: string): NetworkConfigList {
  const list = structuredClone(net.conflist);
  list.cniVersion = cniVersion;
  for (const plugin of list.plugins) {
    const ipam = plugin.ipam as Record<string, unknown> | undefined;
    if (ipam && ipam.subnet === 'usePodCidr') ipam.subnet = nodeSubnet;
  }
  return list;
}
