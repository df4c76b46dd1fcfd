// `faultline run --backend container` where no engine can be had: exit 3 before anything is created,
// naming the problem and its fix.
import { describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { faultline, tempDir } from '../../../testing/cli.ts';

describe('the container backend without an engine', () => {
  it('refuses the run with exit 3 and the fix, leaving no run behind', async () => {
    const state = await tempDir('fl-ct-prereq-');
    try {
      const sock = path.join(state.dir, 'nothing.sock');
      const r = await faultline(['run', 'scenarios/libcni-empty-cache-del-0.3.1.yaml', '--backend', 'container', '--only', 'runtime=libcni-1.1', '--reporter', 'json', '--out', path.join(state.dir, 'out')], {
        FAULTLINE_STATE_DIR: state.dir,
        DOCKER_HOST: `unix://${sock}`,
      });
      expect(r.exitCode, r.all).toBe(3);
      expect(r.all).toContain('the container backend cannot run here');
      expect(r.all).toContain(`DOCKER_HOST=unix://${sock} does not answer`);
      expect(r.all).toContain('fix: start that engine, or unset DOCKER_HOST to let faultline start podman');
      expect(await readdir(path.join(state.dir, 'runs')).catch(() => [])).toEqual([]);
    } finally {
      await state.cleanup();
    }
  });
});
