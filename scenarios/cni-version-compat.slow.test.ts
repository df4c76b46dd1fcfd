// End to end through the real CLI: plugins 0.9.0 refuse a 1.0.0 config with their own
// "incompatible CNI versions" (code 1), which ends the cell as an expected error; a 0.4.0 config works.
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { scenarioRun, expectNothingLeft } from '../testing/scenario-run.ts';
import { networkSkipReason, titled } from '../testing/network.ts';

const offline = await networkSkipReason('cni-version-compat', ['0.9.0']);

describe.skipIf(offline)(titled('scenario cni-version-compat', offline), () => {
  const run = scenarioRun(['scenarios/cni-version-compat.yaml']);

  const cell = (conf: string) => run.report.cells.find((c) => c.matrix.conf === conf)!;

  it('exits 0: the error is the expected one, the 0.4.0 cell passed', () => {
    expect(run.exitCode, run.output).toBe(0);
    expect(run.report.cells.map((c) => [c.matrix.conf, c.outcome, c.asExpected])).toEqual([['1.0.0', 'error', true], ['0.4.0', 'passed', true]]);
    expect(cell('1.0.0').stack.cni.version).toBe('0.9.0');
  });

  it("1.0.0: the cell error is the plugin's own message, as an environment error from the plugin", () => {
    const c = cell('1.0.0');
    expect(c.error?.code).toBe('environment');
    expect(c.error?.source).toBe('plugin');
    expect(c.expected.error).toEqual({ source: 'plugin', match: 'incompatible CNI versions' });
    expect(c.error?.message).toMatch(/^node-1: pod web-n1-0: plugin bridge ADD failed \(code 1\): incompatible CNI versions; config is "1\.0\.0", plugin supports \["0\.1\.0" "0\.2\.0" "0\.3\.0" "0\.3\.1" "0\.4\.0"\]/);
    expect(c.reason).toMatch(/^expected plugin error: .*incompatible CNI versions/);
    expect(c.assertions).toEqual([]); // nothing ran past the boot
  });

  it('0.4.0: the pods start, and their deletion releases everything', () => {
    const c = cell('0.4.0');
    expect(c.assertions.map((a) => [a.name, a.status])).toEqual([['del-succeeds', 'pass'], ['no-orphan-devices', 'pass'], ['no-leaked-reservations', 'pass'], ['no-orphan-iptables', 'pass'], ['cache-valid', 'pass']]);
    const adds = c.timeline.filter((e) => e.kind === 'op' && e.op === 'add');
    expect(adds.map((e) => e.kind === 'op' && e.result)).toEqual(['ok', 'ok']);
    expect(c.assertions.find((a) => a.name === 'del-succeeds')!.evidence[0]!.summary).toBe('2 DEL(s), all succeeded');
  });

  it('names the message in the Markdown summary', async () => {
    expect(await readFile(path.join(run.outDir, 'summary.md'), 'utf8')).toContain('incompatible CNI versions');
  });

  it('leaves nothing behind and never touches the host CNI dirs', async () => {
    await expectNothingLeft(run);
  });
});
