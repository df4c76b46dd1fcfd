// The loader hands each step's parameters to its registry entry's validate(); this file stands a
// probe fault in for the registry (module mock, local to this file) to see the message located.
import { describe, expect, it, vi } from 'vitest';
import * as s from './schema-dsl.ts';
import { InvalidInputError } from '../errors.ts';

const seen: unknown[] = [];
vi.mock('../faults/index.ts', () => {
  const probe = {
    name: 'probe',
    description: 'test double',
    params: s.object({ network: s.req(s.string()) }),
    validate(p: { network: string }, sc: { nodeNames: string[]; workloadNames: string[]; networkNames: string[] }) {
      seen.push(sc);
      return sc.networkNames.includes(p.network) ? undefined : `no workload attaches network '${p.network}'`;
    },
    run: async () => 'nothing',
  };
  return { faults: [probe], faultSchemas: () => ({ probe: probe.params }), getFault: () => probe };
});

const { parseScenario } = await import('./load.ts');

describe('registry validate()', () => {
  const text = (network: string) =>
    `name: demo\ndescription: d\ncluster:\n  nodes: 2\n  stack: {profile: harvester/v1.4.3}\nworkload:\n  - name: vm\n    networks: [storage]\nsteps:\n  - probe: {network: ${network}}\n`;

  it('passes the scenario names and locates the message at the step', () => {
    expect(parseScenario(text('storage'), 's.yaml').steps).toHaveLength(1);
    expect(seen.at(-1)).toEqual({ nodeNames: ['node-1', 'node-2'], workloadNames: ['vm'], networkNames: ['storage'] });
    let err: unknown;
    try {
      parseScenario(text('mgmt'), 's.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).problems.map((p) => `${p.location.line}:${p.location.column} ${p.message}`)).toEqual([
      "10:5 steps.0.probe: no workload attaches network 'mgmt'",
    ]);
  });
});
