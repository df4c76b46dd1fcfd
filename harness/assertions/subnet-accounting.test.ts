// subnet-accounting on API objects as Kube-OVN writes them (kube-ovn#4747's symptom and its cause).
import { describe, expect, it } from 'vitest';
import type { KubeObservation } from '../model/kube.ts';
import { excludedCount, judgeSubnets, subnetCapacity } from './subnet-accounting.ts';
import { parseIps, parseSubnets } from '../kube/observe.ts';

const subnet = (status: Record<string, unknown>) =>
  parseSubnets([{ metadata: { name: 'ovn-vpc-external-network' }, spec: { cidrBlock: '172.31.250.0/28', excludeIps: ['172.31.250.1'], provider: 'ovn-vpc-external-network.kube-system' }, status }]);
const ip = (name: string, pod: string) => ({ metadata: { name, labels: { 'ovn.kubernetes.io/subnet': 'ovn-vpc-external-network' } }, spec: { subnet: 'ovn-vpc-external-network', podName: pod, namespace: 'kube-system', v4IpAddress: '172.31.250.5', attachSubnets: [] } });
const obs = (subnets: ReturnType<typeof subnet>, ips: ReturnType<typeof parseIps>, pods: string[]): KubeObservation => ({ after: 'x', atMs: 0, events: [], subnets, ips, pods: pods.map((name) => ({ namespace: 'kube-system', name, phase: 'Running', ready: true, restarts: 0 })) });

describe('subnet-accounting', () => {
  it('capacity is the CIDR minus network, broadcast and the excluded addresses', () => {
    expect(excludedCount(['172.31.250.1', '172.31.250.10..172.31.250.12', '10.0.0.1'], '172.31.250.0/28')).toBe(4);
    expect(subnetCapacity({ cidrBlock: '172.31.250.0/28', excludeIps: ['172.31.250.1'] })).toBe(13);
  });

  it('passes when the counters add up and every IP CR has its pod', () => {
    const j = judgeSubnets(obs(subnet({ v4usingIPs: 1, v4availableIPs: 12 }), parseIps([ip('vpc-nat-gw-gw0-0.kube-system', 'vpc-nat-gw-gw0-0')]), ['vpc-nat-gw-gw0-0']));
    expect(j.status).toBe('pass');
  });

  it('fails on IP CRs of pods that are gone and on usingIPs above the capacity, naming them', () => {
    const stale = parseIps(Array.from({ length: 15 }, (_, i) => ip(`vpc-nat-gw-gw${i}-0.kube-system`, `vpc-nat-gw-gw${i}-0`)));
    const j = judgeSubnets(obs(subnet({ v4usingIPs: 15, v4availableIPs: 0 }), stale, []), 'ovn-vpc-external-network');
    expect(j.status).toBe('fail');
    expect(j.evidence.map((e) => e.summary)).toEqual([
      'subnet ovn-vpc-external-network (172.31.250.0/28) reports v4usingIPs 15, more than the 13 addresses it holds',
      expect.stringMatching(/^subnet ovn-vpc-external-network: 15 IP CR\(s\) of pods that no longer exist \(vpc-nat-gw-gw0-0\.kube-system 172\.31\.250\.5 for kube-system\/vpc-nat-gw-gw0-0, /),
    ]);
  });

  it('fails when used + available is not the capacity, and is unknown without Kube-OVN', () => {
    expect(judgeSubnets(obs(subnet({ v4usingIPs: 2, v4availableIPs: 12 }), [], []))).toMatchObject({ status: 'fail' });
    expect(judgeSubnets({ after: 'x', atMs: 0, events: [], pods: [] })).toMatchObject({ status: 'unknown' });
  });
});
