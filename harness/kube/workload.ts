// The scenario's workload as real pods: `replicasPerNode` bare pods per node, bound to their node by
// nodeName (the placement is the scenario's, not the scheduler's), in faultline's own namespace,
// labelled with the workload, with Multus's networks annotation for secondary networks. The container
// is the pause image the node images carry (no pull on a node that has it).
import type { Workload } from '../model/scenario.ts';

export const WORKLOAD_NAMESPACE = 'faultline';
export const WORKLOAD_LABEL = 'faultline.io/workload';
export const DEFAULT_POD_IMAGE = 'registry.k8s.io/pause:3.10';

export interface KubePodSpec {
  name: string;
  /** faultline's node name (node-1...). */
  node: string;
  kubeNode: string;
  workload: string;
  networks: string[];
}

/** The pods of the workloads, node by node (names like web-n1-0, as on the other backends). */
export function workloadPodSpecs(workloads: readonly Workload[], nodes: readonly { name: string; kubeNode: string }[]): KubePodSpec[] {
  const out: KubePodSpec[] = [];
  for (const w of workloads) {
    nodes.forEach((n, i) => {
      if (w.nodes && !w.nodes.includes(n.name)) return;
      for (let r = 0; r < w.replicasPerNode; r++) out.push({ name: `${w.name}-n${i + 1}-${r}`, node: n.name, kubeNode: n.kubeNode, workload: w.name, networks: w.networks ?? [] });
    });
  }
  return out;
}

export function podManifest(p: KubePodSpec, image = DEFAULT_POD_IMAGE): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      namespace: WORKLOAD_NAMESPACE,
      labels: { [WORKLOAD_LABEL]: p.workload, 'app.kubernetes.io/managed-by': 'faultline' },
      ...(p.networks.length ? { annotations: { 'k8s.v1.cni.cncf.io/networks': p.networks.join(',') } } : {}),
    },
    spec: {
      nodeName: p.kubeNode,
      terminationGracePeriodSeconds: 0,
      tolerations: [{ operator: 'Exists' }],
      containers: [{ name: 'pause', image, imagePullPolicy: 'IfNotPresent' }],
    },
  };
}

export function namespaceManifest(): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: WORKLOAD_NAMESPACE } };
}
