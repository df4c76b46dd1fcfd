// The host leftover check judges only what carries a run's marks: it fires on a fake leftover with the
// run's id or a container id, and ignores what others change meanwhile (a package's conflist, an
// engine's netns).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostLeftovers, hostSnapshot, marksOfReport } from './host.ts';

const work = mkdtempSync(join(tmpdir(), 'faultline-host-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const RUN_ID = 'fl-20261201-031500-a1b2c3';
const CONTAINER = '9c1e4b2f0d8a4c6e8f1a3b5c7d9e0f21a2b4c6d8e0f1a3b5c7d9e1f2a3b4c5d6';
const NETNS = 'cni-9c1e4b2f-0d8a-4c6e';

/** A fake host: the three CNI dirs under a temp root, and a netns list the test controls. */
function fakeHost() {
  const root = mkdtempSync(join(work, 'host-'));
  const dirs = ['var/lib/cni', 'etc/cni', 'opt/cni'].map((d) => join(root, d));
  mkdirSync(join(dirs[0]!, 'networks', 'k8s-pod-network'), { recursive: true });
  mkdirSync(join(dirs[1]!, 'net.d'), { recursive: true });
  writeFileSync(join(dirs[0]!, 'networks', 'k8s-pod-network', '10.52.0.9'), 'someone-elses-container\r\neth0');
  const netns = ['netns-1111'];
  return { root, dirs, netns, snapshot: () => hostSnapshot(dirs, async () => [...netns].sort()) };
}

describe('hostLeftovers', () => {
  it('ignores what other processes change on the host meanwhile', async () => {
    const h = fakeHost();
    const before = await h.snapshot();
    writeFileSync(join(h.dirs[1]!, 'net.d', '87-podman-bridge.conflist'), '{"name":"podman","plugins":[]}');
    writeFileSync(join(h.dirs[0]!, 'networks', 'k8s-pod-network', '10.52.0.9'), 'changed-by-someone\r\neth0');
    mkdirSync(join(h.dirs[2]!, 'bin'), { recursive: true });
    h.netns.push('netns-2222');
    expect(hostLeftovers(before, await h.snapshot(), [RUN_ID, CONTAINER, NETNS])).toEqual([]);
  });

  it("fires on a reservation holding the run's container id, a path or netns named after the run", async () => {
    const h = fakeHost();
    const before = await h.snapshot();
    const leaked = join(h.dirs[0]!, 'networks', 'k8s-pod-network', '10.52.0.2');
    writeFileSync(leaked, `${CONTAINER}\r\neth0`);
    mkdirSync(join(h.dirs[0]!, `results-${RUN_ID}`));
    writeFileSync(join(h.dirs[1]!, 'net.d', '10-faultline-probe.conf'), '{}');
    h.netns.push(NETNS);
    expect(hostLeftovers(before, await h.snapshot(), [RUN_ID, CONTAINER, NETNS])).toEqual([
      `${leaked} (file, carries '${CONTAINER}')`,
      `${join(h.dirs[0]!, `results-${RUN_ID}`)} (directory, carries '${RUN_ID}')`,
      `${join(h.dirs[1]!, 'net.d', '10-faultline-probe.conf')} (file, carries 'faultline')`,
      `netns ${NETNS} (carries '${NETNS}')`,
    ]);
  });

  it('does not blame this run for a marked entry that was there, unchanged, before it', async () => {
    const h = fakeHost();
    writeFileSync(join(h.dirs[0]!, 'networks', 'k8s-pod-network', '10.52.0.3'), `${CONTAINER}\r\neth0`);
    h.netns.push(NETNS);
    const before = await h.snapshot();
    expect(hostLeftovers(before, await h.snapshot(), [CONTAINER, NETNS])).toEqual([]);
  });

  it("reads the real host's dirs and netns", async () => {
    const s = await hostSnapshot();
    expect(Array.isArray(s.netns)).toBe(true);
    expect(hostLeftovers(s, s, [RUN_ID])).toEqual([]);
  });
});

describe('marksOfReport', () => {
  it('takes the run id, container ids, the netns names derived from them and recorded netns names', () => {
    const report = {
      runId: RUN_ID,
      cells: [{ timeline: [{ kind: 'op', op: 'add', detail: { containerId: CONTAINER } }, { attachments: [{ netns: '/run/netns/pod-7', containerId: 'short-id' }] }] }],
    };
    expect(marksOfReport(report).sort()).toEqual([CONTAINER, NETNS, RUN_ID, 'pod-7', 'short-id'].sort());
  });
});
