// scripts/setup.mjs and scripts/setup-system.mjs against stand-ins for npm, dpkg-query and apt-get.
import { execaSync } from 'execa';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../harness/version.ts';

const work = mkdtempSync(join(tmpdir(), 'faultline-setup-test-'));
chmodSync(work, 0o755);
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;

function exe(path: string, body: string) {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
}

/** A project with scripts/setup.mjs, a lock file and a fake npm on PATH. */
function project() {
  const root = join(work, `proj${n++}`);
  mkdirSync(join(root, 'scripts'), { recursive: true });
  mkdirSync(join(root, 'bin'));
  copyFileSync(join(REPO_ROOT, 'scripts', 'setup.mjs'), join(root, 'scripts', 'setup.mjs'));
  writeFileSync(join(root, 'package-lock.json'), '{"lockfileVersion":3}\n');
  exe(
    join(root, 'bin', 'npm'),
    [
      'echo "$*" >> "$NPM_LOG"',
      'if [ "$1" = ci ] && [ -n "$NPM_CI_REFUSE" ]; then echo "npm error Missing: @rollup/rollup-darwin-x64@4.0.0 from lock file" >&2; exit 1; fi',
      'mkdir -p node_modules',
      'if [ -n "$ESBUILD" ]; then ln -sfn "$ESBUILD" node_modules/esbuild; fi',
    ].join('\n'),
  );
  const log = join(root, 'npm.log');
  const run = (extra: Record<string, string> = {}) => {
    const r = execaSync(process.execPath, [join(root, 'scripts', 'setup.mjs')], {
      reject: false,
      stripFinalNewline: false,
      extendEnv: false,
      env: {
        PATH: `${join(root, 'bin')}:${process.env.PATH}`,
        NPM_LOG: log,
        ESBUILD: join(REPO_ROOT, 'node_modules', 'esbuild'),
        FAULTLINE_SKIP_SYSTEM_SETUP: '1',
        FAULTLINE_SKIP_COMPONENTS: '1',
        ...extra,
      },
    });
    const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
    rmSync(log, { force: true });
    return { code: r.exitCode, stderr: r.stderr, stdout: r.stdout, calls };
  };
  return { root, run };
}

describe('scripts/setup.mjs', () => {
  it('runs npm ci when node_modules is missing, then nothing (silently) until the lock file changes', () => {
    const p = project();
    const first = p.run();
    expect(first.code).toBe(0);
    expect(first.calls).toHaveLength(1);
    expect(first.calls[0]).toMatch(/^ci\b/);
    expect(first.stderr).toMatch(/npm ci/);
    expect(existsSync(join(p.root, 'node_modules', '.faultline-setup-stamp'))).toBe(true);

    const second = p.run();
    expect(second).toMatchObject({ code: 0, calls: [], stderr: '', stdout: '' });

    // Touched but identical (a checkout): no reinstall.
    const later = new Date(Date.now() + 5000);
    utimesSync(join(p.root, 'package-lock.json'), later, later);
    expect(p.run().calls).toEqual([]);

    // Changed: reinstall.
    writeFileSync(join(p.root, 'package-lock.json'), '{"lockfileVersion":3,"changed":true}\n');
    const future = new Date(Date.now() + 10_000);
    utimesSync(join(p.root, 'package-lock.json'), future, future);
    expect(p.run().calls.map((c) => c.split(' ')[0])).toEqual(['ci']);
  });

  it('adopts a complete node_modules made by plain npm (its hidden lock file is newer)', () => {
    const p = project();
    mkdirSync(join(p.root, 'node_modules'));
    writeFileSync(join(p.root, 'node_modules', '.package-lock.json'), '{}');
    const later = new Date(Date.now() + 5000);
    utimesSync(join(p.root, 'node_modules', '.package-lock.json'), later, later);
    expect(p.run()).toMatchObject({ code: 0, calls: [], stderr: '' });
  });

  it('falls back to npm install --no-save when npm ci refuses the lock file', () => {
    const p = project();
    const r = p.run({ NPM_CI_REFUSE: '1' });
    expect(r.code).toBe(0);
    expect(r.calls.map((c) => c.split(' ').slice(0, 2).join(' '))).toEqual(['ci --no-audit', 'install --no-save']);
    expect(r.stderr).toMatch(/npm ci refused package-lock.json/);
    expect(p.run().calls).toEqual([]);
  });

  it('exits 3 with a hint when esbuild (for tsx) does not work after install', () => {
    const p = project();
    const r = p.run({ ESBUILD: '' });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/esbuild .* does not work/);
    expect(existsSync(join(p.root, 'node_modules', '.faultline-setup-stamp'))).toBe(false);
  });
});

/** Makes a tree readable (and its directories traversable) by every user. */
function openToAll(path: string) {
  const st = statSync(path);
  chmodSync(path, st.mode | (st.isDirectory() ? 0o755 : 0o444));
  if (st.isDirectory()) for (const e of readdirSync(path)) openToAll(join(path, e));
}

/**
 * The script with its one dependency, copied into the world-readable work dir: a test that runs it
 * as another user must not depend on that user reaching the clone (it may sit under a 0700 dir).
 */
function stagedSetupSystem(): { root: string; script: string } {
  const root = join(work, 'staged');
  if (!existsSync(root)) {
    mkdirSync(join(root, 'scripts'), { recursive: true });
    copyFileSync(join(REPO_ROOT, 'scripts', 'setup-system.mjs'), join(root, 'scripts', 'setup-system.mjs'));
    cpSync(join(REPO_ROOT, 'node_modules', 'zx'), join(root, 'node_modules', 'zx'), { recursive: true, dereference: true });
    openToAll(root);
  }
  return { root, script: join(root, 'scripts', 'setup-system.mjs') };
}

describe('scripts/setup-system.mjs', () => {
  const PKGS = ['iproute2', 'iptables', 'util-linux', 'containernetworking-plugins', 'debian-archive-keyring', 'catatonit', 'runc', 'podman', 'debootstrap'];
  const EXCLUDE_ETC_CNI = '-o Dpkg::Options::=--path-exclude=/etc/cni -o Dpkg::Options::=--path-exclude=/etc/cni/*';

  function system(installed: string[]) {
    const dir = join(work, `sys${n++}`);
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    const state = join(dir, 'installed');
    const log = join(dir, 'apt.log');
    writeFileSync(state, installed.map((p) => p + '\n').join(''));
    chmodSync(state, 0o666);
    exe(
      join(dir, 'dpkg-query'),
      [
        'shift 2',
        'rc=0',
        'for p in "$@"; do if grep -qx "$p" "$STATE"; then printf "%s\\tii \\n" "$p"; else echo "dpkg-query: no packages found matching $p" >&2; rc=1; fi; done',
        'exit $rc',
      ].join('\n'),
    );
    exe(
      join(dir, 'apt-get'),
      [
        'echo "DEBIAN_FRONTEND=$DEBIAN_FRONTEND $*" >> "$APT_LOG"',
        'if [ "$3" = install ] || [ "$1" = install ]; then for a in "$@"; do case "$a" in -*|install) ;; *) echo "$a" >> "$STATE";; esac; done; fi',
      ].join('\n'),
    );
    const run = (prefix: string[] = []) => {
      const staged = stagedSetupSystem();
      const r = execaSync(prefix[0] ?? process.execPath, [...prefix.slice(1), ...(prefix.length ? [process.execPath] : []), staged.script], {
        reject: false,
        stripFinalNewline: false,
        extendEnv: false,
        cwd: staged.root,
        env: { PATH: `${dir}:${process.env.PATH}`, STATE: state, APT_LOG: log },
      });
      const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
      return { code: r.exitCode, stderr: r.stderr, calls };
    };
    return { run, state };
  }

  it('is silent and installs nothing when every package is there', () => {
    expect(system(PKGS).run()).toMatchObject({ code: 0, stderr: '', calls: [] });
  });

  it('as root: one apt-get update, then installs only what is missing, and says so', (ctx) => {
    ctx.skip(process.getuid?.() !== 0, 'needs root: the script installs only as root');
    const s = system(PKGS.filter((p) => p !== 'iptables' && p !== 'containernetworking-plugins'));
    const r = s.run();
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([
      'DEBIAN_FRONTEND=noninteractive -q update',
      `DEBIAN_FRONTEND=noninteractive install -y -q --no-install-recommends ${EXCLUDE_ETC_CNI} iptables containernetworking-plugins`,
    ]);
    expect(r.stderr).toMatch(/installing Debian packages:\n\s+iptables: .*\n\s+containernetworking-plugins: /);
    expect(r.stderr).toMatch(/installed: iptables containernetworking-plugins/);
    expect(s.run().calls).toHaveLength(2); // second run: nothing more
  });

  it("as root: podman is installed without the conflist its package puts in the host's /etc/cni", (ctx) => {
    ctx.skip(process.getuid?.() !== 0, 'needs root: the script installs only as root');
    const r = system(PKGS.filter((p) => p !== 'podman' && p !== 'debootstrap')).run();
    expect(r.code).toBe(0);
    expect(r.calls[1]).toBe(`DEBIAN_FRONTEND=noninteractive install -y -q --no-install-recommends ${EXCLUDE_ETC_CNI} podman debootstrap`);
    expect(r.stderr).toMatch(/podman: the container backend's engine/);
  });

  it('not root and something missing: exit 3 with the command to run', (ctx) => {
    ctx.skip(process.getuid?.() !== 0, 'needs root: to run the script as another user');
    // setpriv comes with util-linux, which the setup installs: its absence fails, it never skips.
    expect(existsSync('/usr/bin/setpriv'), '/usr/bin/setpriv missing (util-linux): run node scripts/setup.mjs').toBe(true);
    const s = system(PKGS.filter((p) => p !== 'iproute2'));
    const r = s.run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/missing Debian packages:\n\s+iproute2: /);
    expect(r.stderr).toContain(`apt-get install -y --no-install-recommends ${EXCLUDE_ETC_CNI} iproute2`);
    expect(r.calls).toEqual([]);
  });
});
