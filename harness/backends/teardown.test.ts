import { describe, expect, it } from 'vitest';
import { tearDownAll } from './teardown.ts';
import { FaultlineError } from '../errors.ts';

describe('tearDownAll', () => {
  it('takes every part down, a stage after the one before, and names each that failed', async () => {
    const order: string[] = [];
    const part = (name: string, fail?: string) => ({
      name,
      down: async () => {
        order.push(name);
        if (fail) throw new Error(fail);
      },
    });
    const err = await tearDownAll([part('node node-1', 'EBUSY'), part('node node-2')], [part('segment ext', 'link busy')]).catch((e: unknown) => e);
    expect(order).toEqual(['node node-1', 'node node-2', 'segment ext']);
    expect(err).toBeInstanceOf(FaultlineError);
    expect((err as FaultlineError).message).toBe('cluster teardown left problems:\nnode node-1: EBUSY\nsegment ext: link busy');
  });

  it('resolves when every part went down', async () => {
    await expect(tearDownAll([{ name: 'a', down: async () => {} }])).resolves.toBeUndefined();
  });
});
