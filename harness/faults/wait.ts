import * as s from '../schema/dsl.ts';
import { defineFault } from './registry.ts';

function pause(ms: number, signal: AbortSignal): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => resolve(`waited ${ms} ms`), ms);
    signal.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason); }, { once: true });
  });
}

export const wait = defineFault({
  name: 'wait',
  description: 'Do nothing for a while (let timers and daemons act).',
  params: s.object({ ms: s.req(s.integer({ min: 0, max: 600_000 })) }),
  run: (ctx, p) => pause(p.ms, ctx.signal),
  kube: (ctx, p) => pause(p.ms, ctx.signal),
});
