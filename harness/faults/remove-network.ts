// A network's definition disappears from the cluster (a NetworkAttachmentDefinition or a Kube-OVN
// Subnet deleted while pods still use them). Pods already attached keep their interfaces; what happens
// at their deletion depends on the delegation semantics (see runtime/model/multi-network.ts). Usable
// as a step, or mid-churn through the churn step's `events`.
import { defineFault } from './registry.ts';
import { changeNetwork, checkNetwork, networkNameParams } from '../cluster/network-ref.ts';

export const removeNetwork = defineFault({
  name: 'remove-network',
  description: "Delete a network's definition from the cluster store (pods attached to it keep their interfaces).",
  params: networkNameParams,
  validate: (p, sc) => {
    const message = checkNetwork(p.name, sc.networkNames);
    return message ? { path: ['name'], message } : undefined;
  },
  run: async (ctx, p) => changeNetwork(ctx.networks, 'remove-network', p.name, ctx.stack.profile.name),
});

export const restoreNetwork = defineFault({
  name: 'restore-network',
  description: "Put a removed network's definition back (as the stack profile defines it).",
  params: networkNameParams,
  validate: (p, sc) => {
    const message = checkNetwork(p.name, sc.networkNames);
    return message ? { path: ['name'], message } : undefined;
  },
  run: async (ctx, p) => changeNetwork(ctx.networks, 'restore-network', p.name, ctx.stack.profile.name),
});
