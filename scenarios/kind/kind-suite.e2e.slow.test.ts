// The kind suite end to end: real clusters, the three seed bugs on their bad versions, passes on the
// fixed ones, and nothing left. Runs wherever kind can run: an engine that answers (as kind chooses it)
// and a node image present or pullable; FAULTLINE_KIND_E2E=1 forces it (a missing prerequisite then
// fails the test), FAULTLINE_KIND_E2E=0 skips it. Otherwise it is skipped with the reason detected.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/version.ts';
import { KindBackend } from '../../harness/backends/kind/kind-backend.ts';
import { faultline, tempDir } from '../../testing/cli.ts';
import type { RunReport } from '../../harness/model/report.ts';

/** Why kind cannot run here, or undefined when it can (the backend's own checks). */
async function whyNot(): Promise<string | undefined> {
  const forced = process.env.FAULTLINE_KIND_E2E;
  if (forced === '0') return 'FAULTLINE_KIND_E2E=0';
  if (forced === '1') return undefined;
  const failed = (await new KindBackend().check()).filter((c) => !c.ok);
  return failed.length ? failed.map((c) => c.detail).join('; ') : undefined;
}

const reason = await whyNot();
// Said once per run, so a skipped run says why (vitest prints the suite name with it too).
if (reason) process.stderr.write(`kind suite end to end skipped: ${reason}\n`);

describe.skipIf(reason !== undefined)(`kind suite end to end${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('creates the clusters, reproduces the seed bugs on the bad versions, passes on the fixed ones, leaves nothing', async () => {
    const out = await tempDir('faultline-kind-e2e-');
    try {
      const r = await faultline(['run', path.join(REPO_ROOT, 'scenarios', 'kind'), '--suite', 'kind', '--out', out.dir, '--jobs', '1'], { ...process.env } as Record<string, string>);
      const report = JSON.parse(readFileSync(path.join(out.dir, 'report.json'), 'utf8')) as RunReport;
      for (const c of report.cells) {
        const t = c.stack.kind?.timings;
        process.stderr.write(`${c.id}: ${c.outcome} (expected ${c.expected.outcome}); cluster create ${t?.clusterCreateMs ?? '?'} ms, CNI ready ${t?.cniReadyMs ?? '?'} ms, reboot-to-Ready ${(t?.rebootToReadyMs ?? []).map((x) => `${x.node} ${x.nodeReadyMs}/${x.podsRunningMs} ms`).join(', ') || '-'}\n`);
      }
      expect(report.cells.map((c) => [c.id, c.outcome]), r.all).toEqual(report.cells.map((c) => [c.id, c.expected.outcome === 'fail' ? 'xfail' : 'passed']));
      expect(r.exitCode).toBe(0);
      // Nothing left: no container of a faultline cluster, no kubeconfig entry outside the run's files.
      const ps = await execa('docker', ['ps', '-a', '--filter', 'label=io.x-k8s.kind.cluster', '--format', '{{.Label "io.x-k8s.kind.cluster"}}'], { reject: false });
      expect(String(ps.stdout).split('\n').filter((n) => n.startsWith(report.runId))).toEqual([]);
      const kube = path.join(process.env.HOME ?? '/root', '.kube', 'config');
      if (existsSync(kube)) expect(readFileSync(kube, 'utf8')).not.toContain(report.runId);
      expect(readdirSync(path.join(out.dir, 'artifacts')).length).toBe(report.cells.length);
    } finally {
      await out.cleanup();
    }
  }, 4 * 60 * 60_000);
});
