// Benchmark: per-pod ADD+DEL through faultline (node agent, model runtime, cache, netns) against the same
// plugin called directly in the same node with the same config, in one run.
import { localReaper } from '../harness/backends/local/reaper.ts';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { createRun } from '../harness/ledger/ledger.ts';
import { LocalBackend } from '../harness/backends/local/local-backend.ts';
import { composeAgents } from '../harness/runner/compose.ts';
import { Timeline } from '../harness/model/timeline.ts';
import { createRng } from '../harness/util/rng.ts';
import { resolveStack } from '../harness/runner/stack.ts';
import { REPO_ROOT } from '../harness/version.ts';

export interface OverheadBench {
  pods: number;
  config: string;
  faultlineMsPerPod: number;
  directMsPerPod: number;
  ratio: number;
}

export async function benchOverhead(opts: { pods?: number; ipMasq?: boolean } = {}): Promise<OverheadBench> {
  const pods = opts.pods ?? 100;
  const stack = await resolveStack({ profile: 'harvester/v1.4.3' });
  // One plugin, so the direct loop can call exactly what the runtime calls.
  const conflist = {
    cniVersion: '0.3.1',
    name: 'bench-net',
    plugins: [{ type: 'bridge', bridge: 'cni0', isGateway: true, ipMasq: opts.ipMasq ?? false, ipam: { type: 'host-local', subnet: '10.99.0.0/24' } }],
  };
  const single = { cniVersion: conflist.cniVersion, name: conflist.name, ...conflist.plugins[0] };
  const run = await createRun();
  const cluster = await new LocalBackend().up({ runId: run.runId, cellId: 'bench', workDir: path.join(run.workDir, 'cells', 'bench'), nodes: [{ name: 'node-1', podSubnet: '10.99.0.0/24', pluginDir: stack.plugins.dir }] });
  try {
    const node = cluster.nodes[0]!;
    await node.writeFile('/etc/cni/net.d/10-bench.conflist', JSON.stringify(conflist));
    await node.writeFile('/tmp/bench.conf', JSON.stringify(single));
    await node.writeFile('/tmp/direct-add-del.sh', await readFile(path.join(REPO_ROOT, 'scripts/bench/direct-add-del.sh')));
    const [pm] = composeAgents(cluster.nodes, stack, new Timeline(), createRng(1), []).agents;
    const spec = (i: number) => ({ name: `bench-${i}`, node: 'node-1', workload: 'bench', networks: [], role: 'pod' as const });

    // Warm up both paths (page cache, plugin VERSION probe).
    await pm!.startPod(spec(0));
    await pm!.deletePod('bench-0');
    await node.exec(['sh', '/tmp/direct-add-del.sh', '2', '/tmp/bench.conf', 'bridge']);

    // Interleave the two paths in batches, so both see the same machine state.
    const batch = 10;
    let faultlineMs = 0;
    let directMs = 0;
    for (let done = 0; done < pods; done += batch) {
      const n = Math.min(batch, pods - done);
      const t0 = performance.now();
      for (let i = done + 1; i <= done + n; i++) {
        const st = await pm!.startPod(spec(i));
        if (st.phase !== 'running') throw new Error(`bench pod ${i} failed: ${st.error}`);
        const d = await pm!.deletePod(`bench-${i}`);
        if (!d.ok) throw new Error(`bench pod ${i} DEL failed: ${d.error}`);
      }
      faultlineMs += performance.now() - t0;
      const t1 = performance.now();
      const r = await node.exec(['sh', '/tmp/direct-add-del.sh', String(n), '/tmp/bench.conf', 'bridge'], { timeoutMs: 600_000 });
      directMs += performance.now() - t1;
      if (r.exitCode !== 0) throw new Error(`direct loop failed: ${r.stderr}`);
    }
    return {
      pods,
      config: `bridge + host-local, ipMasq ${opts.ipMasq ?? false}, plugins ${stack.plugins.version}`,
      faultlineMsPerPod: faultlineMs / pods,
      directMsPerPod: directMs / pods,
      ratio: faultlineMs / directMs,
    };
  } finally {
    await cluster.down();
    await run.release([localReaper]);
  }
}
