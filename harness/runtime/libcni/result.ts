// Result conversion between the CNI spec versions this harness meets. 0.3.x, 0.4.0, 1.0.0 and 1.1.0
// share one shape (interfaces, ips, routes, dns); 0.3.x/0.4.0 ips carry "version" ("4"/"6"), 1.x do
// not. 0.1.0/0.2.0 results (ip4/ip6 objects) are converted upwards only, as libcni does.
import { compareCniVersions, parseCniVersion } from './cni-version.ts';
import type { CniResult } from '../../model/cni.ts';

type Ip = NonNullable<CniResult['ips']>[number];

const isLegacy = (v: string) => compareCniVersions(v, '0.3.0') < 0;
const hasIpVersionField = (v: string) => compareCniVersions(v, '1.0.0') < 0;

function ipFamily(address: string): '4' | '6' {
  return address.includes(':') ? '6' : '4';
}

/** Converts a result to `toVersion`; throws with libcni's wording when that is impossible. */
export function convertResult(result: CniResult, toVersion: string): CniResult {
  const from = result.cniVersion || '0.1.0';
  if (!parseCniVersion(from)) throw new Error(`unsupported CNI result version ${JSON.stringify(from)}`);
  if (!parseCniVersion(toVersion)) throw new Error(`unsupported CNI result version ${JSON.stringify(toVersion)}`);
  if (isLegacy(toVersion)) {
    if (isLegacy(from)) return { ...structuredClone(result), cniVersion: toVersion };
    throw new Error(`cannot convert version ${JSON.stringify(from)} to ${toVersion}`);
  }
  const src = isLegacy(from) ? fromLegacy(result) : structuredClone(result);
  const out: CniResult = { ...src, cniVersion: toVersion };
  if (out.ips) {
    out.ips = out.ips.map((ip): Ip => {
      const { version: _v, ...rest } = ip;
      return hasIpVersionField(toVersion) ? { version: ipFamily(ip.address), ...rest } : rest;
    });
  }
  return out;
}

function fromLegacy(r: CniResult): CniResult {
  const out: CniResult = { cniVersion: r.cniVersion };
  const ips: Ip[] = [];
  const routes: unknown[] = [];
  for (const key of ['ip4', 'ip6'] as const) {
    const cfg = r[key] as { ip?: string; gateway?: string; routes?: unknown[] } | undefined;
    if (!cfg?.ip) continue;
    ips.push({ address: cfg.ip, ...(cfg.gateway ? { gateway: cfg.gateway } : {}) });
    routes.push(...(cfg.routes ?? []));
  }
  if (ips.length) out.ips = ips;
  if (routes.length) out.routes = routes;
  if (r.dns !== undefined) out.dns = r.dns;
  return out;
}
