// Steps that act through the Kubernetes API (kind backend only): a restart of one node's daemonset pod (Multus's thin plugin rewrites its config at start), and
// churn of Kube-OVN VPC NAT gateways with their elastic addresses (kubeovn/kube-ovn#4747).
import * as s from '../schema/dsl.ts';
import { defineFault, kubeOnlyRun, type KubeStepContext } from './registry.ts';
import { FaultlineError } from '../errors.ts';
import { until } from '../kube/boot-checks.ts';

const DNS = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const restartDaemonsetPod = defineFault({
  name: 'restart-daemonset-pod',
  description: "Restart a daemonset's pod on one node: delete it through the API (SIGTERM, its own cleanup) or kill its container in the node (crictl stop --timeout 0: SIGKILL, no cleanup); wait for it to be Ready again (kind backend).",
  kubeOnly: true,
  params: s.object({
    daemonset: s.req(s.string({ pattern: DNS, expected: 'a daemonset name like kube-multus-ds' })),
    namespace: s.opt(s.string({ pattern: DNS }), 'kube-system'),
    node: s.req(s.nodeRef()),
    how: s.opt(s.literal(['delete', 'kill'] as const, 'delete: through the API (graceful); kill: SIGKILL of its containers inside the node, no cleanup.'), 'delete'),
    readyTimeoutMs: s.opt(s.integer({ min: 1000, max: 3_600_000 }), 300_000),
  }),
  run: kubeOnlyRun('restart-daemonset-pod'),
  async kube(ctx, p) {
    const kubeNode = ctx.kube.cluster.kubeNodeName(p.node);
    const find = async () => {
      const pods = (await ctx.kube.kubectl.list('pods', { namespace: p.namespace! })) ?? [];
      return pods.find((x) => x.spec?.nodeName === kubeNode && !x.metadata?.deletionTimestamp && (x.metadata?.ownerReferences ?? []).some((o: { kind?: string; name?: string }) => o.kind === 'DaemonSet' && o.name === p.daemonset));
    };
    const before = await find();
    if (!before) throw new FaultlineError('invalid-input', `restart-daemonset-pod: daemonset ${p.namespace}/${p.daemonset} has no pod on ${p.node} (${kubeNode})`);
    const t0 = Date.now();
    const restarts = (pod: Record<string, any>) => ((pod.status?.containerStatuses ?? []) as { restartCount?: number }[]).reduce((n, c) => n + (c.restartCount ?? 0), 0);
    if (p.how === 'kill') {
      const node = ctx.cluster.node(p.node);
      const ids = ((before.status?.containerStatuses ?? []) as { containerID?: string }[]).map((c) => (c.containerID ?? '').replace(/^[a-z]+:\/\//, '')).filter(Boolean);
      for (const id of ids) {
        const r = await node.exec(['crictl', 'stop', '--timeout', '0', id]);
        if (r.exitCode !== 0) throw new FaultlineError('environment', `crictl stop ${id} on ${p.node}: ${r.stderr.trim()}`);
      }
    } else {
      const r = await ctx.kube.kubectl.delete('pod', String(before.metadata.name), p.namespace!, { wait: true });
      if (r.exitCode !== 0) throw new FaultlineError('environment', `deleting ${p.namespace}/${before.metadata.name}: ${r.stderr}`);
    }
    const deadline = Date.now() + p.readyTimeoutMs!;
    let last = '';
    const after = await until(`${p.daemonset}'s pod on ${p.node} Ready again`, deadline, async () => {
      const now = await find();
      const ready = ((now?.status?.conditions ?? []) as { type?: string; status?: string }[]).some((c) => c.type === 'Ready' && c.status === 'True');
      const fresh = now && (now.metadata.uid !== before.metadata.uid || restarts(now) > restarts(before));
      last = now ? `${now.metadata.name} ${now.status?.phase}${ready ? ' Ready' : ''}` : 'no pod yet';
      return fresh && ready ? now : undefined;
    }, () => last, ctx.signal);
    const ms = Date.now() - t0;
    ctx.timeline.add({ kind: 'op', op: 'pods-ready', node: p.node, result: 'ok', durationMs: ms, detail: { after: `restart-daemonset-pod ${p.daemonset}`, ready: 1, total: 1, notReady: [] } });
    // The cell's own pods (new sandboxes go through the restarted plugin): measured too.
    if (ctx.kube.pods().length) await ctx.kube.waitPodsReady(`restart-daemonset-pod ${p.daemonset}`, p.readyTimeoutMs!);
    return `${p.how === 'kill' ? 'killed' : 'deleted'} ${before.metadata.name}; ${after.metadata.name} Ready after ${ms} ms`;
  },
});

/** The objects of one NAT gateway cycle (Kube-OVN's VPC NAT gateway, as its docs and e2e make them). */
export function natGatewayObjects(o: { name: string; vpc: string; subnet: string; lanIp: string; externalSubnet: string; eips: number }): Record<string, unknown>[] {
  const gw = { apiVersion: 'kubeovn.io/v1', kind: 'VpcNatGateway', metadata: { name: o.name }, spec: { vpc: o.vpc, subnet: o.subnet, lanIp: o.lanIp, selector: ['kubernetes.io/os: linux'], externalSubnets: [o.externalSubnet] } };
  const eips = Array.from({ length: o.eips }, (_, i) => ({ apiVersion: 'kubeovn.io/v1', kind: 'IptablesEIP', metadata: { name: `${o.name}-eip-${i}` }, spec: { natGwDp: o.name, externalSubnet: o.externalSubnet } }));
  return [gw, ...eips];
}

/** The VPC, its subnet and the external network (NAD + Subnet) the gateways use (Kube-OVN's docs). */
export function natGatewaySetup(o: { vpc: string; subnet: string; subnetCidr: string; externalSubnet: string; externalCidr: string; createSubnet: boolean }): Record<string, unknown>[] {
  const provider = `${o.externalSubnet}.kube-system`;
  const nadConfig = { cniVersion: '0.3.0', type: 'macvlan', master: 'eth0', mode: 'bridge', ipam: { type: 'kube-ovn', server_socket: '/run/openvswitch/kube-ovn-daemon.sock', provider } };
  const gw = o.externalCidr.replace(/\.\d+\/\d+$/, '.1');
  return [
    { apiVersion: 'kubeovn.io/v1', kind: 'Vpc', metadata: { name: o.vpc }, spec: {} },
    ...(o.createSubnet ? [{ apiVersion: 'kubeovn.io/v1', kind: 'Subnet', metadata: { name: o.subnet }, spec: { vpc: o.vpc, cidrBlock: o.subnetCidr, protocol: 'IPv4', namespaces: [] } }] : []),
    { apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: o.externalSubnet, namespace: 'kube-system' }, spec: { config: JSON.stringify(nadConfig) } },
    { apiVersion: 'kubeovn.io/v1', kind: 'Subnet', metadata: { name: o.externalSubnet }, spec: { protocol: 'IPv4', provider, cidrBlock: o.externalCidr, gateway: gw, excludeIps: [gw] } },
  ];
}

export const churnNatGateways = defineFault({
  name: 'churn-nat-gateways',
  description: 'Create and delete Kube-OVN VpcNatGateways with IptablesEIPs, `cycles` times; optionally delete the gateway\'s VPC subnet first, the path of kubeovn/kube-ovn#4747 (kind backend).',
  kubeOnly: true,
  params: s.object({
    cycles: s.req(s.integer({ min: 1, max: 200 })),
    vpc: s.req(s.string({ pattern: DNS, expected: 'the Vpc the gateways serve' })),
    subnet: s.req(s.string({ pattern: DNS, expected: 'the VPC subnet the gateways sit on (created per cycle when deleteSubnetFirst)' })),
    subnetCidr: s.opt(s.string({ minLength: 9, description: 'CIDR of the VPC subnet when it is created per cycle.' }), '10.0.1.0/24'),
    lanIp: s.req(s.string({ minLength: 7, description: "The gateway's address on the VPC subnet." })),
    externalSubnet: s.req(s.string({ pattern: DNS, expected: 'the external (macvlan) subnet, e.g. ovn-vpc-external-network' })),
    eips: s.opt(s.integer({ min: 0, max: 20, description: 'IptablesEIPs per gateway.' }), 1),
    deleteSubnetFirst: s.opt(s.boolean('Delete the VPC subnet before the gateway (its pod is deleted when its default subnet is already gone).'), false),
    externalCidr: s.opt(s.string({ minLength: 9, description: 'CIDR of the external subnet made at the start (a macvlan on the nodes\' eth0, IPAM by Kube-OVN), as Kube-OVN\'s docs make it.' }), '172.31.250.0/24'),
    readyTimeoutMs: s.opt(s.integer({ min: 1000, max: 3_600_000 }), 300_000),
  }),
  run: kubeOnlyRun('churn-nat-gateways'),
  async kube(ctx, p) {
    const k = ctx.kube.kubectl;
    const t0 = Date.now();
    await k.apply(natGatewaySetup({ vpc: p.vpc, subnet: p.subnet, subnetCidr: p.subnetCidr!, externalSubnet: p.externalSubnet, externalCidr: p.externalCidr!, createSubnet: !p.deleteSubnetFirst }).map((o) => JSON.stringify(o)).join('\n'), 'the VPC and the external network');
    for (let i = 0; i < p.cycles; i++) {
      ctx.signal.throwIfAborted();
      const name = `fl-gw-${i}`;
      if (p.deleteSubnetFirst) await k.apply(JSON.stringify({ apiVersion: 'kubeovn.io/v1', kind: 'Subnet', metadata: { name: p.subnet }, spec: { vpc: p.vpc, cidrBlock: p.subnetCidr, protocol: 'IPv4', namespaces: [] } }), `subnet ${p.subnet}`);
      const objs = natGatewayObjects({ name, vpc: p.vpc, subnet: p.subnet, lanIp: p.lanIp, externalSubnet: p.externalSubnet, eips: p.eips! });
      await k.apply(objs.map((o) => JSON.stringify(o)).join('\n'), `NAT gateway ${name}`);
      await waitGatewayReady(ctx, name, p.readyTimeoutMs!);
      if (p.deleteSubnetFirst) await mustDelete(ctx, 'subnet', p.subnet);
      for (let e = p.eips! - 1; e >= 0; e--) await mustDelete(ctx, 'iptables-eip', `${name}-eip-${e}`);
      await mustDelete(ctx, 'vpc-nat-gateway', name);
      ctx.timeline.add({ kind: 'op', op: 'nat-gateway-cycle', node: 'cluster', result: 'ok', durationMs: Date.now() - t0, detail: { gateway: name, cycle: i + 1 } });
      ctx.progress(`churn-nat-gateways: ${i + 1}/${p.cycles}`);
    }
    return `${p.cycles} NAT gateway cycle(s) (${p.eips} EIP(s) each${p.deleteSubnetFirst ? `, subnet ${p.subnet} deleted first` : ''}) in ${Date.now() - t0} ms`;
  },
});

async function mustDelete(ctx: KubeStepContext, resource: string, name: string): Promise<void> {
  const r = await ctx.kube.kubectl.delete(resource, name, undefined, { wait: true });
  if (r.exitCode !== 0) throw new FaultlineError('environment', `deleting ${resource} ${name}: ${r.stderr}`);
}

/** The gateway's pod (a statefulset vpc-nat-gw-<name>-0 in kube-system) Running and Ready. */
async function waitGatewayReady(ctx: KubeStepContext, name: string, timeoutMs: number): Promise<void> {
  let last = '';
  await until(`NAT gateway ${name}'s pod Ready`, Date.now() + timeoutMs, async () => {
    const pod = await ctx.kube.kubectl.getOne('pod', `vpc-nat-gw-${name}-0`, 'kube-system');
    const ready = ((pod?.status?.conditions ?? []) as { type?: string; status?: string }[]).some((c) => c.type === 'Ready' && c.status === 'True');
    last = pod ? `${pod.status?.phase}` : 'no pod yet';
    return ready ? true : undefined;
  }, () => last, ctx.signal);
}

