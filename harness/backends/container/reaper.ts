// What a dead container run leaves: containers, volumes and networks labelled with its id (the engine
// outlives faultline: conmon is the containers' parent), and the cgroups below the run's cgroup root
// (podman never removes the parents it creates). The engine to ask is in the run's ledger: the
// private podman is started for the purpose when no process of ours runs it.
import type { LedgerEntry, LedgerFile } from '../../ledger/ledger.ts';
import { removeCgroupTree, removeIfEmpty } from '../../util/cgroups.ts';
import { FaultlineError, errorMessage } from '../../errors.ts';
import type { ContainerEngine } from './engine.ts';
import { LABEL_RUN } from './labels.ts';

/** Every cgroup of a run's containers is below this (in every hierarchy). */
export const CONTAINER_CGROUP_ROOT = '/faultline-container';

export function runContainerCgroupRoot(runId: string): string {
  return `${CONTAINER_CGROUP_ROOT}/${runId}`;
}

/** The engine a run used, listed before its first container. */
export interface EngineResource {
  kind: 'container-engine';
  /** True for the podman service faultline starts (on the storage in `dir`). */
  private: boolean;
  socketPath: string;
  dir?: string;
}

export function isEngineEntry(r: LedgerEntry): r is LedgerEntry & EngineResource {
  return r.kind === 'container-engine';
}

export interface ReapCount {
  containers: number;
  volumes: number;
  networks: number;
}

/** Removes everything the engine has with the run's label: containers (with their volumes), volumes, networks. */
export async function removeLabelled(engine: ContainerEngine, runId: string): Promise<ReapCount> {
  const docker = engine.docker;
  const label = [`${LABEL_RUN}=${runId}`];
  const problems: string[] = [];
  const count: ReapCount = { containers: 0, volumes: 0, networks: 0 };
  const gone = (e: unknown) => (e as { statusCode?: number }).statusCode === 404;
  for (const c of await docker.listContainers({ all: true, filters: { label } })) {
    try {
      await docker.getContainer(c.Id).remove({ force: true, v: true });
      count.containers++;
    } catch (e) {
      if (!gone(e)) problems.push(`container ${c.Names?.[0] ?? c.Id}: ${errorMessage(e)}`);
    }
  }
  for (const v of (await docker.listVolumes({ filters: { label } })).Volumes ?? []) {
    try {
      await docker.getVolume(v.Name).remove({ force: true });
      count.volumes++;
    } catch (e) {
      if (!gone(e)) problems.push(`volume ${v.Name}: ${errorMessage(e)}`);
    }
  }
  for (const n of await docker.listNetworks({ filters: { label } })) {
    try {
      await docker.getNetwork(n.Id).remove();
      count.networks++;
    } catch (e) {
      if (!gone(e)) problems.push(`network ${n.Name}: ${errorMessage(e)}`);
    }
  }
  if (problems.length) throw new FaultlineError('environment', `what run ${runId} left in the engine could not all be removed:\n${problems.join('\n')}`);
  return count;
}

/** The run's cgroup subtree, from every hierarchy; the shared root too once empty. */
export async function removeRunCgroups(ledger: Pick<LedgerFile, 'runId'>): Promise<void> {
  const left = await removeCgroupTree(runContainerCgroupRoot(ledger.runId));
  if (left.length) throw new FaultlineError('environment', `cgroups of ${ledger.runId} could not be removed: ${left.join(', ')}`);
  removeIfEmpty(CONTAINER_CGROUP_ROOT);
}
