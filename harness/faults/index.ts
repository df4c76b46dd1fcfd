// Every step kind a scenario may use. Add a fault: write its file, list it here.
import type { Schema } from '../schema/dsl.ts';
import type { FaultDef } from './registry.ts';
import { hardReboot } from './hard-reboot.ts';
import { wait } from './wait.ts';
import { removeNetwork, restoreNetwork } from './remove-network.ts';
import { churn } from './churn.ts';
import { truncateFile } from './truncate-file.ts';
import { corruptFile } from './corrupt-file.ts';
import { crashDuringAdd } from './crash-during-add.ts';
import { gc } from './gc.ts';
import { deletePods } from './delete-pods.ts';
import { killRuntime, restartRuntime } from './runtime-process.ts';
import { createPods } from './create-pods.ts';
import { deleteNetns } from './delete-netns.ts';
import { restartDaemon } from './restart-daemon.ts';
import { churnNatGateways, restartDaemonsetPod } from './kube-steps.ts';

export const faults: FaultDef<any>[] = [hardReboot, wait, truncateFile, corruptFile, crashDuringAdd, gc, createPods, deletePods, deleteNetns, churn, removeNetwork, restoreNetwork, killRuntime, restartRuntime, restartDaemon, restartDaemonsetPod, churnNatGateways];

export function faultSchemas(): Record<string, Schema<any>> {
  return Object.fromEntries(faults.map((f) => [f.name, f.params]));
}

export function getFault(name: string): FaultDef<any> {
  const f = faults.find((x) => x.name === name);
  if (!f) throw new Error(`no fault named ${name}`);
  return f;
}
