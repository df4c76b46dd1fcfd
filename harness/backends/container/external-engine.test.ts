// An engine the user runs, named by DOCKER_HOST (here a podman service on a socket of the test's own,
// on the same storage): faultline's nodes run on it, their containers go at the end, and the engine
// itself is left running.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { faultline, tempDir } from '../../../testing/cli.ts';
import { containerSkipReason, engineInventory } from '../../../testing/container.ts';
import { titled } from '../../../testing/network.ts';
import { type ContainerEngine, pingSocket, planEngine, startPrivatePodman } from './engine.ts';
import type { RunReport } from '../../model/report.ts';

const skip = await containerSkipReason('the external engine test');

describe.skipIf(skip)(titled("the container backend on the user's engine (DOCKER_HOST)", skip), () => {
  let engine: ContainerEngine;
  let dirs: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    dirs = await tempDir('fl-ct-ext-');
    const plan = await planEngine({ ...process.env, DOCKER_HOST: '' }, { defaultSocket: join(dirs.dir, 'none.sock') });
    if (plan.kind !== 'private-podman') throw new Error(`expected podman here, got ${plan.kind}`);
    engine = await startPrivatePodman(plan, { socketPath: join(dirs.dir, 'user-engine.sock') });
  });
  afterAll(async () => {
    await engine?.stop();
    await dirs?.cleanup();
  });

  it('runs the cell there, removes its containers, and leaves the engine running', async () => {
    const out = join(dirs.dir, 'out');
    const r = await faultline(['run', 'scenarios/libcni-empty-cache-del-0.3.1.yaml', '--only', 'runtime=libcni-1.1', '--backend', 'container', '--out', out, '--reporter', 'json'], {
      FAULTLINE_STATE_DIR: join(dirs.dir, 'state'),
      DOCKER_HOST: `unix://${engine.socketPath}`,
    });
    expect(r.exitCode, r.all).toBe(0);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as RunReport;
    expect(report.cells.map((c) => c.outcome)).toEqual(['passed']);
    expect((await pingSocket(engine.socketPath)).ok).toBe(true);
    expect(await engineInventory(report.runId)).toEqual({ containers: [], volumes: [], networks: [] });
  });
});
