// What a cell's stack selection means concretely: the stack profile, the runtime profile and the
// plugin binaries (provisioned on demand).
import { isProfileFileRef, loadStackProfile, loadStackProfileFile, withInlineStack } from '../profiles/stack-profile.ts';
import { loadRuntimeProfile } from '../profiles/runtime-profile.ts';
import { resolvePlugins } from '../cni-versions/index.ts';
import type { ResolvedRuntime, ResolvedStack } from '../model/profile.ts';
import { isContainerdRuntime, resolveContainerd } from '../components/containerd.ts';
import type { StackSelection } from '../model/scenario.ts';
import { PROFILES_ROOT } from '../profiles/stack-profile.ts';
import { multusProblem, resolveMultus } from '../components/multus.ts';
import { FaultlineError, type Location } from '../errors.ts';

export type StackField = 'profile' | 'runtime' | 'cni' | 'multus';

export interface ResolveStackOptions {
  signal?: AbortSignal;
  onProgress?: (m: string) => void;
  /** Where the scenario sets a stack field: a failure to resolve it names that place. */
  locate?: (field: StackField) => Location;
  /** The scenario file: a ./ profile is read relative to it, an inline stack is reported as written in it. */
  scenarioFile?: string;
}

export async function resolveStack(sel: StackSelection, opts: ResolveStackOptions = {}): Promise<ResolvedStack> {
  // A failure names the field it came from (unless it already names a place, e.g. a profile file's line).
  const at = async <T>(field: StackField, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (e) {
      if (!opts.locate || !(e instanceof FaultlineError) || e.location || e.code === 'internal' || e.code === 'interrupted') throw e;
      throw new FaultlineError(e.code, `cluster.stack.${field}: ${e.message}`, { cause: e, location: opts.locate(field), ...(e.hint ? { hint: e.hint } : {}) });
    }
  };
  const scenarioFile = opts.scenarioFile ?? 'the scenario';
  const base = await at('profile', async () => {
    if (sel.profile === undefined) return undefined;
    if (isProfileFileRef(sel.profile)) return loadStackProfileFile(sel.profile, scenarioFile);
    return loadStackProfile(sel.profile);
  });
  // The fields the scenario writes inline replace the profile's (or are the whole stack).
  const profile = await at('profile', async () => withInlineStack(base, sel, scenarioFile));
  const runtimeName = sel.runtime ?? profile.runtime;
  const progress = { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) };
  const runtime: ResolvedRuntime = await at('runtime', async () =>
    isContainerdRuntime(runtimeName)
      ? { kind: 'containerd', name: runtimeName, containerd: await resolveContainerd(runtimeName, progress) }
      : { kind: 'model', name: runtimeName, profile: await loadRuntimeProfile(runtimeName, PROFILES_ROOT) },
  );
  const plugins = await at('cni', () => resolvePlugins(sel.cni ?? profile.cni, { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) }));
  const delegation = (sel.delegation ?? 'definition-at-del') as ResolvedStack['delegation'];
  const cleanupConfigOnExit = sel.multusCleanupOnExit === true;
  let multus: ResolvedStack['multus'];
  if (sel.multus) {
    const wanted = sel.multus;
    multus = await at('multus', async () => {
      const component = await resolveMultus(wanted, progress);
      // A dir: build says its version only once resolved.
      const problem = cleanupConfigOnExit && /^v\d/.test(component.version) ? multusProblem(component.version, true) : undefined;
      if (problem) throw new FaultlineError('invalid-input', problem);
      return { component, cleanupConfigOnExit };
    });
  }
  return { profile, runtime, plugins, conflistCniVersion: sel.cniVersion ?? profile.networks[0]!.conflist.cniVersion, delegation, ...(multus ? { multus } : {}) };
}
