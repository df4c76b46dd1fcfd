// A real node's boot, judged through the API, each part timed: the API server answers /readyz, the
// node is Ready with a kubelet heartbeat from after the power-on (a stale Ready from before the cut
// stays for the node-monitor grace period), and every pod bound to the node is Running and Ready
// again since the power-on. Polled with backoff up to a deadline; a deadline passed is reported with
// what was still missing.
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultlineError } from '../errors.ts';
import type { Kubectl } from './kubectl.ts';
import { parsePods } from './observe.ts';

export interface BootTimes {
  apiReadyMs: number;
  nodeReadyMs: number;
  podsRunningMs: number;
  pods: number;
  /** Pods still not Running when the wait ended (the boot itself succeeded). */
  notRunning?: string;
}

/** Polls `probe` until it returns a value, with backoff, up to `deadline` (ms since epoch). */
export async function until<T>(what: string, deadline: number, probe: () => Promise<T | undefined>, lastWords: () => string, signal?: AbortSignal): Promise<T> {
  for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
    signal?.throwIfAborted();
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new FaultlineError('environment', `${what} did not happen in time: ${lastWords()}`);
    await sleep(delay, undefined, signal ? { signal } : {});
  }
}

/** Floor to the second: the API's timestamps have one-second resolution. */
const sec = (ms: number) => Math.floor(ms / 1000) * 1000;

export async function waitBooted(kubectl: Kubectl, kubeNode: string, since: number, o: { timeoutMs?: number; podsTimeoutMs?: number; signal?: AbortSignal } = {}): Promise<BootTimes> {
  const t0 = Date.now();
  const deadline = t0 + (o.timeoutMs ?? 10 * 60_000);
  let last = '';
  await until('the API server answering /readyz', deadline, async () => {
    const r = await kubectl.readyz();
    last = r.detail;
    return r.ok ? true : undefined;
  }, () => last, o.signal);
  const apiReadyMs = Date.now() - t0;
  await until(`node ${kubeNode} Ready`, deadline, async () => {
    const n = await kubectl.getOne('node', kubeNode);
    const ready = ((n?.status?.conditions ?? []) as Record<string, any>[]).find((c) => c.type === 'Ready');
    last = ready ? `Ready=${ready.status} (${ready.reason ?? ''}), last heartbeat ${ready.lastHeartbeatTime ?? '?'}` : 'no Ready condition';
    return ready?.status === 'True' && Date.parse(ready.lastHeartbeatTime) >= sec(since) ? true : undefined;
  }, () => last, o.signal);
  const nodeReadyMs = Date.now() - t0;
  // Pods that cannot start (an exhausted range) are an outcome to judge, not a failed boot.
  const podsDeadline = Math.min(deadline, Date.now() + (o.podsTimeoutMs ?? 180_000));
  const pods = await until(`every pod on ${kubeNode} Running and Ready`, podsDeadline, async () => {
    const items = (await kubectl.list('pods', {})) ?? [];
    const mine = parsePods(items.filter((p) => p.spec?.nodeName === kubeNode && !p.metadata?.deletionTimestamp));
    const notYet = mine.filter((p) => !(p.phase === 'Running' && p.ready && p.readyAt !== undefined && Date.parse(p.readyAt) >= sec(since)) && p.phase !== 'Succeeded');
    last = notYet.length ? notYet.slice(0, 5).map((p) => `${p.namespace}/${p.name} ${p.phase}${p.waiting ? ` (${p.waiting})` : ''}${p.ready ? ' ready before the boot' : ''}`).join(', ') : '';
    return notYet.length ? undefined : mine.length;
  }, () => last, o.signal).catch((e: unknown) => {
    if (e instanceof FaultlineError && e.code === 'environment') return undefined;
    throw e;
  });
  return { apiReadyMs, nodeReadyMs, podsRunningMs: Date.now() - t0, pods: pods ?? 0, ...(pods === undefined ? { notRunning: last } : {}) };
}
