// The CNI faults and checks against real plugins, through the real runner on real namespaces:
// one small scenario per case, all cells of the file in one run (two at a time).
import { registryEnv } from '../../testing/run-env.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseScenario } from '../scenario/load.ts';
import { runCells } from '../runner/run.ts';
import { cellSlug, planCells, type CellPlan } from '../runner/cell.ts';
import type { CellReport } from '../model/report.ts';
import type { TimelineEntry } from '../model/timeline.ts';
import { useTempStateDir } from '../../testing/host.ts';
import { networkSkipReason, titled } from '../../testing/network.ts';

const head = (name: string, stack: string, cluster = '') => `
name: ${name}
description: test
cluster:
  nodes: 1
  podCIDR: 10.88.0.0/16
  nodeMask: 24
  stack: { profile: lab/bridge-portmap, ${stack} }${cluster ? `\n  ${cluster}` : ''}
`;

// name -> scenario text. Every case gets its own cluster.
const CASES: Record<string, string> = {
  'trunc-path': `${head('trunc-path', 'runtime: libcni-1.1')}
workload: [{ name: web, replicasPerNode: 1 }]
steps:
  - truncate-file: { node: node-1, path: /var/lib/cni/networks/lab-net/last_reserved_ip.0 }
assertions: [{ pods-running: {} }]
`,
  'trunc-glob-size': `${head('trunc-glob-size', 'runtime: libcni-1.1')}
workload: [{ name: web, replicasPerNode: 1 }]
steps:
  - truncate-file: { node: node-1, glob: "/var/lib/cni/results/lab-net-*", size: 10 }
  - delete-pods: { all: true }
assertions: [{ del-succeeds: {} }, { cache-valid: {} }, { no-leaked-reservations: {} }]
`,
  'corrupt-garbage': `${head('corrupt-garbage', 'runtime: libcni-1.1')}
workload: [{ name: web, replicasPerNode: 1 }]
steps:
  - corrupt-file: { node: node-1, glob: "/var/lib/cni/results/lab-net-*", mode: garbage }
  - delete-pods: { node: node-1, workload: web }
assertions: [{ del-succeeds: {} }, { cache-valid: {} }, { no-orphan-iptables: {} }, { no-orphan-devices: {} }]
`,
  'corrupt-partial-1-2': `${head('corrupt-partial-1-2', 'runtime: libcni-1.2')}
workload: [{ name: web, replicasPerNode: 1 }]
steps:
  - corrupt-file: { node: node-1, glob: "/var/lib/cni/results/lab-net-*", mode: partial-json }
  - delete-pods: { all: true }
assertions: [{ del-succeeds: {} }, { cache-valid: {} }, { no-orphan-iptables: {} }, { no-orphan-devices: {} }, { no-leaked-reservations: {} }]
`,
  'crash-mid-chain': `${head('crash-mid-chain', 'runtime: libcni-1.1')}
workload: [{ name: web, replicasPerNode: 1 }]
steps:
  - crash-during-add: { node: node-1, pod: victim, at: mid-chain, afterPlugin: 1 }
assertions: [{ no-orphan-devices: {} }, { no-leaked-reservations: {} }, { cache-valid: {} }, { pods-running: {} }, { no-orphan-iptables: {} }]
`,
  'crash-mid-chain-del': `${head('crash-mid-chain-del', 'runtime: libcni-1.1')}
workload: [{ name: web, replicasPerNode: 1 }]
steps:
  - crash-during-add: { node: node-1, pod: victim, workload: web, at: mid-chain, afterPlugin: 1 }
  - delete-pods: { pods: [victim] }
assertions: [{ del-succeeds: {} }, { no-orphan-devices: {} }, { no-leaked-reservations: {} }, { cache-valid: {} }, { pods-running: {} }, { no-orphan-iptables: {} }]
`,
  // A node that forgot its sandboxes after the power cut: only GC can find them (from the cache).
  'gc-intact-cache': `${head('gc-intact-cache', 'runtime: libcni-1.2, cni: sid, cniVersion: 1.1.0', 'agent: { reconcileAfterBoot: false }')}
workload: [{ name: web, replicasPerNode: 2 }]
steps:
  - hard-reboot: { node: node-1 }
  - gc: {}
assertions: [{ no-leaked-reservations: {} }, { cache-valid: {} }, { pods-running: {} }]
`,
  'gc-old-config': `${head('gc-old-config', 'runtime: libcni-1.2, cni: sid')}
workload: [{ name: web, replicasPerNode: 1 }]
steps:
  - gc: { node: node-1 }
assertions: [{ cache-valid: {} }]
`,
  'delete-workload-all': `${head('delete-workload-all', 'runtime: libcni-1.1')}
workload: [{ name: web, replicasPerNode: 2 }, { name: db, replicasPerNode: 1 }]
steps:
  - delete-pods: { workload: web }
  - delete-pods: { all: true }
assertions: [{ del-succeeds: {} }, { pods-running: {} }, { no-orphan-devices: {} }, { no-leaked-reservations: {} }, { no-orphan-iptables: {} }, { cache-valid: {} }]
`,
  'no-del': `${head('no-del', 'runtime: libcni-1.1')}
workload: [{ name: web, replicasPerNode: 1 }]
assertions: [{ del-succeeds: {} }, { no-orphan-iptables: {} }, { cache-valid: {} }]
`,
  'config-unreadable-del': `${head('config-unreadable-del', 'runtime: libcni-1.2')}
workload: [{ name: web, replicasPerNode: 1 }]
steps:
  - corrupt-file: { node: node-1, path: /etc/cni/net.d/10-lab.conflist, mode: garbage }
  - delete-pods: { all: true }
assertions: [{ del-succeeds: {} }, { no-leaked-reservations: {} }]
`,
  // Errors: each a clear message naming what was wrong.
  'err-glob-empty': `${head('err-glob-empty', 'runtime: libcni-1.1')}
workload: [{ name: web, replicasPerNode: 1 }]
steps:
  - truncate-file: { node: node-1, glob: "/var/lib/cni/results/nope-*" }
`,
  'err-crash-existing': `${head('err-crash-existing', 'runtime: libcni-1.1')}
workload: [{ name: web, replicasPerNode: 1 }]
steps:
  - crash-during-add: { node: node-1, pod: web-n1-0 }
`,
  'err-crash-short-chain': `${head('err-crash-short-chain', 'runtime: libcni-1.1')}
steps:
  - crash-during-add: { node: node-1, pod: victim, at: mid-chain, afterPlugin: 3 }
`,
  'err-gc-no-gc': `${head('err-gc-no-gc', 'runtime: libcni-1.1')}
steps:
  - gc: {}
`,
  'err-delete-unknown': `${head('err-delete-unknown', 'runtime: libcni-1.1')}
workload: [{ name: web, replicasPerNode: 1 }]
steps:
  - delete-pods: { pods: [nope] }
`,
};

const offline = await networkSkipReason('cni-faults', ['1.1.1', 'sid']);

describe.skipIf(offline)(titled('CNI faults and checks on real plugins', offline), () => {
  let state: { restore: () => Promise<void> };
  let out: string;
  const cells = new Map<string, CellReport>();

  beforeAll(async () => {
    state = await useTempStateDir();
    out = await mkdtemp(path.join(os.tmpdir(), 'fl-cni-faults-'));
    const plans: CellPlan[] = planCells(Object.entries(CASES).map(([name, text]) => parseScenario(text, `/virtual/${name}.yaml`)));
    const report = await runCells({ cells: plans, jobs: 2, out, reporters: [], signal: new AbortController().signal, seed: 7, ...registryEnv() });
    for (const c of report.cells) cells.set(c.scenario, c);
    // Keep the plans' artifact slugs for file checks.
    for (const p of plans) slugs.set(p.scenario.name, cellSlug(p));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
    await state?.restore();
  });
  const slugs = new Map<string, string>();

  const cell = (name: string) => {
    const c = cells.get(name);
    if (!c) throw new Error(`no cell ${name}`);
    return c;
  };
  const statuses = (name: string) => Object.fromEntries(cell(name).assertions.map((a) => [a.name, a.status]));
  const evidence = (name: string, check: string) => cell(name).assertions.find((a) => a.name === check)!.evidence;
  const steps = (name: string) => cell(name).timeline.filter((e): e is Extract<TimelineEntry, { kind: 'step' }> => e.kind === 'step');
  const ops = (name: string, op: string) => cell(name).timeline.filter((e): e is Extract<TimelineEntry, { kind: 'op' }> => e.kind === 'op' && e.op === op);
  const artifact = (name: string, nodePath: string) => path.join(out, 'artifacts', slugs.get(name)!, 'node-1', nodePath);

  it('truncate-file path: empties the one file (the report says its old size; the disk agrees)', async () => {
    expect(cell('trunc-path').error).toBeUndefined();
    expect(steps('trunc-path')[0]!.detail).toBe('node-1: truncated /var/lib/cni/networks/lab-net/last_reserved_ip.0 (9 -> 0 bytes)');
    expect((await stat(artifact('trunc-path', 'var/lib/cni/networks/lab-net/last_reserved_ip.0'))).size).toBe(0);
  });

  it('truncate-file glob + size: the cache is cut to 10 bytes, libcni 1.1 DEL fails on it', () => {
    expect(steps('trunc-glob-size')[0]!.detail).toMatch(/^node-1: truncated \/var\/lib\/cni\/results\/lab-net-[0-9a-f]{64}-eth0 \(\d{3,} -> 10 bytes\)$/);
    expect(statuses('trunc-glob-size')).toEqual({ 'del-succeeds': 'fail', 'cache-valid': 'fail', 'no-leaked-reservations': 'fail' });
    expect(evidence('trunc-glob-size', 'del-succeeds')[0]!.error).toMatch(/^failed to destroy network for sandbox "[0-9a-f]{64}": failed to get network "lab-net" cached result: decoding version from network config: unexpected end of JSON input$/);
    expect(evidence('trunc-glob-size', 'cache-valid')[0]).toMatchObject({ state: 'corrupt', error: 'unexpected end of JSON input' });
  });

  it('corrupt-file garbage: libcni 1.1 DEL fails with the JSON error; the chain and veth stay', () => {
    expect(steps('corrupt-garbage')[0]!.detail).toMatch(/^node-1: garbage \/var\/lib\/cni\/results\/lab-net-[0-9a-f]{64}-eth0 \(\d+ -> 256 bytes\)$/);
    expect(statuses('corrupt-garbage')).toEqual({ 'del-succeeds': 'fail', 'cache-valid': 'fail', 'no-orphan-iptables': 'fail', 'no-orphan-devices': 'fail' });
    expect(evidence('corrupt-garbage', 'del-succeeds')[0]!.error).toMatch(/failed to get network "lab-net" cached result: decoding version from network config: invalid character/);
    expect(evidence('corrupt-garbage', 'cache-valid')[0]!.state).toBe('corrupt');
    expect(evidence('corrupt-garbage', 'no-orphan-devices')[0]!.summary).toMatch(/^node-1: veth[0-9a-f]{8} \(on cni0\) peers into cni-[0-9a-f-]+, pod web-n1-0 is terminating$/);
  });

  it('a pod whose network config became unreadable is not torn down, and says why', () => {
    expect(statuses('config-unreadable-del')).toEqual({ 'del-succeeds': 'fail', 'no-leaked-reservations': 'fail' });
    expect(evidence('config-unreadable-del', 'del-succeeds')[0]!.error).toMatch(/^failed to destroy network for sandbox "[0-9a-f]{64}": /);
  });

  it('corrupt-file partial-json: libcni 1.2 tolerates it, removes it, DEL releases everything', () => {
    expect(steps('corrupt-partial-1-2')[0]!.detail).toMatch(/^node-1: partial-json \/var\/lib\/cni\/results\/lab-net-[0-9a-f]{64}-eth0 \((\d+) -> \d+ bytes\)$/);
    expect(statuses('corrupt-partial-1-2')).toEqual({ 'del-succeeds': 'pass', 'cache-valid': 'pass', 'no-orphan-iptables': 'pass', 'no-orphan-devices': 'pass', 'no-leaked-reservations': 'pass' });
    expect(evidence('corrupt-partial-1-2', 'cache-valid')[0]!.summary).toBe('0 cache file(s), all valid');
  });

  it('crash-during-add mid-chain: bridge ran, portmap never did, no cache file; the pod is not running', () => {
    const crash = ops('crash-mid-chain', 'add').find((e) => e.pod === 'victim')!;
    expect(crash.result).toBe('error');
    expect(crash.error).toBe('runtime crashed during ADD after plugin 1 (bridge) of the chain');
    expect(crash.detail).toMatchObject({ crash: true, at: 'mid-chain', afterPlugin: 1 });
    expect(statuses('crash-mid-chain')).toEqual({ 'no-orphan-devices': 'fail', 'no-leaked-reservations': 'fail', 'cache-valid': 'pass', 'pods-running': 'fail', 'no-orphan-iptables': 'fail' });
    expect(evidence('crash-mid-chain', 'no-orphan-devices')[0]!.summary).toMatch(/pod victim is failed$/);
    expect(evidence('crash-mid-chain', 'pods-running')[0]!.summary).toBe('node-1: pod victim is failed: runtime crashed during ADD after plugin 1 (bridge) of the chain');
  });

  it('crash-during-add mid-chain then delete: no cache to read, so even libcni 1.1 DELs cleanly', () => {
    expect(statuses('crash-mid-chain-del')).toEqual({ 'del-succeeds': 'pass', 'no-orphan-devices': 'pass', 'no-leaked-reservations': 'pass', 'cache-valid': 'pass', 'pods-running': 'pass', 'no-orphan-iptables': 'pass' });
    expect(ops('crash-mid-chain-del', 'del').map((e) => [e.pod, e.result])).toEqual([['victim', 'ok']]);
  });

  it('gc with intact caches after a power cut: libcni 1.2 DELs the dead sandboxes and releases their addresses', () => {
    const op = ops('gc-intact-cache', 'gc')[0]!;
    const d = op.detail as Record<string, any>;
    expect(op.result).toBe('ok');
    expect(d.deleted).toHaveLength(2);
    expect(d.kept).toBe(2);
    expect(d.skipped).toEqual([]);
    expect(d.released).toHaveLength(2);
    expect([d.reservationsBefore, d.reservationsAfter]).toEqual([4, 2]);
    expect(d.gc.map((g: { plugin: string; ok: boolean }) => [g.plugin, g.ok])).toEqual([['bridge', true], ['portmap', true]]);
    expect(steps('gc-intact-cache')[1]!.detail).toMatch(/GC succeeded; 2 stale cached attachment\(s\) DELed \([0-9a-f]{12}\/eth0, [0-9a-f]{12}\/eth0\); 2 valid attachment\(s\) kept; GC sent to bridge \(exit 0\), portmap \(exit 0\); host-local reservations 4 before, 2 after \(released 2\)$/);
    expect(statuses('gc-intact-cache')).toEqual({ 'no-leaked-reservations': 'pass', 'cache-valid': 'pass', 'pods-running': 'pass' });
  });

  it('gc on a 1.0.0 config: nothing stale to DEL, and GC is not sent to plugins', () => {
    expect(steps('gc-old-config')[0]!.detail).toMatch(/GC succeeded; 0 stale cached attachment\(s\) DELed; 1 valid attachment\(s\) kept; GC not sent to plugins: cniVersion 1\.0\.0 < 1\.1\.0: plugins do not know GC;/);
  });

  it('delete-pods by workload, then all: every DEL recorded, ok', () => {
    expect(steps('delete-workload-all').map((s) => s.detail)).toEqual(['deleted 2 of 2 pod(s)', 'deleted 1 of 1 pod(s)']);
    expect(ops('delete-workload-all', 'del').map((e) => [e.pod, e.result])).toEqual([['web-n1-0', 'ok'], ['web-n1-1', 'ok'], ['db-n1-0', 'ok']]);
    expect(Object.values(statuses('delete-workload-all')).every((s) => s === 'pass')).toBe(true);
    expect(evidence('delete-workload-all', 'pods-running')[0]!.summary).toBe('0 pod(s) running');
  });

  it('del-succeeds cannot judge a cell without DEL; the other checks pass on a healthy node', () => {
    expect(statuses('no-del')).toEqual({ 'del-succeeds': 'unknown', 'no-orphan-iptables': 'pass', 'cache-valid': 'pass' });
    expect(cell('no-del').outcome).toBe('error');
    expect(evidence('no-del', 'no-orphan-iptables')[0]!.summary).toBe('1 CNI chain(s) with an owner, all owned by live attachments');
    expect(evidence('no-del', 'cache-valid')[0]!.summary).toBe('1 cache file(s), all valid');
  });

  it.each([
    ['err-glob-empty', '12:5', 'steps.0.truncate-file (step 1): glob /var/lib/cni/results/nope-* matched no file on node-1'],
    ['err-crash-existing', '12:5', 'steps.0.crash-during-add (step 1): a pod named web-n1-0 already exists on node-1; name a pod to create (existing: web-n1-0)'],
    ['err-crash-short-chain', '11:5', 'steps.0.crash-during-add (step 1): pod victim on node-1 never reached the crash point (mid-chain after plugin 3): the chain has fewer than 3 plugin(s)'],
    ['err-delete-unknown', '12:5', 'steps.0.delete-pods (step 1): no pod named nope on any node (pods: web-n1-0)'],
  ])('%s ends the cell as an invalid-input error naming the problem at its step', (name, at, message) => {
    expect(cell(name).outcome).toBe('error');
    const location = `/virtual/${name}.yaml:${at}`;
    expect(cell(name).error).toEqual({ code: 'invalid-input', source: 'harness', location, message: `${location}: ${message}` });
  });

  it('gc on a runtime without GC says which runtime to choose', () => {
    expect(cell('err-gc-no-gc').error?.code).toBe('invalid-input');
    expect(cell('err-gc-no-gc').error?.message).toBe('/virtual/err-gc-no-gc.yaml:11:5: steps.0.gc (step 1): runtime profile libcni-1.1 has no GC (CNI spec 1.1.0 / libcni 1.2.0 added it); choose a runtime profile with GC (libcni-1.2 or later) in cluster.stack.runtime');
  });

  it('a crash on an existing pod leaves that pod running and the runtime untouched', () => {
    expect(ops('err-crash-existing', 'add').map((e) => e.result)).toEqual(['ok']);
  });
});
