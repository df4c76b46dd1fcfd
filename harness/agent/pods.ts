// Pod names and specs of workloads, as the scheduler would place them (kubelet's desired pods).
import type { Workload } from '../model/scenario.ts';
import type { PodSpec } from './types.ts';

/** The `i`-th pod of a workload on a node: `<wl>-n<node number>-<i>`, with the workload's capabilities. */
export function workloadPod(wl: Workload, node: string, nodeNumber: number, i: number): PodSpec {
  return {
    name: `${wl.name}-n${nodeNumber}-${i}`,
    node,
    workload: wl.name,
    networks: wl.networks ?? [],
    role: wl.role ?? 'pod',
    ...(wl.capabilities ? { capabilities: wl.capabilities } : {}),
    ...(wl.args ? { args: wl.args } : {}),
  };
}

/** The number in a workload pod's name (`web-n1-7` on node 1 is 7), or undefined. */
export function podIndex(pod: string, workload: string, nodeNumber: number): number | undefined {
  const prefix = `${workload}-n${nodeNumber}-`;
  if (!pod.startsWith(prefix)) return undefined;
  const rest = pod.slice(prefix.length);
  return /^\d+$/.test(rest) ? Number(rest) : undefined;
}
