// What a cell's stack selection means concretely: the stack profile, the runtime profile and the
// plugin binaries (provisioned on demand).
import { loadStackProfile } from '../profiles/stack-profile.ts';
import { loadRuntimeProfile } from '../profiles/runtime-profile.ts';
import { resolvePlugins } from '../cni-versions/index.ts';
import type { ResolvedRuntime, ResolvedStack } from '../model/profile.ts';
import { isContainerdRuntime, resolveContainerd } from '../components/containerd.ts';
import type { StackSelection } from '../model/scenario.ts';
import { PROFILES_ROOT } from '../profiles/stack-profile.ts';
import { multusProblem, resolveMultus } from '../components/multus.ts';
import { FaultlineError } from '../errors.ts';

export async function resolveStack(sel: StackSelection, opts: { signal?: AbortSignal; onProgress?: (m: string) => void } = {}): Promise<ResolvedStack> {
  const profile = await loadStackProfile(sel.profile);
  const runtimeName = sel.runtime ?? profile.runtime;
  const progress = { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) };
  const runtime: ResolvedRuntime = isContainerdRuntime(runtimeName)
    ? { kind: 'containerd', name: runtimeName, containerd: await resolveContainerd(runtimeName, progress) }
    : { kind: 'model', name: runtimeName, profile: await loadRuntimeProfile(runtimeName, PROFILES_ROOT) };
  const plugins = await resolvePlugins(sel.cni ?? profile.cni, { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  const delegation = (sel.delegation ?? 'definition-at-del') as ResolvedStack['delegation'];
  const cleanupConfigOnExit = sel.multusCleanupOnExit === true;
  let multus: ResolvedStack['multus'];
  if (sel.multus) {
    const component = await resolveMultus(sel.multus, progress);
    // A dir: build says its version only once resolved.
    const problem = cleanupConfigOnExit && /^v\d/.test(component.version) ? multusProblem(component.version, true) : undefined;
    if (problem) throw new FaultlineError('invalid-input', problem);
    multus = { component, cleanupConfigOnExit };
  }
  return { profile, runtime, plugins, conflistCniVersion: sel.cniVersion ?? profile.networks[0]!.conflist.cniVersion, delegation, ...(multus ? { multus } : {}) };
}
