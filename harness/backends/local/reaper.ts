// What a dead local run leaves: node holders (recorded in the ledger with pid and start time) and
// anything still inside a node (plugins, exec agents, `ip netns exec` children), found by the node's
// mount tag in its mountinfo. Holders die first, verified by pid and start time, never by pid alone.
import type { LedgerEntry, LedgerFile, RunReaper } from '../../ledger/ledger.ts';
import { type ProcessIdentity, killMatching, killVerified, mountinfoHasSource, waitGone } from '../../util/procfs.ts';
import { removeCgroupTree, removeIfEmpty } from '../../util/cgroups.ts';

/** The ledger entry of a node's namespace holder (and of a segment's). */
export interface HolderResource {
  kind: 'holder';
  cellId: string;
  node: string;
  /** The node's dir on the host. */
  nodeDir: string;
  /** Source name of the node's mounts (faultline.<run-id>.<cell>.<node>). */
  tag: string;
  state: 'starting' | 'running' | 'stopped';
  pid?: number;
  startTime?: number;
}

/** Every cgroup a run's sandboxes get is below this (in every hierarchy): /faultline/<run-id>. */
export function runCgroupRoot(runId: string): string {
  return `/faultline/${runId}`;
}

/** Source-name prefix of every mount a run's nodes make; see holder.sh. */
export function runMountTagPrefix(runId: string): string {
  return `faultline.${runId}.`;
}

function isHolder(r: LedgerEntry): r is LedgerEntry & HolderResource {
  return r.kind === 'holder';
}

export const localReaper: RunReaper = {
  name: 'local',
  async reap(ledger: LedgerFile, { sameBoot }) {
    if (!sameBoot) return; // every process and cgroup of that boot is gone
    const holders: ProcessIdentity[] = ledger.resources.filter(isHolder).flatMap((r) =>
      r.pid !== undefined && r.startTime !== undefined ? [{ pid: r.pid, startTime: r.startTime }] : [],
    );
    killVerified(holders);
    if (!(await waitGone(holders))) throw new Error(`holders of ${ledger.runId} did not die`);
    const prefix = runMountTagPrefix(ledger.runId);
    await killMatching((p) => mountinfoHasSource(p.foreignMountinfo(), { prefix }));
    if (ledger.resources.some((r) => r.kind === 'cgroup')) {
      const left = await removeCgroupTree(runCgroupRoot(ledger.runId));
      if (left.length) throw new Error(`cgroups of ${ledger.runId} could not be removed: ${left.join(', ')}`);
      removeIfEmpty('/faultline');
    }
  },
};
