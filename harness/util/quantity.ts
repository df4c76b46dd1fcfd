// Kubernetes quantities as the bandwidth annotations take them (kubernetes.io/ingress-bandwidth: 10M).

/** 10M, 1.5G, 500k, 100Mi: a decimal number with an SI or binary suffix. */
export const QUANTITY = /^(\d+(\.\d+)?)(k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$/;
const FACTORS: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };

/** A quantity's value, rounded up to an integer as Kubernetes' Quantity.Value() does; undefined when malformed. */
export function quantityValue(q: string): number | undefined {
  const m = QUANTITY.exec(q);
  return m ? Math.ceil(Number(m[1]) * FACTORS[m[3] ?? '']!) : undefined;
}
