// Kube-OVN's Subnet counters against the truth (kubeovn/kube-ovn#4747): `v4usingIPs` can never exceed
// what the CIDR holds (its size minus network and broadcast and the excluded addresses);
// `v4usingIPs + v4availableIPs` is that capacity (available is floored at 0); and every IP CR counted
// for the subnet belongs to a pod that still exists (a VPC NAT gateway's IP CRs stayed when its
// subnet was already gone: fixed by PR #5364 in v1.14.0 / v1.13.15). On the kind backend only.
import * as s from '../schema/dsl.ts';
import { defineAssertion, fail, pass, unknown, type Judgement } from './registry.ts';
import type { Evidence } from '../model/verdict.ts';
import type { KubeObservation, KubeOvnSubnet } from '../model/kube.ts';
import { parseCidr, parseIPv4 } from '../util/net.ts';

/** Addresses of excludeIps entries ("a", "a..b"), IPv4 only. */
export function excludedCount(excludeIps: readonly string[], cidr: string): number {
  const c = parseCidr(cidr);
  if (!c) return 0;
  const first = c.base;
  const last = c.base + 2 ** (32 - c.prefix) - 1;
  const seen = new Set<number>();
  for (const e of excludeIps) {
    const [a, b] = e.split('..');
    const lo = parseIPv4(a ?? '');
    const hi = b === undefined ? lo : parseIPv4(b);
    if (lo === undefined || hi === undefined) continue;
    for (let ip = Math.max(lo, first); ip <= Math.min(hi, last) && seen.size < 1 << 20; ip++) seen.add(ip);
  }
  return seen.size;
}

/** What Kube-OVN counts as the subnet's size: the CIDR minus network, broadcast and excluded addresses. */
export function subnetCapacity(sub: Pick<KubeOvnSubnet, 'cidrBlock' | 'excludeIps'>): number | undefined {
  const v4 = sub.cidrBlock.split(',').find((c) => parseCidr(c.trim()));
  const c = v4 ? parseCidr(v4.trim()) : undefined;
  if (!c) return undefined;
  return Math.max(0, 2 ** (32 - c.prefix) - 2 - excludedCount(sub.excludeIps, v4!.trim()));
}

/** The judgement on one observation (pure: tests feed it API objects). */
export function judgeSubnets(obs: KubeObservation, only?: string): Judgement {
  if (!obs.subnets) return unknown('the cluster has no subnets.kubeovn.io (is Kube-OVN installed?)');
  const subnets = obs.subnets.filter((x) => !only || x.name === only);
  if (!subnets.length) return unknown(`no Kube-OVN subnet${only ? ` named ${only}` : ''} (subnets: ${obs.subnets.map((x) => x.name).join(', ') || 'none'})`);
  const pods = new Set(obs.pods.map((p) => `${p.namespace}/${p.name}`));
  const bad: Evidence[] = [];
  const good: Evidence[] = [];
  for (const sub of subnets) {
    const capacity = subnetCapacity(sub);
    if (capacity === undefined || sub.v4usingIPs === undefined) continue;
    const using = sub.v4usingIPs;
    const available = sub.v4availableIPs ?? 0;
    const base = { subnet: sub.name, cidr: sub.cidrBlock, v4usingIPs: using, v4availableIPs: available, capacity };
    const ips = (obs.ips ?? []).filter((ip) => ip.subnet === sub.name || ip.attachSubnets.includes(sub.name));
    const stale = ips.filter((ip) => ip.podName && !pods.has(`${ip.namespace}/${ip.podName}`));
    let ok = true;
    if (using > capacity) {
      bad.push({ summary: `subnet ${sub.name} (${sub.cidrBlock}) reports v4usingIPs ${using}, more than the ${capacity} addresses it holds`, ...base });
      ok = false;
    }
    if (using + available !== capacity && !(using > capacity && available === 0)) {
      bad.push({ summary: `subnet ${sub.name}: v4usingIPs ${using} + v4availableIPs ${available} = ${using + available}, not its capacity ${capacity}`, ...base });
      ok = false;
    }
    if (stale.length) {
      bad.push({
        summary: `subnet ${sub.name}: ${stale.length} IP CR(s) of pods that no longer exist (${stale.slice(0, 5).map((ip) => `${ip.name} ${ip.ipAddress} for ${ip.namespace}/${ip.podName}`).join(', ')}${stale.length > 5 ? ', ...' : ''})`,
        ...base,
        staleIps: stale.map((ip) => ip.name),
      });
      ok = false;
    }
    if (obs.ips && using !== ips.length - stale.length && ok) {
      bad.push({ summary: `subnet ${sub.name}: v4usingIPs ${using}, but ${ips.length - stale.length} live IP CR(s) belong to it`, ...base, liveIps: ips.length - stale.length });
      ok = false;
    }
    if (ok) good.push({ summary: `subnet ${sub.name}: ${using} used + ${available} available = ${capacity}, ${ips.length} IP CR(s), all of live pods`, ...base });
  }
  if (!bad.length && !good.length) return unknown('no subnet reports v4usingIPs yet');
  return bad.length ? fail(bad) : pass(good);
}

export const subnetAccounting = defineAssertion({
  name: 'subnet-accounting',
  description: "Kube-OVN Subnet counters (v4usingIPs, v4availableIPs) agree with the CIDR's size and the live IP CRs (kind backend).",
  runsOn: 'kube',
  params: s.object({ subnet: s.opt(s.string({ minLength: 1, description: 'Only this subnet (default: every subnet).' })) }),
  evaluate(ctx, _snapshot, p) {
    const obs = ctx.kube?.latest();
    if (!obs) return unknown('no observation of the API yet');
    return judgeSubnets(obs, p.subnet);
  },
});
