// IPv4 arithmetic for subnets and ranges; scenarios use small private CIDRs only.

export function parseIPv4(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function formatIPv4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr {
  base: number;
  prefix: number;
}

export function parseCidr(cidr: string): Cidr | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const base = parseIPv4(m[1]!);
  const prefix = Number(m[2]);
  if (base === undefined || prefix > 32) return undefined;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((base & mask) >>> 0 !== base) return undefined; // host bits set: not a network address
  return { base, prefix };
}

export const isCidr = (s: string) => parseCidr(s) !== undefined;

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

/** The i-th subnet of size `prefix` inside `parent`. */
export function subnetAt(parent: Cidr, prefix: number, i: number): Cidr {
  const size = 2 ** (32 - prefix);
  return { base: (parent.base + i * size) >>> 0, prefix };
}

export function subnetCount(parent: Cidr, prefix: number): number {
  return prefix < parent.prefix ? 0 : 2 ** (prefix - parent.prefix);
}

/**
 * Addresses host-local hands out in a subnet with default range settings: from .1 after the network
 * address to the last before broadcast, minus the gateway (.1) that bridge takes.
 */
export function hostLocalCapacity(c: Cidr, gatewayReserved = true): number {
  const size = 2 ** (32 - c.prefix);
  if (size <= 2) return 0;
  return size - 2 - (gatewayReserved ? 1 : 0);
}

export function cidrContains(c: Cidr, ip: number): boolean {
  const size = 2 ** (32 - c.prefix);
  return ip >= c.base && ip < c.base + size;
}
