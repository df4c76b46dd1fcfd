// Benchmark of the real runtime in a node: per-pod RunPodSandbox + StopPodSandbox + RemovePodSandbox
// through faultline (node agent, CRI runtime, timeline) against the same CRI calls made by a minimal
// direct client on the same node in the same run (interleaved batches, so both see the same load);
// node power-on to CRI ready; containerd's memory and each live sandbox's (shim + pause).
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createRun } from '../harness/ledger/ledger.ts';
import { LocalBackend, LocalNode } from '../harness/backends/local/local-backend.ts';
import { localReaper } from '../harness/backends/local/reaper.ts';
import { resolveContainerd } from '../harness/components/containerd.ts';
import { CriRuntime } from '../harness/runtime/cri/cri-runtime.ts';
import { CriClient, type PodSandboxConfig } from '../harness/runtime/cri/cri-client.ts';
import { CONTAINERD_SOCKET } from '../harness/runtime/cri/containerd-config.ts';
import { KubeletAgent } from '../harness/agent/node-agent.ts';
import { Timeline } from '../harness/model/timeline.ts';

export interface CriBench {
  runtime: string;
  pods: number;
  faultlineMsPerPod: number;
  directMsPerPod: number;
  ratio: number;
  readyMs: number[];
  medianReadyMs: number;
  containerdRssMb: number;
  perSandboxRssMb: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** RSS (MB) of the node's containerd, its shims and their pause processes (found from the host's /proc). */
function rssOf(nodePidNs: string, withSandboxes: boolean): number {
  const procs = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((pid) => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      return [{ pid, comm: readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), ppid: /^PPid:\s+(\d+)/m.exec(status)?.[1] ?? '', ns: readlinkSync(`/proc/${pid}/ns/pid`), rssKb: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) }];
    } catch {
      return [];
    }
  });
  const inNode = procs.filter((p) => p.ns === nodePidNs);
  const shims = new Set(inNode.filter((p) => p.comm.startsWith('containerd-shim')).map((p) => p.pid));
  const counted = inNode.filter((p) => p.comm === 'containerd' || (withSandboxes && shims.has(p.pid)));
  if (withSandboxes) counted.push(...procs.filter((p) => p.comm === 'pause' && shims.has(p.ppid)));
  return counted.reduce((a, p) => a + p.rssKb, 0) / 1024;
}

export async function benchCri(opts: { runtime?: string; pods?: number; boots?: number } = {}): Promise<CriBench> {
  const runtimeName = opts.runtime ?? 'containerd-1.6';
  const pods = opts.pods ?? 40;
  const component = await resolveContainerd(runtimeName);
  const run = await createRun();
  const cluster = await new LocalBackend().up({
    runId: run.runId,
    cellId: 'bench-cri',
    workDir: path.join(run.workDir, 'cells', 'bench-cri'),
    nodes: [{ name: 'node-1', podSubnet: '10.99.0.0/24', pluginDir: '/usr/lib/cni', runtimeDir: component.dir }],
  });
  try {
    const node = cluster.node('node-1');
    const conflist = { cniVersion: '1.0.0', name: 'bench-net', plugins: [{ type: 'bridge', bridge: 'cni0', isGateway: true, ipMasq: false, ipam: { type: 'host-local', subnet: '10.99.0.0/24' } }] };
    const rt = new CriRuntime({ node, component: { version: component.version, protoFile: component.protoFile } });
    const boot = async () => {
      await node.writeFile('/etc/cni/net.d/10-bench.conflist', JSON.stringify(conflist));
      await rt.start();
    };
    await boot(); // first boot imports the pause image onto the node's disk
    // Power-on to CRI ready (the pause image already on disk), over several power cycles.
    const readyMs: number[] = [];
    for (let i = 0; i < (opts.boots ?? 7); i++) {
      await node.powerOff();
      rt.onPowerOff();
      const t0 = performance.now();
      await node.powerOn();
      await boot();
      readyMs.push(performance.now() - t0);
    }
    const agent = new KubeletAgent(node, rt, new Timeline(), []);
    const direct = new CriClient(component.protoFile, node.hostPath(CONTAINERD_SOCKET));
    const spec = (i: number) => ({ name: `bench-${i}`, node: 'node-1', workload: 'bench', networks: [], role: 'pod' as const });
    const directConfig = (i: number): PodSandboxConfig => {
      const uid = randomUUID();
      return {
        metadata: { name: `direct-${i}`, uid, namespace: 'default', attempt: 0 },
        hostname: `direct-${i}`,
        log_directory: `/var/log/pods/default_direct-${i}_${uid}`,
        port_mappings: [],
        labels: {},
        annotations: {},
        linux: { cgroup_parent: `${node.cgroupParent}/pod${uid}`, security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' }, privileged: false, seccomp: { profile_type: 'RuntimeDefault' } }, sysctls: {} },
      };
    };
    // Warm both paths.
    await agent.startPod(spec(0));
    await agent.deletePod('bench-0');
    const warm = await direct.runPodSandbox(directConfig(0));
    await direct.stopPodSandbox(warm);
    await direct.removePodSandbox(warm);

    const batch = 5;
    let faultlineMs = 0;
    let directMs = 0;
    for (let done = 0; done < pods; done += batch) {
      const n = Math.min(batch, pods - done);
      let t0 = performance.now();
      for (let i = done + 1; i <= done + n; i++) {
        const st = await agent.startPod(spec(i));
        if (st.phase !== 'running') throw new Error(`bench pod ${i} failed: ${st.error}`);
        const d = await agent.deletePod(`bench-${i}`);
        if (!d.ok) throw new Error(`bench pod ${i} delete failed: ${d.error}`);
      }
      faultlineMs += performance.now() - t0;
      t0 = performance.now();
      for (let i = done + 1; i <= done + n; i++) {
        const id = await direct.runPodSandbox(directConfig(i));
        await direct.stopPodSandbox(id);
        await direct.removePodSandbox(id);
      }
      directMs += performance.now() - t0;
    }

    // Memory: containerd alone, then with 10 live sandboxes.
    const pidns = readlinkSync(`/proc/${(node as LocalNode).holderPid}/ns/pid_for_children`);
    const idle = rssOf(pidns, false);
    for (let i = 0; i < 10; i++) await agent.startPod(spec(1000 + i));
    const busy = rssOf(pidns, true);
    direct.close();
    return {
      runtime: `${runtimeName} (containerd ${component.version}, libcni ${component.libcni})`,
      pods,
      faultlineMsPerPod: faultlineMs / pods,
      directMsPerPod: directMs / pods,
      ratio: faultlineMs / directMs,
      readyMs,
      medianReadyMs: median(readyMs),
      containerdRssMb: idle,
      perSandboxRssMb: (busy - idle) / 10,
    };
  } finally {
    await cluster.down();
    await run.release([localReaper]);
  }
}
