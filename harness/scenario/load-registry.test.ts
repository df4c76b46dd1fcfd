// The loader hands each step's parameters to its registry entry's validate(); this file stands a
// probe fault in for the registry (module mock, local to this file) to see the message located.
import { describe, expect, it, vi } from 'vitest';
import * as s from '../schema/dsl.ts';
import { InvalidInputError } from '../errors.ts';

const seen: unknown[] = [];
vi.mock('../faults/index.ts', () => {
  const probe = {
    name: 'probe',
    description: 'test double',
    params: s.object({ network: s.req(s.string()) }),
    validate(p: { network: string }, sc: { nodeNames: string[]; workloadNames: string[]; networkNames: string[] }) {
      seen.push(sc);
      return sc.networkNames.includes(p.network) ? undefined : `the stack profile defines no network '${p.network}'`;
    },
    run: async () => 'nothing',
  };
  return { faults: [probe], faultSchemas: () => ({ probe: probe.params }), getFault: () => probe };
});

const { parseScenario } = await import('./load.ts');

describe('registry validate()', () => {
  const text = (network: string) =>
    `name: demo\ndescription: d\ncluster:\n  nodes: 2\n  stack: {profile: kubeovn/nat-gw-v1.12}\nworkload:\n  - name: vm\n    networks: [external]\nsteps:\n  - probe: {network: ${network}}\n`;

  it('passes the scenario names and locates the message at the step', () => {
    // Network names are the ones the stack profile defines (default first), not the workloads' own.
    expect(parseScenario(text('external'), 's.yaml').steps).toHaveLength(1);
    expect(parseScenario(text('vpc-subnet'), 's.yaml').steps).toHaveLength(1);
    expect(seen.at(-1)).toEqual({ nodeNames: ['node-1', 'node-2'], workloadNames: ['vm'], networkNames: ['vpc-subnet', 'external'], workloadSizes: { vm: 2 }, workloads: [{ name: 'vm', replicasPerNode: 1, networks: ['external'], role: 'pod' }], hostLocalCapacity: { 'vpc-subnet': 253 }, stack: { profile: 'kubeovn/nat-gw-v1.12' } });
    let err: unknown;
    try {
      parseScenario(text('mgmt'), 's.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).problems.map((p) => `${p.location.line}:${p.location.column} ${p.message}`)).toEqual([
      "10:5 steps.0.probe: the stack profile defines no network 'mgmt'",
    ]);
  });
});
