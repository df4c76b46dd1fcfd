// npm run bench: the performance figures the issues ask for, printed, never asserted in tests.
import os from 'node:os';
import { benchOverhead } from './overhead.ts';
import { benchScenarioWall } from './scenario.ts';
import { benchCachedResolve } from './provision.ts';
import { benchJobs } from './jobs.ts';
import { benchChurn } from './churn.ts';
import { benchCri } from './cri.ts';
import { BISECT_16_BUDGET, CACHED_GO_RESOLVE_BUDGET_MS, COLD_BUILD_BUDGET_MS, benchBisectProbes, benchColdBuild, benchGoResolve } from './go-build.ts';
import { benchContainer, benchSuiteWall, median } from './container.ts';

const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

console.log(`faultline benchmarks on ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? '?'}, node ${process.version}, kernel ${os.release()}`);

if (want('overhead')) {
  for (const ipMasq of [false, true]) {
    const b = await benchOverhead({ pods: 100, ipMasq });
    console.log(`\n[overhead] ${b.pods} pods ADD+DEL, ${b.config}`);
    console.log(`  through faultline: ${fmt(b.faultlineMsPerPod)}/pod`);
    console.log(`  plugins directly:  ${fmt(b.directMsPerPod)}/pod`);
    console.log(`  ratio: ${b.ratio.toFixed(2)}x (target <= 1.25x) ${b.ratio <= 1.25 ? 'OK' : 'OVER TARGET'}`);
  }
}

if (want('harvester')) {
  const b = await benchScenarioWall('scenarios/harvester-hard-reboot-ip-leak.yaml');
  console.log(`\n[harvester] ${b.cells} cells (${b.outcomes}), jobs ${b.jobs}: wall ${fmt(b.wallMs)} (target < 30 s) ${b.wallMs < 30_000 ? 'OK' : 'OVER TARGET'}`);
}

if (want('provision')) {
  const b = await benchCachedResolve();
  console.log(`\n[provision] cached plugin version resolve over ${b.iterations} runs: median ${fmt(b.medianMs)}, p95 ${fmt(b.p95Ms)}, max ${fmt(b.maxMs)} (target < ${b.budgetMs} ms) ${b.withinBudget ? 'OK' : 'OVER TARGET'}`);
}

if (want('jobs')) {
  const b = await benchJobs();
  console.log(`\n[jobs] libcni-empty-cache-del, ${b.cells} cells: --jobs 1 ${fmt(b.jobs1Ms)}, --jobs 2 ${fmt(b.jobs2Ms)}, speedup ${b.speedup.toFixed(2)}x (target >= 1.6x) ${b.speedup >= 1.6 ? 'OK' : 'UNDER TARGET'}`);
}

if (want('churn')) {
  const b = await benchChurn();
  console.log(`\n[churn] ${b.ops} ops at concurrency ${b.concurrency} on ${b.nodes} nodes: ${b.withInvariants.toFixed(1)} ops/s with invariants after every op, ${b.withoutInvariants.toFixed(1)} ops/s without`);
  console.log(`  invariant cost ${b.costPercent.toFixed(1)}% (target <= 15%) ${b.costPercent <= 15 ? 'OK' : 'OVER TARGET'}; ${b.checks} checks; cells: ${b.perCell}`);
  console.log(`  peak RSS ${b.peakRssMb.toFixed(0)} MB (target < 300 MB) ${b.peakRssMb < 300 ? 'OK' : 'OVER TARGET'}; timeline ${b.timelineEntries} entries, ${(b.timelineBytes / 1024).toFixed(0)} KiB`);
}

if (want('cri')) {
  for (const runtime of ['containerd-1.6', 'containerd-2.1']) {
    const b = await benchCri({ runtime });
    console.log(`\n[cri] ${b.runtime}: ${b.pods} pods RunPodSandbox + StopPodSandbox + RemovePodSandbox`);
    console.log(`  through faultline (kubelet agent, CRI runtime): ${fmt(b.faultlineMsPerPod)}/pod`);
    console.log(`  direct CRI client, same node, same run:         ${fmt(b.directMsPerPod)}/pod`);
    console.log(`  ratio: ${b.ratio.toFixed(2)}x (target <= 1.15x) ${b.ratio <= 1.15 ? 'OK' : 'OVER TARGET'}`);
    console.log(`  node power-on to CRI ready: median ${fmt(b.medianReadyMs)} over ${b.readyMs.length} boots (target <= 300 ms) ${b.medianReadyMs <= 300 ? 'OK' : 'OVER TARGET'}; each: ${b.readyMs.map((x) => x.toFixed(0)).join(', ')} ms`);
    console.log(`  memory: containerd ${b.containerdRssMb.toFixed(1)} MB per node, ${b.perSandboxRssMb.toFixed(1)} MB per live sandbox (shim + pause)`);
  }
}

if (want('suite')) {
  const b = await benchScenarioWall('scenarios', undefined, 'default');
  console.log(`\n[suite] default suite, ${b.cells} cells (real-runtime cells included), jobs ${b.jobs}: wall ${fmt(b.wallMs)} (target < 60 s) ${b.wallMs < 60_000 ? 'OK' : 'OVER TARGET'}`);
}

// `npm run bench go`; `npm run bench go-cold` builds a tag again into empty caches instead of reading
// the cache's build record.
if (want('go') || only.includes('go-cold')) {
  const r = await benchGoResolve();
  console.log(`\n[go] cached ${r.version} resolve over ${r.iterations} runs: median ${fmt(r.medianMs)}, max ${fmt(r.maxMs)} (target <= ${CACHED_GO_RESOLVE_BUDGET_MS} ms) ${r.withinBudget ? 'OK' : 'OVER TARGET'}`);
  const c = await benchColdBuild({ rebuild: only.includes('go-cold') });
  console.log(`[go] build of every CNI plugin of ${c.version} (${c.binaries} binaries, ${c.go}, ${c.from}${c.cold ? ', Go build cache empty: a cold build' : ', Go build cache NOT empty: not a cold build'}): ${fmt(c.totalMs)} (download ${fmt(c.downloadMs)}, build ${fmt(c.buildMs)}) (target <= ${COLD_BUILD_BUDGET_MS / 1000} s) ${c.withinBudget ? 'OK' : 'OVER TARGET'}`);
  const b = await benchBisectProbes();
  console.log(`[go] bisect over ${b.values} versions: at most ${b.maxProbes} probes (target <= ${BISECT_16_BUDGET}) ${b.withinBudget ? 'OK' : 'OVER TARGET'}`);
}

if (want('container')) {
  const b = await benchContainer();
  const range = (xs: number[]) => `median ${fmt(median(xs))} (${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}, ${xs.length} runs)`;
  console.log(`\n[container] engine: ${b.engine}`);
  if (b.engineStartMs) {
    const m = median(b.engineStartMs);
    console.log(`  private podman service start until it answers: ${range(b.engineStartMs)} (one per run: shared only if > 1 s) ${m <= 1000 ? 'OK' : 'OVER 1 s'}`);
  }
  console.log(`  first cluster up in a process (engine, testcontainers' client, image check, 2 nodes): ${fmt(b.firstUpMs)} (target <= 2 s) ${b.firstUpMs <= 2000 ? 'OK' : 'OVER TARGET'}`);
  console.log(`  cluster up, 2 nodes, image cached: ${range(b.upMs)} (target <= 2 s) ${median(b.upMs) <= 2000 ? 'OK' : 'OVER TARGET'}`);
  console.log(`  hard reboot of a node (SIGKILL of its init, start): ${range(b.rebootMs)} (target <= 1 s) ${median(b.rebootMs) <= 1000 ? 'OK' : 'OVER TARGET'}`);
  if (b.image.buildMs !== undefined) {
    console.log(`  cold image build (last measured, ${b.image.builtAt}, ${b.image.ref}): ${fmt(b.image.buildMs)} (target <= 90 s, once per machine) ${b.image.buildMs <= 90_000 ? 'OK' : 'OVER TARGET'}`);
  } else {
    console.log(`  cold image build: no build recorded in the image cache (${b.image.ref})`);
  }
}

if (want('container-suite')) {
  const local = await benchSuiteWall('local');
  const container = await benchSuiteWall('container');
  const ratio = container.wallMs / local.wallMs;
  console.log(`\n[container-suite] default suite, ${local.cells} cells, --jobs ${local.jobs}: local ${fmt(local.wallMs)}${local.asExpected ? '' : ' (NOT all as expected)'}, container ${fmt(container.wallMs)}${container.asExpected ? '' : ' (NOT all as expected)'}`);
  for (const p of [...local.problems, ...container.problems]) console.log(`  ${p}`);
  if (local.asExpected && container.asExpected) console.log(`  ratio ${ratio.toFixed(2)}x (target <= 2x) ${ratio <= 2 ? 'OK' : 'OVER TARGET'}`);
  else console.log('  no ratio: a run did not give the expected outcomes');
}
