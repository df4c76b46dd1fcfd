// A node's state is copied into the report file by file, each cut at MAX_ARTIFACT_FILE_BYTES with a
// warning: a sparse 1 GiB file on a node stays a small artifact. Special files are skipped.
import { execa } from 'execa';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRun, type Run } from '../ledger/ledger.ts';
import { LocalBackend, type LocalCluster } from '../backends/local/local-backend.ts';
import { localReaper } from '../backends/local/reaper.ts';
import { fakePluginDir, useTempStateDir } from '../../testing/host.ts';
import { tempDir } from '../../testing/cli.ts';
import { MAX_ARTIFACT_FILE_BYTES, dumpNodeState } from './cell.ts';
import { rm } from 'node:fs/promises';

let state: Awaited<ReturnType<typeof useTempStateDir>>;
let plugins: string;
let run: Run;
let cluster: LocalCluster | undefined;
let out: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  state = await useTempStateDir();
  plugins = await fakePluginDir();
  out = await tempDir('fl-artifacts-');
  run = await createRun();
});
afterAll(async () => {
  await cluster?.down().catch(() => undefined);
  await run?.release([localReaper]);
  await rm(plugins, { recursive: true, force: true });
  await out.cleanup();
  await state?.restore();
});

describe('dumpNodeState', () => {
  it('keeps at most MAX_ARTIFACT_FILE_BYTES of a sparse 1 GiB node file, with a warning, and skips a FIFO', async () => {
    cluster = await new LocalBackend().up({ runId: run.runId, cellId: 'artifacts', workDir: run.cellDir('artifacts'), nodes: [{ name: 'node-1', pluginDir: plugins, podSubnet: '10.77.0.0/28' }] });
    const node = cluster.node('node-1');
    await node.writeFile('/var/lib/cni/results/small', 'abc');
    await node.writeFile('/var/lib/cni/results/huge', '{"cniVersion":');
    await node.truncateFile('/var/lib/cni/results/huge', 2 ** 30);
    await execa('mkfifo', [join(node.nodeDir, 'disk/var/lib/cni/results/fifo')]);

    const warnings: string[] = [];
    await dumpNodeState(cluster, out.dir, (m) => warnings.push(m));

    const results = join(out.dir, 'node-1', 'var/lib/cni/results');
    expect((await readdir(results)).sort()).toEqual(['huge', 'small']);
    expect((await stat(join(results, 'huge'))).size).toBe(MAX_ARTIFACT_FILE_BYTES);
    expect((await stat(join(results, 'small'))).size).toBe(3);
    expect(warnings).toEqual([`artifact node-1:/var/lib/cni/results/huge: kept the first ${MAX_ARTIFACT_FILE_BYTES} of its ${2 ** 30} bytes`]);
  });
});
