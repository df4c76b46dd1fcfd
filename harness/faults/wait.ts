import * as s from '../schema/dsl.ts';
import { defineFault } from './registry.ts';

export const wait = defineFault({
  name: 'wait',
  description: 'Do nothing for a while (let timers and daemons act).',
  params: s.object({ ms: s.req(s.integer({ min: 0, max: 600_000 })) }),
  async run(ctx, p) {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, p.ms);
      ctx.signal.addEventListener('abort', () => { clearTimeout(t); reject(ctx.signal.reason); }, { once: true });
    });
    return `waited ${p.ms} ms`;
  },
});
