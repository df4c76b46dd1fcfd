// A network's definition disappears from the cluster (a NetworkAttachmentDefinition or a Kube-OVN
// Subnet deleted while pods still use it). Pods already attached keep their interfaces; what happens
// at their deletion depends on the delegation semantics (see pods/multi-network.ts). Usable as a
// step, or mid-churn through the churn step's `events`.
import * as s from '../schema/dsl.ts';
import { defineFault } from './registry.ts';
import { FaultlineError } from '../errors.ts';
import type { CellContext } from '../context/cell-context.ts';

export const networkNameParams = s.object({
  name: s.req(s.string({ pattern: /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/, expected: 'a network name the stack profile defines, like external', description: 'The network (its conflist name in the stack profile).' })),
});

export function checkNetwork(name: string, networkNames: readonly string[]): string | undefined {
  if (networkNames.includes(name)) return undefined;
  return `unknown network '${name}'; the stack profile defines ${networkNames.length ? networkNames.join(', ') : 'no network'}`;
}

function requireMulti(ctx: CellContext, what: string): void {
  if (!ctx.pods.multi) {
    throw new FaultlineError('invalid-input', `${what}: stack profile ${ctx.stack.profile.name} has no secondary network, so its pods do not read definitions from the cluster (use a multi-network profile)`);
  }
}

export const removeNetwork = defineFault({
  name: 'remove-network',
  description: "Delete a network's definition from the cluster store (pods attached to it keep their interfaces).",
  params: networkNameParams,
  validate: (p, sc) => {
    const message = checkNetwork(p.name, sc.networkNames);
    return message ? { path: ['name'], message } : undefined;
  },
  async run(ctx, p) {
    requireMulti(ctx, 'remove-network');
    return ctx.pods.networks.remove(p.name) ? `definition of network ${p.name} removed` : `definition of network ${p.name} was already absent`;
  },
});

export const restoreNetwork = defineFault({
  name: 'restore-network',
  description: "Put a removed network's definition back (as the stack profile defines it).",
  params: networkNameParams,
  validate: (p, sc) => {
    const message = checkNetwork(p.name, sc.networkNames);
    return message ? { path: ['name'], message } : undefined;
  },
  async run(ctx, p) {
    requireMulti(ctx, 'restore-network');
    return ctx.pods.networks.restore(p.name) ? `definition of network ${p.name} restored` : `definition of network ${p.name} was present`;
  },
});
