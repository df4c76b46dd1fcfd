// The exit code of `faultline run` tells CI what happened (docs/ARCHITECTURE.md "Errors and exit codes").
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { BIN, faultline, tempDir } from '../../testing/cli.ts';
import { REPO_ROOT } from '../version.ts';

describe('faultline run exit codes', () => {
  it.each([
    ['a glob that matches nothing', 'glob-matches-nothing.yaml', '12:5', 'steps.0.truncate-file (step 1): glob /var/lib/cni/results/no-such-network-* matched no file on node-1'],
    ['a missing file', 'missing-file.yaml', '12:5', 'steps.1.truncate-file (step 2): /var/lib/cni/no-such-file does not exist on node-1'],
    ['cni: dir:/dev/pts', 'cni-dir-devpts.yaml', '8:10', "cluster.stack.cni: 'dir:/dev/pts': /dev/pts is on devpts, a filesystem the kernel makes up, not a directory of plugin binaries"],
  ])('exits 2 for a bad input found only at run time (%s), naming the step at file:line:col, without a stack trace', async (_what, file, at, message) => {
    const out = await tempDir('fl-exit-');
    const state = await tempDir('fl-exit-state-');
    try {
      const scenario = `harness/cli/testdata/${file}`;
      const r = await faultline(['run', scenario, '--out', out.dir, '--reporter', 'json', '--reporter', 'console'], { FAULTLINE_STATE_DIR: state.dir });
      expect(r.exitCode, r.all).toBe(2);
      const report = JSON.parse(await readFile(`${out.dir}/report.json`, 'utf8'));
      expect(report.cells[0].outcome).toBe('error');
      expect(report.cells[0].error).toMatchObject({ code: 'invalid-input', location: expect.stringMatching(new RegExp(`${file.replace('.', '\\.')}:${at}$`)) });
      expect(report.cells[0].error.message).toContain(`${file}:${at}: ${message}`);
      expect(r.all).toContain(`${file}:${at}: ${message}`); // the console reason names it too
      expect(r.all).not.toMatch(/\n\s+at /);
    } finally {
      await out.cleanup();
      await state.cleanup();
    }
  });

  it('a harness error whose message matches is still not the expected plugin error', async () => {
    const out = await tempDir('fl-exit-source-');
    const state = await tempDir('fl-exit-state-');
    try {
      const r = await faultline(['run', 'harness/cli/testdata/expects-plugin-error.yaml', '--out', out.dir, '--reporter', 'json', '--reporter', 'markdown'], { FAULTLINE_STATE_DIR: state.dir });
      expect(r.exitCode, r.all).toBe(2);
      const cell = JSON.parse(await readFile(path.join(out.dir, 'report.json'), 'utf8')).cells[0];
      expect(cell).toMatchObject({ outcome: 'error', asExpected: false, error: { code: 'invalid-input', source: 'harness' }, expected: { outcome: 'error', error: { source: 'plugin', match: 'matched no file' } } });
      expect(cell.reason).toMatch(/^harness error \(expected a plugin error matching \/matched no file\/\): .*glob \/var\/lib\/cni\/results\/no-such-network-\* matched no file on node-1$/);
      const md = await readFile(path.join(out.dir, 'summary.md'), 'utf8');
      expect(md).toContain('- **Error** (invalid-input, harness error)');
      expect(md).toContain('(not as expected)');
    } finally {
      await out.cleanup();
      await state.cleanup();
    }
  });

  it('exits 2 for a plugin directory without plugins, naming cluster.stack.cni (the input, not the machine)', async () => {
    const tmp = await tempDir('fl-exit-plugins-');
    const state = await tempDir('fl-exit-state-');
    try {
      const scenario = path.join(tmp.dir, 'empty-plugins.yaml');
      await writeFile(scenario, ['name: empty-plugins', 'description: d', 'cluster:', '  stack:', '    profile: lab/bridge-portmap', `    cni: dir:${tmp.dir}`, ''].join('\n'));
      const r = await faultline(['run', scenario, '--out', path.join(tmp.dir, 'out'), '--reporter', 'json'], { FAULTLINE_STATE_DIR: state.dir });
      expect(r.exitCode, r.all).toBe(2);
      const report = JSON.parse(await readFile(path.join(tmp.dir, 'out', 'report.json'), 'utf8'));
      expect(report.cells[0].error).toMatchObject({ code: 'invalid-input', location: `${scenario}:6:10` });
      expect(report.cells[0].error.message).toContain(`cluster.stack.cni: 'dir:${tmp.dir}': no plugin binaries (executable files) in ${tmp.dir}`);
    } finally {
      await tmp.cleanup();
      await state.cleanup();
    }
  });

  it('exits 3, not 4, when the state dir cannot take the run ledger (full), naming it', async () => {
    const tmp = await tempDir('fl-exit-full-state-');
    const out = await tempDir('fl-exit-full-out-');
    try {
      // A private tmpfs with room for the runs dir only, in a mount namespace of the command's own.
      const script = 'mount -t tmpfs -o nr_inodes=3,size=1m faultline-test "$0" && FAULTLINE_STATE_DIR="$0" "$@"';
      const r = await execa('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, tmp.dir, 'node', BIN, 'run', 'scenarios/cni-version-compat.yaml', '--out', out.dir], { reject: false, all: true, cwd: REPO_ROOT, env: { NO_COLOR: '1' } });
      expect(r.exitCode, r.all).toBe(3);
      expect(r.all).toMatch(new RegExp(`cannot write the run ledger ${tmp.dir}/runs/\\.staging-fl-[0-9a-f-]+/ledger\\.json: ENOSPC`));
      expect(r.all).not.toMatch(/\n\s+at /);
    } finally {
      await tmp.cleanup();
      await out.cleanup();
    }
  });

  it('exits 3, not 4, when the machine refuses a file operation (a cache dir that is a file)', async () => {
    const tmp = await tempDir('fl-exit-cache-');
    try {
      const file = path.join(tmp.dir, 'not-a-dir');
      await writeFile(file, '');
      const r = await faultline(['cni', 'install', '1.1.1'], { FAULTLINE_CACHE_DIR: file });
      expect(r.exitCode, r.all).toBe(3);
      expect(r.all).toMatch(new RegExp(`error: ENOTDIR: not a directory, mkdir '${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\.locks`));
      expect(r.all).not.toContain('internal error');
      expect(r.all).not.toMatch(/\n\s+at /);
    } finally {
      await tmp.cleanup();
    }
  });

  it('exits 2 for a usage error', async () => {
    const r = await faultline(['run', 'scenarios/harvester-hard-reboot-ip-leak.yaml', '--jobs', 'zero']);
    expect(r.exitCode).toBe(2);
    expect(r.all).toContain('Expected the `--jobs` option to be a decimal integer from 1 to 1024, got `zero`');
  });
});

describe('output into a closed pipe', () => {
  it('is dropped quietly (faultline list | head -1)', async () => {
    const { execa } = await import('execa');
    const { BIN } = await import('../../testing/cli.ts');
    const r = await execa('sh', ['-c', `node ${BIN} list scenarios | head -1; exit "$(( $? ))"`], { reject: false, all: true });
    expect(r.all).not.toMatch(/EPIPE|Unhandled 'error' event/);
    expect(r.all!.split('\n')).toHaveLength(1);
  });
});
