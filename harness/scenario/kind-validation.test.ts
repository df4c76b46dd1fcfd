// Scenarios for the kind backend: the seed scenarios and every kind stack load; kind-only keys, steps
// and checks are refused on other backends, and node-agent ones on kind, each with the reason.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../version.ts';
import { loadScenarios, parseScenario } from './load.ts';
import { loadAllKindStacks } from '../kube/stack.ts';

const file = path.join(REPO_ROOT, 'scenarios', 'kind', 'multus-self-nesting-kind.yaml');
const text = readFileSync(file, 'utf8');
const problems = (t: string, o = {}) => {
  try {
    parseScenario(t, file, o);
    return [];
  } catch (e) {
    return (e as Error).message.split('\n');
  }
};

describe('kind scenarios', () => {
  it('the seed scenarios on kind load, in suite kind only, and every kind stack is valid', async () => {
    const all = await loadScenarios([path.join(REPO_ROOT, 'scenarios', 'kind')]);
    expect(all.map((s) => [s.name, s.suites])).toEqual([
      ['harvester-hard-reboot-ip-leak-kind', ['kind']],
      ['kube-ovn-nat-gateway-churn-kind', ['kind']],
      ['multus-self-nesting-kind', ['kind']],
    ]);
    const stacks = await loadAllKindStacks();
    expect(stacks.map((s) => s.name)).toEqual(['kind/canal-harvester-v1.4.1', 'kind/canal-harvester-v1.4.2', 'kind/canal-harvester-v1.4.3', 'kind/kubeovn-v1.12.22', 'kind/kubeovn-v1.14.0', 'kind/multus-v4.0.2', 'kind/multus-v4.1.0']);
    for (const s of stacks) for (const i of s.install) expect(i.url).toMatch(/^https:\/\/raw\.githubusercontent\.com\/[^/]+\/[^/]+\/v\d/);
  });

  it('on another backend, kind stacks, cluster.kind and the API steps and checks are refused with the reason', () => {
    const local = text.replace('backend: kind', 'backend: local').replace('  stack:\n', '  kind:\n    nodeImage: kindest/node:v1.30.4\n  stack:\n');
    const p = problems(local);
    expect(p.some((l) => /cluster\.kind: applies to backend kind only; cells on backend local have no kind cluster/.test(l))).toBe(true);
    expect(p.some((l) => /cluster\.stack\.profile: 'kind\/multus-\$\{multus\}' is a kind stack, for backend kind only/.test(l))).toBe(true);
    expect(p.some((l) => /steps\.0\.restart-daemonset-pod: restart-daemonset-pod runs on backend kind only/.test(l))).toBe(true);
    expect(p.some((l) => /assertions\.1\.pods-ready-within: pods-ready-within judges through the Kubernetes API: backend kind only/.test(l))).toBe(true);
    // --backend local says the same.
    expect(problems(text, { backend: 'local' }).some((l) => /restart-daemonset-pod runs on backend kind only/.test(l))).toBe(true);
  });

  it("on kind, node-agent steps and checks, node-level stack fields and a reboot of a tmpfs-etcd control plane are refused", () => {
    const bad = text
      .replace('  stack:\n    profile: kind/multus-${multus}\n', '  stack:\n    profile: kind/multus-${multus}\n    runtime: containerd-1.6\n')
      .replace('steps:\n', 'steps:\n  - gc: {}\n')
      .replace('assertions:\n', 'assertions:\n  - pods-running: {}\n');
    const p = problems(bad);
    expect(p.some((l) => /cluster\.stack\.runtime: does not apply to cells on backend kind: the stack's pinned manifests bring the CNI and the node image brings the runtime/.test(l))).toBe(true);
    expect(p.some((l) => /steps\.0\.gc: gc does not run on cells on backend kind: it acts through faultline's node agent/.test(l))).toBe(true);
    expect(p.some((l) => /assertions\.0\.pods-running: pods-running cannot judge cells on backend kind/.test(l))).toBe(true);
    const ovn = readFileSync(path.join(REPO_ROOT, 'scenarios', 'kind', 'kube-ovn-nat-gateway-churn-kind.yaml'), 'utf8').replace('steps:\n', 'steps:\n  - hard-reboot: { node: node-1 }\n');
    expect(problems(ovn).some((l) => /steps\.0\.hard-reboot\.node: node-1 is the control plane, which kind stack kind\/kubeovn-v1\.12\.22 cannot survive a power cut of: Kube-OVN's kind config keeps etcd's data under \/tmp/.test(l))).toBe(true);
    expect(problems(text.replace('podCIDR: 10.244.0.0/16', 'podCIDR: 10.52.0.0/16'))).toEqual([]);
    const canal = readFileSync(path.join(REPO_ROOT, 'scenarios', 'kind', 'harvester-hard-reboot-ip-leak-kind.yaml'), 'utf8').replace('podCIDR: 10.244.0.0/16', 'podCIDR: 10.52.0.0/16');
    expect(problems(canal).some((l) => /cluster\.podCIDR: kind stack kind\/canal-harvester-v1\.4\.1 assumes the pod CIDR 10\.244\.0\.0\/16/.test(l))).toBe(true);
  });
});
