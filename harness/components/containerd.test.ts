// What the report says about a containerd: the libcni it was built with, from the package's fields.
import { describe, expect, it } from 'vitest';
import { containerdReleaseNames, isContainerdRuntime, libcniFromFields, loadContainerdRelease } from './containerd.ts';
import { parseControlFields } from '../cni-versions/debian.ts';

describe('containerd releases', () => {
  it('reads libcni from Built-Using (bookworm) and Static-Built-Using (sid)', () => {
    const bookworm = parseControlFields('Package: containerd\nVersion: 1.6.20~ds1-1+deb12u3\nBuilt-Using: golang-1.19 (= 1.19.8-2), golang-github-appc-cni (= 1.1.2-1),\n golang-github-containerd-go-cni (= 1.1.7-2)\n');
    expect(libcniFromFields(bookworm)).toBe('1.1.2');
    expect(libcniFromFields({ 'Static-Built-Using': 'golang-github-appc-cni (= 1.3.0-2), golang-1.27 (= 1.27.1-2)' })).toBe('1.3.0');
    expect(libcniFromFields({ 'Built-Using': 'golang-1.19 (= 1.19.8-2)' })).toBeUndefined();
  });

  it('knows containerd-1.6 and containerd-2.1 as data, each with the model of its libcni generation', async () => {
    expect(containerdReleaseNames()).toEqual(['containerd-1.6', 'containerd-2.1']);
    expect(await loadContainerdRelease('containerd-1.6')).toMatchObject({ debian: { suite: 'bookworm', package: 'containerd' }, model: 'libcni-1.1' });
    expect(await loadContainerdRelease('containerd-2.1')).toMatchObject({ debian: { suite: 'sid', package: 'containerd' }, model: 'libcni-1.3' });
    await expect(loadContainerdRelease('containerd-9.9')).rejects.toThrow(/unknown runtime 'containerd-9.9'/);
    expect(isContainerdRuntime('containerd-dir:/x')).toBe(true);
    expect(isContainerdRuntime('libcni-1.1')).toBe(false);
  });
});
