// What a cell's stack selection means concretely: the stack profile, the runtime profile and the
// plugin binaries (provisioned on demand).
import { loadStackProfile } from '../profiles/stack-profile.ts';
import { loadRuntimeProfile } from '../profiles/runtime-profile.ts';
import { resolvePlugins } from '../cni-versions/index.ts';
import type { ResolvedStack } from '../model/profile.ts';
import type { StackSelection } from '../model/scenario.ts';
import { PROFILES_ROOT } from '../profiles/stack-profile.ts';

export async function resolveStack(sel: StackSelection, opts: { signal?: AbortSignal; onProgress?: (m: string) => void } = {}): Promise<ResolvedStack> {
  const profile = await loadStackProfile(sel.profile);
  const runtime = await loadRuntimeProfile(sel.runtime ?? profile.runtime, PROFILES_ROOT);
  const plugins = await resolvePlugins(sel.cni ?? profile.cni, { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  const delegation = (sel.delegation ?? 'definition-at-del') as ResolvedStack['delegation'];
  return { profile, runtime, plugins, conflistCniVersion: sel.cniVersion ?? profile.networks[0]!.conflist.cniVersion, delegation };
}
