// What a step or a check gets on a cell of real Kubernetes (the kind backend), besides the CellContext:
// the cluster's API (kubectl on the run's kubeconfig), the kind stack, the cell's pods, the latest
// observation of the API objects, and the boot checks of a node.
import type { Node } from '../backends/types.ts';
import type { KubeCluster } from '../backends/kube-types.ts';
import type { KubeObservation } from '../model/kube.ts';
import type { Kubectl } from '../kube/kubectl.ts';
import type { KindStack } from '../kube/stack.ts';
import type { BootTimes } from '../kube/boot-checks.ts';
import type { KubePodSpec } from '../kube/workload.ts';

export interface PodsReady {
  ready: number;
  total: number;
  durationMs: number;
  /** Pods not Ready when the wait ended, with why (a waiting reason, a warning event). */
  notReady: string[];
}

export interface KubeCellState {
  readonly cluster: KubeCluster;
  readonly kubectl: Kubectl;
  readonly stack: KindStack;
  /** The pods this cell runs (workload and pods created by steps). */
  pods(): readonly KubePodSpec[];
  /** The latest observation of the API objects (after boot and after every step). */
  latest(): KubeObservation | undefined;
  /** A node's boot judged through the API (each part timed, recorded on the timeline). */
  waitBooted(node: Node, since: number): Promise<BootTimes>;
  /** Creates pods through the API and waits up to `timeoutMs` for them to be Ready (a `pods-ready` entry). */
  createPods(specs: readonly KubePodSpec[], timeoutMs: number): Promise<PodsReady>;
  /** Deletes pods through the API (graceful unless told). */
  deletePods(names: readonly string[], o?: { gracePeriodS?: number }): Promise<{ deleted: number; failed: string[] }>;
  /** Waits up to `timeoutMs` for the cell's pods to be Ready again (a `pods-ready` entry). */
  waitPodsReady(after: string, timeoutMs: number): Promise<PodsReady>;
}
