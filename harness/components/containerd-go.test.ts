import { describe, expect, it } from 'vitest';
import { FaultlineError } from '../errors.ts';
import { containerdModule, modelForLibcni, resolveContainerd } from './containerd.ts';

describe('containerd-go:', () => {
  it('builds 1.x from github.com/containerd/containerd and 2.x from its /v2 module', () => {
    expect(containerdModule('v1.7.22')).toBe('github.com/containerd/containerd');
    expect(containerdModule('v2.1.4')).toBe('github.com/containerd/containerd/v2');
  });

  it('pairs the libcni its go.mod selects with the model of the same generation (the empty-cache fix is in 1.2.0)', () => {
    expect(modelForLibcni('1.1.2')).toBe('libcni-1.1');
    expect(modelForLibcni('v1.2.0-rc1')).toBe('libcni-1.2');
    expect(modelForLibcni('1.3.0')).toBe('libcni-1.3');
    expect(modelForLibcni('unknown')).toBeUndefined();
  });

  it('refuses a ref that is neither a tag nor a commit', async () => {
    const e = await resolveContainerd('containerd-go:main').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FaultlineError);
    expect((e as FaultlineError).message).toContain("runtime 'containerd-go:main': expected containerd-go:vX.Y.Z");
  });
});
