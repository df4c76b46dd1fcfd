// The exit code of `faultline run` tells CI what happened (DESIGN.md "CLI").
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { faultline, tempDir } from '../../testing/cli.ts';

describe('faultline run exit codes', () => {
  it.each([
    ['a glob that matches nothing', 'glob-matches-nothing.yaml', '11:5', 'steps.0.truncate-file: glob /var/lib/cni/results/no-such-network-* matched no file on node-1'],
    ['a missing file', 'missing-file.yaml', '12:5', 'steps.1.truncate-file: /var/lib/cni/no-such-file does not exist on node-1'],
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
