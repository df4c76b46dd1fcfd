// The delegation semantics a multi-network stack may run with (cluster.stack.delegation); what each
// means is in multi-network.ts and profiles/kubeovn/*.yaml (FACTS.md section 3).
export const DELEGATIONS = ['definition-at-del', 'cached-delegates'] as const;
export type Delegation = (typeof DELEGATIONS)[number];
