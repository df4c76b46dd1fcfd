// --out is proven writable before any cell runs: below /proc, at a file or /dev/null, below a file,
// empty, read-only or full, `faultline run` refuses it (exit 2) naming the flag and creates nothing.
// A report write that still fails at the end exits 3 naming the file, after the run cleaned up.
// Read-only and full filesystems are tmpfs mounts made in a private mount namespace of the command
// itself (unshare), so they vanish with it whatever happens to the test.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, looksClean, refusal, tempDir } from '../../testing/cli.ts';
import { REPO_ROOT } from '../version.ts';
import { PROBE_BYTES, prepareOutDir } from './out-dir.ts';

const SCENARIO = 'scenarios/cni-version-compat.yaml';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let file: string;
beforeAll(async () => {
  tmp = await tempDir('fl-out-dir-');
  file = path.join(tmp.dir, 'a-file');
  await writeFile(file, 'not a directory\n');
});
afterAll(async () => {
  await tmp.cleanup();
});

/** `--out` values and what the refusal says; `() =>` because the temp dir exists only at run time. */
const CASES: [string, () => string, () => string][] = [
  ['below /proc', () => '/proc/faultline-out', () => '--out /proc/faultline-out: /proc is on proc, a filesystem the kernel makes up'],
  ['deep below /proc', () => '/proc/1/x/y', () => '--out /proc/1/x/y: /proc/1 is on proc'],
  ['below /sys', () => '/sys/kernel/faultline-out', () => '--out /sys/kernel/faultline-out: /sys/kernel is on sysfs'],
  ['at a file', () => file, () => `--out ${file}: ${file} is a file, not a directory`],
  ['at /dev/null', () => '/dev/null', () => '--out /dev/null: /dev/null is a character device, not a directory'],
  ['below a file', () => path.join(file, 'sub', 'dir'), () => `${path.join(file, 'sub', 'dir')} is below ${file}, which is a file, not a directory`],
  ['empty', () => '', () => 'Expected the `--out` option to be a directory path, got an empty string'],
];

describe('faultline run --out that cannot hold a report', () => {
  it.each(CASES.map(([what], i) => [what, i] as const))('%s: exit 2 naming the flag, nothing created', async (_what, i) => {
    const [, out, message] = CASES[i]!;
    const r = await refusal(['run', SCENARIO, '--out', out()]);
    expect(r.exitCode, r.output).toBe(2);
    expect(r.output).toContain(message());
    expect(looksClean(r.output), r.output).toBe(true);
    expect(r.runsDirCreated).toBe(false);
    expect(existsSync(path.join(file, 'sub'))).toBe(false);
  });

  /**
   * Runs `faultline ...args` in a private mount namespace where `mountpoint` holds a fresh tmpfs with
   * these options; returns its result, what the tmpfs held afterwards, and the state dir's runs.
   */
  async function onTmpfs(mountpoint: string, tmpfsOptions: string, prepare: string, args: string[]) {
    const state = await tempDir('fl-out-state-');
    try {
      const script = `mount -t tmpfs -o "$1" faultline-test "$0" && ${prepare} && shift && "$@"; rc=$?; echo "--- left: $(ls -A "$0" | tr '\\n' ' ')"; exit $rc`;
      const r = await execa('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, mountpoint, tmpfsOptions, 'node', BIN, ...args], {
        reject: false,
        all: true,
        cwd: REPO_ROOT,
        env: { FAULTLINE_STATE_DIR: state.dir, NO_COLOR: '1' },
        timeout: 120_000, // ends a hang only
      });
      const left = /^--- left: (.*)$/m.exec(r.all ?? '')?.[1]?.trim().split(' ').filter(Boolean);
      return { r, left, runs: await readdir(path.join(state.dir, 'runs')).catch(() => undefined) };
    } finally {
      await state.cleanup();
    }
  }

  it('read-only: exit 2 naming the flag and EROFS, nothing created', async () => {
    const mnt = path.join(tmp.dir, 'ro');
    await mkdir(mnt);
    const out = path.join(mnt, 'reports', 'x');
    const { r, left, runs } = await onTmpfs(mnt, 'ro,size=1m', 'true', ['run', SCENARIO, '--out', out]);
    expect(r.exitCode, r.all).toBe(2);
    expect(r.all).toContain(`--out ${out}: cannot create ${path.join(mnt, 'reports')}: EROFS (read-only file system)`);
    expect(looksClean(r.all ?? ''), r.all).toBe(true);
    expect(left).toEqual([]);
    expect(runs).toBeUndefined();
  });

  it('full: exit 2 naming the flag and ENOSPC, and the directories it made are removed', async () => {
    const mnt = path.join(tmp.dir, 'full');
    await mkdir(mnt);
    const out = path.join(mnt, 'reports', 'x');
    // A tmpfs of twice the probe, filled but for half a probe.
    const fill = `head -c ${PROBE_BYTES + PROBE_BYTES / 2} /dev/zero > "$0/filler"`;
    const { r, left, runs } = await onTmpfs(mnt, `size=${2 * PROBE_BYTES}`, fill, ['run', SCENARIO, '--out', out]);
    expect(r.exitCode, r.all).toBe(2);
    expect(r.all).toContain(`--out ${out}: cannot write a file in ${out}: ENOSPC (no space left on device)`);
    expect(looksClean(r.all ?? ''), r.all).toBe(true);
    expect(left).toEqual(['filler']);
    expect(runs).toBeUndefined();
  });

  it('a report write that fails at the end exits 3 naming the file, after the run cleaned up', async () => {
    const mnt = path.join(tmp.dir, 'inodes');
    await mkdir(mnt);
    // Two inodes: the root and one more. The probe's file fits (then goes); the artifacts dir takes
    // the last inode while the cell runs, and report.json then finds no room.
    const { r, left, runs } = await onTmpfs(mnt, 'nr_inodes=2,size=1m', 'true', ['run', SCENARIO, '--only', 'conf=0.4.0', '--out', mnt, '--reporter', 'json']);
    expect(r.exitCode, r.all).toBe(3);
    expect(r.all).toContain(`error: cannot write the report ${path.join(mnt, 'report.json')}: ENOSPC (no space left on device)`);
    expect(looksClean(r.all ?? ''), r.all).toBe(true);
    expect(left).toEqual(['artifacts']); // no temporary report file stays
    expect(runs).toEqual([]); // the run's nodes and dir are gone
  });
});

describe('prepareOutDir', () => {
  it('makes the directory and its parents, leaving no probe file', async () => {
    const out = path.join(tmp.dir, 'made', 'a', 'b');
    await prepareOutDir(out, '--out x');
    expect(await readdir(out)).toEqual([]);
  });

  it('undo removes the directories it made while they are empty', async () => {
    const out = path.join(tmp.dir, 'undone', 'a');
    const undo = await prepareOutDir(out, '--out x');
    await undo();
    expect(existsSync(path.join(tmp.dir, 'undone'))).toBe(false);
  });
});
