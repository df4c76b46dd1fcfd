// A network named by a step (remove-network, restore-network, churn events): its parameter schema,
// its check against the stack's networks, and the change to the cluster's definitions.
import * as s from '../schema/dsl.ts';
import { FaultlineError } from '../errors.ts';
import type { ClusterNetworks } from './network-store.ts';

export const networkNameParams = s.object({
  name: s.req(s.string({ pattern: /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/, expected: 'a network name the stack profile defines, like external', description: 'The network (its conflist name in the stack profile).' })),
});

export function checkNetwork(name: string, networkNames: readonly string[]): string | undefined {
  if (networkNames.includes(name)) return undefined;
  return `unknown network '${name}'; the stack profile defines ${networkNames.length ? networkNames.join(', ') : 'no network'}`;
}

export type NetworkChange = 'remove-network' | 'restore-network';

/**
 * Deletes or restores a network's definition in the cluster; returns what happened. Only stacks with
 * secondary networks read definitions from the cluster (`profile` names the stack in the error).
 */
export function changeNetwork(networks: ClusterNetworks, change: NetworkChange, name: string, profile: string): string {
  if (!networks.multi) {
    throw new FaultlineError('invalid-input', `${change}: stack profile ${profile} has no secondary network, so its pods do not read definitions from the cluster (use a multi-network profile)`);
  }
  if (change === 'remove-network') {
    return networks.store.remove(name) ? `definition of network ${name} removed` : `definition of network ${name} was already absent`;
  }
  return networks.store.restore(name) ? `definition of network ${name} restored` : `definition of network ${name} was present`;
}
