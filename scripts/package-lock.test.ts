// package-lock.json must serve `npm ci` on every platform: npm refuses a lock in which a package's
// dependency, optional ones included, has no entry ("Missing: @rollup/rollup-android-arm-eabi@...
// from lock file"). A lock rewritten where node_modules already exists can drop other platforms'
// optional packages (npm/cli#4828); this catches that without the registry.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../harness/version.ts';

interface LockEntry {
  version?: string;
  integrity?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { lockfileVersion: number; packages: Record<string, LockEntry> };
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

// Where node would find `dep` from the package at `from` (its own node_modules, then each parent's).
function resolve(from: string, dep: string): string | undefined {
  let base = from;
  for (;;) {
    const here = `${base ? `${base}/` : ''}node_modules/${dep}`;
    if (lock.packages[here]) return here;
    if (!base) return undefined;
    const i = base.lastIndexOf('/node_modules/');
    base = i < 0 ? '' : base.slice(0, i);
  }
}

// Entries npm ci would find missing, as text.
function lockProblems(): string[] {
  const problems: string[] = [];
  for (const [at, entry] of Object.entries(lock.packages)) {
    if (at === '' || entry.link) continue;
    if (!entry.version || !entry.integrity) problems.push(`${at}: no version or integrity`);
    const optionalPeers = Object.entries(entry.peerDependenciesMeta ?? {}).filter(([, m]) => m.optional).map(([n]) => n);
    const needed = [...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.optionalDependencies ?? {})];
    for (const dep of needed) if (!resolve(at, dep)) problems.push(`${at}: ${dep} has no entry`);
    for (const dep of Object.keys(entry.peerDependencies ?? {})) if (!optionalPeers.includes(dep) && !resolve(at, dep)) problems.push(`${at}: peer ${dep} has no entry`);
  }
  for (const field of ['dependencies', 'devDependencies'] as const) {
    for (const dep of Object.keys(pkg[field])) if (!lock.packages[`node_modules/${dep}`]) problems.push(`${dep} (package.json ${field}) has no entry`);
  }
  return problems;
}

describe('package-lock.json', () => {
  it('is a v3 lock in step with package.json in which every dependency of every package has an entry', () => {
    expect(lock.lockfileVersion).toBe(3);
    const root = lock.packages[''] as LockEntry & { devDependencies?: Record<string, string> };
    const stale = 'package-lock.json does not match package.json: run npm install --package-lock-only';
    expect(root.dependencies, stale).toEqual(pkg.dependencies);
    expect(root.devDependencies, stale).toEqual(pkg.devDependencies);
    expect(lockProblems()).toEqual([]);
  });

  it('has every platform of the native packages tsx and vitest need (esbuild, rollup)', () => {
    const entries = Object.keys(lock.packages);
    const rollup = lock.packages['node_modules/rollup']!;
    const esbuild = lock.packages['node_modules/esbuild']!;
    for (const dep of Object.keys({ ...rollup.optionalDependencies, ...esbuild.optionalDependencies })) {
      if (dep === 'fsevents') continue; // macOS only, and resolved like any other
      expect(entries, dep).toContain(`node_modules/${dep}`);
    }
    expect(Object.keys(rollup.optionalDependencies ?? {}).length).toBeGreaterThan(20);
  });

  it('keeps testcontainers on 10.x: 11 and 12 need newer Node than faultline supports', () => {
    expect(pkg.dependencies.testcontainers).toMatch(/^~10\.\d+\.\d+$/);
    expect(lock.packages['node_modules/testcontainers']!.version).toMatch(/^10\./);
  });
});
