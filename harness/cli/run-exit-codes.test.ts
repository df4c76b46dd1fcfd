// The exit code of `faultline run` tells CI what happened (DESIGN.md "CLI").
import { describe, expect, it } from 'vitest';
import { faultline, tempDir } from '../../testing/cli.ts';

describe('faultline run exit codes', () => {
  it('exits 2 for a bad input found only at run time, naming it, without a stack trace', async () => {
    const out = await tempDir('fl-exit-');
    const state = await tempDir('fl-exit-state-');
    try {
      const r = await faultline(['run', 'harness/cli/testdata/glob-matches-nothing.yaml', '--out', out.dir, '--reporter', 'json'], { FAULTLINE_STATE_DIR: state.dir });
      expect(r.exitCode, r.all).toBe(2);
      const report = JSON.parse(await (await import('node:fs/promises')).readFile(`${out.dir}/report.json`, 'utf8'));
      expect(report.cells[0].outcome).toBe('error');
      expect(report.cells[0].error).toMatchObject({ code: 'invalid-input' });
      expect(report.cells[0].error.message).toContain('/var/lib/cni/results/no-such-network-*');
      expect(r.all).not.toMatch(/\n\s+at /);
    } finally {
      await out.cleanup();
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
