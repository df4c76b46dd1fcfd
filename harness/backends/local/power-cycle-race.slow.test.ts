// Power cycles of one node must never kill a node of another cluster that is starting at the same
// moment (namespace inode numbers are reused as soon as a namespace dies).
import { localReaper } from './reaper.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { createRun, type Run } from '../../ledger/ledger.ts';
import { LocalBackend } from './local-backend.ts';
import type { LocalCluster } from './local-cluster.ts';
import { useTempStateDir } from '../../../testing/host.ts';

describe('concurrent power cycles', () => {
  let run: Run;
  const clusters: LocalCluster[] = [];
  let restore: () => Promise<void>;
  beforeAll(async () => {
    restore = (await useTempStateDir()).restore;
    run = await createRun();
    for (const id of ['a', 'b', 'c']) {
      clusters.push(await new LocalBackend().up({ runId: run.runId, cellId: id, workDir: path.join(run.workDir, 'cells', id), nodes: [{ name: 'node-1', podSubnet: '10.66.0.0/24', pluginDir: '/usr/lib/cni' }] }));
    }
  });
  afterAll(async () => {
    for (const c of clusters) await c.down();
    await run?.release([localReaper]);
    await restore?.();
  });

  it('30 rounds of three nodes rebooting at once all come back', async () => {
    const errors: string[] = [];
    for (let round = 0; round < 30; round++) {
      await Promise.all(
        clusters.map(async (c) => {
          const node = c.nodes[0]!;
          try {
            await node.createNetns('p');
            await node.powerOff();
            await node.powerOn();
            const r = await node.exec(['hostname']);
            if (r.exitCode !== 0) errors.push(`round ${round}: exec after power on: ${r.stderr}`);
          } catch (e) {
            errors.push(`round ${round}: ${(e as Error).message.split('\n')[0]}`);
          }
        }),
      );
    }
    expect(errors).toEqual([]);
  });
});
