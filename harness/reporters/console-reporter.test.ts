import { describe, expect, it } from 'vitest';
import { ConsoleReporter, defaultColor, type ConsoleStream } from './console-reporter.ts';
import { LIBCNI_ERROR, ORPHAN_VETH, makeAsExpectedReport, makeRunReport } from '../../testing/reports.ts';
import type { RunReport } from '../model/report.ts';

class Capture implements ConsoleStream {
  text = '';
  constructor(readonly isTTY = false, readonly columns?: number) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

// Runs a whole report through the reporter's hooks, as the runner does.
async function drive(reporter: ConsoleReporter, report: RunReport): Promise<void> {
  await reporter.onRunStart({ runId: report.runId, outDir: report.outDir, cells: report.cells.map((c) => ({ id: c.id })) });
  for (const cell of report.cells) {
    reporter.onCellStart({ id: cell.id });
    reporter.onProgress(cell.id, 'step 1 hard-reboot node-1');
    reporter.onCellEnd(cell);
  }
  reporter.onRunEnd(report);
}

const ESC = '\u001b';

describe('ConsoleReporter', () => {
  it('reports progress while the run goes: start, progress messages, end with outcome and reason', async () => {
    const out = new Capture();
    await drive(new ConsoleReporter({ stream: out, color: false }), makeRunReport());
    const lines = out.text.split('\n');
    expect(lines[0]).toBe('faultline run fl-20250101-120000-ab12: 5 cells, reports in reports/fl-20250101-120000-ab12');
    expect(lines[1]).toBe('[1/5] START  harvester-reboot-ipam-leak[harvester=v1.4.3]');
    expect(lines[2]).toMatch(/^ +harvester-reboot-ipam-leak\[harvester=v1\.4\.3\]: step 1 hard-reboot node-1$/);
    expect(lines[3]).toBe('[1/5] PASSED harvester-reboot-ipam-leak[harvester=v1.4.3] 4.3s  all 2 check(s) held');
    expect(out.text).toContain('[4/5] FAILED libcni-empty-cache-del[runtime=libcni-1.2,cni=1.1.1] 2.8s  unexpected failure of del-succeeds, no-orphan-devices');
    expect(out.text).toContain('[5/5] ERROR  libcni-empty-cache-del[runtime=libcni-1.1,cni=1.1.1] 180ms');
  });

  it('makes an XPASS loud even without colour', async () => {
    const out = new Capture();
    await drive(new ConsoleReporter({ stream: out, color: false }), makeRunReport());
    expect(out.text).toContain('[3/5] XPASS  harvester-reboot-ipam-leak[harvester=v1.4.1]');
    expect(out.text).toContain('XPASS: expected failure did not happen: the bug is gone or the scenario no longer reproduces it');
  });

  it('closes with a table of every cell, the evidence of unexpected ones, and the headline', async () => {
    const out = new Capture();
    await drive(new ConsoleReporter({ stream: out, color: false }), makeRunReport());
    const closing = out.text.slice(out.text.indexOf('RESULT  CELL'));
    const rows = closing.split('\n').slice(1, 6);
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(['PASSED', 'XFAIL', 'XPASS', 'FAILED', 'ERROR']);
    expect(closing).toContain(`      ${LIBCNI_ERROR}`);
    expect(closing).toContain(`[node-1, ${ORPHAN_VETH}]`);
    expect(closing).toContain('  environment: creating namespaces for node-2: unshare: operation not permitted');
    expect(closing.trimEnd().split('\n').at(-1)).toBe('3 of 5 cells NOT as expected (1 passed, 1 FAILED, 1 xfail, 1 XPASS, 1 ERROR).');

    const good = new Capture();
    await drive(new ConsoleReporter({ stream: good, color: false }), makeAsExpectedReport());
    expect(good.text.trimEnd().split('\n').at(-1)).toBe('All 2 cells as expected (1 passed, 1 xfail).');
  });

  it('never passes control characters from evidence or progress through to the terminal', async () => {
    const out = new Capture();
    const reporter = new ConsoleReporter({ stream: out, color: false });
    await drive(reporter, makeRunReport());
    reporter.onProgress('x', `plugin said \u001b[2J\r\u009b31m`);
    expect(out.text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(out.text).toContain('plugin said \\x1b[2J\\r\\x9b31m');
    expect(out.text).toContain("'results/k8s-pod-network-9c1e4b2f0d8a-eth0'\\r");
  });

  it('colours only when asked, and then paints outcomes', async () => {
    const plain = new Capture(true);
    await drive(new ConsoleReporter({ stream: plain, color: false }), makeRunReport());
    expect(plain.text).not.toContain(ESC);
    const colored = new Capture(true);
    await drive(new ConsoleReporter({ stream: colored, color: true }), makeRunReport());
    expect(colored.text).toContain(`${ESC}[1;7;35mXPASS `);
    expect(colored.text).toContain(`${ESC}[1;31mFAILED`);
    expect(colored.text).toContain(`${ESC}[32mPASSED`);
  });

  it('defaults to colour on a terminal unless NO_COLOR or CI is set', () => {
    expect(defaultColor({ isTTY: true }, {})).toBe(true);
    expect(defaultColor({ isTTY: false }, {})).toBe(false);
    expect(defaultColor({}, {})).toBe(false);
    expect(defaultColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(defaultColor({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(defaultColor({ isTTY: true }, { CI: 'true' })).toBe(false);
    expect(defaultColor({ isTTY: true }, { CI: 'false' })).toBe(true);
    expect(new ConsoleReporter({ stream: new Capture(false) }).color).toBe(false);
  });

  it('writes to stderr by default', () => {
    const reporter = new ConsoleReporter();
    expect((reporter as unknown as { stream: unknown }).stream).toBe(process.stderr);
  });

  it('fits reasons to the terminal width, moving them to their own line when the cell id is long', async () => {
    const report = makeRunReport();
    report.cells[0]!.reason = 'x'.repeat(300);
    const wide = new Capture(true, 100);
    await drive(new ConsoleReporter({ stream: wide, color: false }), report);
    const line = wide.text.split('\n').find((l) => l.startsWith('[1/5] PASSED'))!;
    expect(line).toHaveLength(100);
    expect(line.endsWith('x…')).toBe(true);

    const narrow = new Capture(true, 70);
    await drive(new ConsoleReporter({ stream: narrow, color: false }), report);
    const lines = narrow.text.split('\n');
    const at = lines.findIndex((l) => l.startsWith('[1/5] PASSED'));
    expect(lines[at]).toBe('[1/5] PASSED harvester-reboot-ipam-leak[harvester=v1.4.3] 4.3s');
    expect(lines[at + 1]).toMatch(/^ {7}x+…$/);
    expect(lines[at + 1]).toHaveLength(70 - 2);
  });
});
