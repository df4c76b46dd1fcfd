import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultlineError } from '../errors.ts';
import { runTool } from './run.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'faultline-runtool-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runTool', () => {
  it('passes argv as given (no shell), the input on stdin, and returns the output as written', async () => {
    const r = await runTool('sh', ['-c', 'cat; printf "%s|" "$@" >&2; exit 3', 'sh', 'a b', '$HOME', ';'], { input: 'in\n' });
    expect(r).toEqual({ code: 3, stdout: 'in\n', stderr: 'a b|$HOME|;|' });
  });

  it('gives the tool exactly the environment asked for, and no stdin without input', async () => {
    const r = await runTool('/bin/sh', ['-c', 'echo "$ONLY:${HOME-unset}"; cat'], { env: { ONLY: 'x' }, cwd: dir });
    expect(r.stdout).toBe('x:unset\n');
  });

  it('reports a signal death as code 128', async () => {
    expect((await runTool('sh', ['-c', 'kill -9 $$'])).code).toBe(128);
  });

  it('names the Debian package of a missing tool', async () => {
    const err = await runTool('faultline-no-such-tool', [], { providedBy: 'some-package' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaultlineError);
    expect(err).toMatchObject({ code: 'prerequisite', message: 'faultline-no-such-tool not found', hint: 'apt-get install some-package' });
  });

  it('on abort, ends the tool and rejects with the abort reason once it has exited', async () => {
    const pidFile = path.join(dir, 'pid');
    const ac = new AbortController();
    const running = runTool('sh', ['-c', `echo $$ > ${pidFile}; exec sleep 600`], { signal: ac.signal });
    let pid = '';
    while (!pid.endsWith('\n')) pid = await readFile(pidFile, 'utf8').catch(() => ''); // the tool is up
    ac.abort(new FaultlineError('interrupted', 'interrupted by SIGINT'));
    await expect(running).rejects.toMatchObject({ code: 'interrupted', message: 'interrupted by SIGINT' });
    expect(() => process.kill(Number(pid), 0)).toThrow(/ESRCH/);
    await expect(runTool('true', [], { signal: ac.signal })).rejects.toMatchObject({ code: 'interrupted' });
  });
});
