// Node and node-path references, as the loader checks them for every fault and assertion.
import { describe, expect, it } from 'vitest';
import { nodeFileProblem, pathProblem, refProblem } from './refs.ts';
import { LocalBackend } from '../backends/local/local-backend.ts';

const roots = new LocalBackend().fileRoots;
const under = "a node's files live under /var/lib/cni, /etc/cni, /var/log, /var/lib/containerd, /etc/containerd, /run, /tmp";

describe('nodeFileProblem', () => {
  it.each([
    ['node-path', '/var/lib/cni/results/x', undefined],
    ['node-glob', '/var/lib/cni/results/lab-net-*', undefined],
    ['node-glob', '/var/*/cni/networks/*/10.*', undefined],
    ['node-glob', '/run/*', undefined], // names /run/netns itself at most: a directory, never touched
    ['node-glob', '/etc/passwd*', `glob /etc/passwd* can never name a node file: ${under}`],
    ['node-path', '/var/lib/cni', `path /var/lib/cni can never name a node file: ${under}`],
    ['node-path', '/opt/cni/bin/bridge', `path /opt/cni/bin/bridge can never name a node file: ${under}`],
    ['node-path', '/proc/1/mem', `path /proc/1/mem can never name a node file: ${under}`],
    ['node-glob', '/sys/*', `glob /sys/* can never name a node file: ${under}`],
    ['node-glob', '/run/netns/*', 'glob /run/netns/* reaches /run/netns, which the kernel backs (network namespaces, not files); name files outside it'],
    ['node-glob', '/run/*/*', 'glob /run/*/* reaches /run/netns, which the kernel backs (network namespaces, not files); name files outside it'],
    ['node-path', '/run/netns/cni-1234', 'path /run/netns/cni-1234 reaches /run/netns, which the kernel backs (network namespaces, not files); name files outside it'],
    ['node-path', 'var/lib/cni/x', 'expected an absolute path inside the node root (starting with /), found "var/lib/cni/x"'],
    ['node-path', '/var/lib/cni/../../etc/shadow', `path escapes the node root: "/var/lib/cni/../../etc/shadow" has a '..' segment`],
  ] as const)('%s %s -> %s', (kind, target, want) => {
    expect(nodeFileProblem(kind, target, roots)).toBe(want);
  });
});

describe('refProblem', () => {
  const ctx = { nodeNames: ['node-1', 'node-2'], roots };
  it('accepts the cluster’s nodes and names the range otherwise', () => {
    expect(refProblem({ kind: 'node', value: 'node-2', path: [] }, ctx)).toBeUndefined();
    expect(refProblem({ kind: 'node', value: 'node-3', path: [] }, ctx)).toBe('expected a node of this cluster (node-1..node-2), found "node-3"');
    expect(refProblem({ kind: 'node', value: 'node-3', path: [] }, { ...ctx, nodeNames: ['node-1'] })).toBe('expected a node of this cluster (node-1), found "node-3"');
  });
  it('checks NUL bytes', () => {
    expect(pathProblem('/var/lib/cni/a\0b')).toMatch(/without NUL bytes/);
  });
});
