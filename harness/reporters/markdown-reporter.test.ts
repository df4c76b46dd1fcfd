import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GITHUB_STEP_SUMMARY_MAX_BYTES, MarkdownReporter, STEP_SUMMARY_LIMIT_BYTES, mdCode, mdText, renderMarkdown, renderMarkdownWithin } from './markdown-reporter.ts';
import { LEAKED_FILE, LIBCNI_ERROR, ORPHAN_VETH, YIP_WARNING, leakedFiles, makeAsExpectedReport, makeRunReport, thousandCells } from '../../testing/reports.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'faultline-md-'));
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

// The text of one cell's section, from its heading to the next.
function section(md: string, id: string): string {
  const start = md.split('\n### ').find((s) => s.includes(mdText(id)));
  if (!start) throw new Error(`no section for ${id}`);
  return start;
}

describe('MarkdownReporter', () => {
  it('headlines a run that is not as expected and one that is', () => {
    const bad = renderMarkdown(makeRunReport());
    expect(bad).toContain('**3 of 5 cells NOT as expected (1 passed, 1 FAILED, 1 xfail, 1 XPASS, 1 ERROR).**');
    const good = renderMarkdown(makeAsExpectedReport());
    expect(good).toContain('**All 2 cells as expected (1 passed, 1 xfail).**');
    expect(good).not.toContain('NOT as expected');
  });

  it('has one table row per cell with scenario, matrix values, plain outcome marker and duration', () => {
    const md = renderMarkdown(makeRunReport());
    const table = md.slice(md.indexOf('| Scenario'), md.indexOf('\n\n', md.indexOf('| Scenario')));
    const rows = table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Scenario') && !l.startsWith('| ---'));
    expect(rows).toEqual([
      '| harvester-reboot-ipam-leak | harvester=v1.4.3 | libcni-1.1 (model) | passed | 4.3s |',
      '| harvester-reboot-ipam-leak | harvester=v1.4.2 | libcni-1.1 (model) | xfail | 4.4s |',
      '| harvester-reboot-ipam-leak | harvester=v1.4.1 | libcni-1.1 (model) | **XPASS** | 4.0s |',
      '| libcni-empty-cache-del | runtime=libcni-1.2, cni=1.1.1 | libcni-1.2 (model) | **FAILED** | 2.8s |',
      '| libcni-empty-cache-del | runtime=libcni-1.1, cni=1.1.1 | libcni-1.1 (model) | **ERROR** | 180ms |',
    ]);
    expect(md).not.toMatch(/\p{Extended_Pictographic}/u);
  });

  it('names a real runtime by its version and the libcni it was built with, in the table and the stack', () => {
    const report = makeRunReport();
    const c = report.cells[3]!;
    c.stack = { ...c.stack, runtime: 'containerd-1.6', containerd: { version: '1.6.20~ds1', libcni: '1.1.2', source: 'debian:bookworm containerd=1.6.20~ds1-1+deb12u3', sha256: { containerd: 'ab'.repeat(32) }, criApi: 'debian:sid golang-k8s-cri-api-dev=0.36.4-1' } };
    const md = renderMarkdown(report);
    // Markdown escapes the tilde of Debian's version (it would strike text through).
    expect(md).toContain('| libcni-empty-cache-del | runtime=libcni-1.2, cni=1.1.1 | containerd 1.6.20\\~ds1 (libcni 1.1.2) | **FAILED** | 2.8s |');
    expect(md).toContain('- runtime: containerd-1.6: containerd 1.6.20\\~ds1, libcni 1.1.2 (debian:bookworm containerd=1.6.20\\~ds1-1+deb12u3)');
  });

  it('shows failing and unknown assertions with their evidence as tables: node, file or device, owner, detail', () => {
    const md = renderMarkdown(makeRunReport());
    const xfail = section(md, 'harvester-reboot-ipam-leak[harvester=v1.4.2]');
    expect(xfail).toContain('**FAIL** `no-leaked-reservations` (end):\n\n| node | file or device | detail |\n| --- | --- | --- |\n');
    expect(xfail).toContain(`| node-1 | \`${LEAKED_FILE}\` | 10.52.1.5 reserved by container 9c1e4b2f0d8a, which has no live attachment |`);
    // A value over lines (the file's content) goes below the table.
    expect(xfail).toContain('content of row 1:\n\n```text\n9c1e4b2f0d8a4c6e8f1a3b5c7d9e0f21a2b4c6d8e0f1a3b5c7d9e1f2a3b4c5d6\\r\neth0\n```');
    const failed = section(md, 'libcni-empty-cache-del[runtime=libcni-1.2,cni=1.1.1]');
    expect(failed).toContain(`| node-1 | DEL of web-1-0 failed; error: ${mdText(LIBCNI_ERROR)} |`);
    expect(failed).toContain(`| node-1 | \`${ORPHAN_VETH}\` | has no peer in any pod namespace |`);
    expect(failed).toContain('**FAIL** `no-orphan-devices` (end), 2 items:');
    // Evidence that names no node, file or owner reads as a list.
    expect(failed).toContain("**UNKNOWN** `no-orphan-iptables-chains` (end):\n\n- iptables-save failed; error: exit status 4: iptables-save v1.8.9 (nf\\_tables): table \\`nat' is incompatible");
    expect(failed).not.toContain('`pods-ready`');
  });

  it("reads the Harvester cell's twelve leaked files as one table, one row per file", () => {
    const report = makeRunReport();
    const cell = report.cells[1]!;
    cell.assertions[0]!.evidence = leakedFiles(12);
    const xfail = section(renderMarkdown(report), cell.id);
    const table = xfail.slice(xfail.indexOf('| node | file or device | owner | detail |'));
    const rows = table.split('\n\n')[0]!.split('\n');
    expect(rows.slice(0, 2)).toEqual(['| node | file or device | owner | detail |', '| --- | --- | --- | --- |']);
    expect(rows).toHaveLength(14);
    expect(rows[2]).toBe('| node-1 | `/var/lib/cni/networks/k8s-pod-network/10.52.0.2` | `5f0c1a2b3c4d/eth0` | not a live attachment |');
    expect(xfail).toContain('**FAIL** `no-leaked-reservations` (end), 12 items:');
    expect(xfail).not.toMatch(/^\s*- (node|file|owner|ifName):/m);
  });

  it('keeps a pipe inside a table cell from splitting it', () => {
    const report = makeRunReport();
    report.cells[3]!.assertions[1]!.evidence = [{ summary: 'node-1: a|b is orphaned', node: 'node-1', link: 'a|b' }];
    expect(section(renderMarkdown(report), report.cells[3]!.id)).toContain('| node-1 | `a\\|b` | is orphaned |');
  });

  it('shows warnings, the stack with substitutions, and the reason', () => {
    const xfail = section(renderMarkdown(makeRunReport()), 'harvester-reboot-ipam-leak[harvester=v1.4.2]');
    expect(xfail).toContain(`**Warnings:**\n\n- ${mdText(YIP_WARNING)}`);
    expect(xfail).toContain('- profile: harvester-v1.4.2');
    expect(xfail).toContain('- substitution: calico → bridge: calico binaries are not packaged here');
    expect(xfail).toContain('- **Reason:** expected failure reproduced: no-leaked-reservations');
  });

  it('says loudly what an XPASS means, and what an error was', () => {
    const md = renderMarkdown(makeRunReport());
    const xpass = section(md, 'harvester-reboot-ipam-leak[harvester=v1.4.1]');
    expect(xpass.startsWith('**XPASS** ')).toBe(true);
    expect(xpass).toContain('> **XPASS: expected failure did not happen.**');
    expect(xpass).toContain('- Expected to fail: `no-leaked-reservations`, was: **pass**');
    const error = section(md, 'libcni-empty-cache-del[runtime=libcni-1.1,cni=1.1.1]');
    expect(error).toContain('- **Error** (environment): `creating namespaces for node-2: unshare: operation not permitted`');
  });

  it('cannot be broken by evidence text: markup is escaped, control characters shown', () => {
    const md = renderMarkdown(makeRunReport());
    expect(md).toContain('cache file &lt;empty&gt; &amp; "unparsable"');
    expect(md).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    expect(md).toContain('stderr of row 2:\n\n```text\nbridge: \\x1b[2Jcleared\\0 | `tick` *bold* [x](y)\nsecond line\n```');
    expect(mdText('a|b *c* [d](e) <f> _g_ #1')).toBe('a\\|b \\*c\\* \\[d\\](e) &lt;f&gt; \\_g\\_ \\#1');
    expect(mdCode('has `ticks`')).toBe('`` has `ticks` ``'); // CommonMark strips one space on each side
    expect(mdCode('')).toBe('_(empty)_');
  });

  it('writes summary.md and appends to $GITHUB_STEP_SUMMARY, keeping what was there', async () => {
    const stepSummary = path.join(dir, 'step-summary.md');
    await writeFile(stepSummary, '## build\n\nok\n');
    vi.stubEnv('GITHUB_STEP_SUMMARY', stepSummary);
    const report = makeRunReport();
    const written = await new MarkdownReporter({ outDir: path.join(dir, 'out') }).onRunEnd(report);
    expect(written).toBe(path.join(dir, 'out', 'summary.md'));
    const summary = await readFile(written, 'utf8');
    expect(summary).toBe(renderMarkdown(report));
    expect(await readFile(stepSummary, 'utf8')).toBe(`## build\n\nok\n\n${summary}`);
  });

  it('does not touch a job summary when none is set or when told not to', async () => {
    vi.stubEnv('GITHUB_STEP_SUMMARY', '');
    await new MarkdownReporter({ outDir: dir }).onRunEnd(makeRunReport());
    const stepSummary = path.join(dir, 'step.md');
    vi.stubEnv('GITHUB_STEP_SUMMARY', stepSummary);
    await new MarkdownReporter({ outDir: dir, stepSummary: false }).onRunEnd(makeRunReport());
    await expect(readFile(stepSummary, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('shortens what goes to a size-limited job summary, unexpected cells first to go last', () => {
    const report = makeRunReport();
    const full = renderMarkdown(report);
    const limit = Buffer.byteLength(full) - 1;
    const shorter = renderMarkdownWithin(report, limit);
    expect(Buffer.byteLength(shorter)).toBeLessThanOrEqual(limit);
    expect(shorter).toContain('### **XPASS** ');
    expect(shorter).not.toContain('### xfail ');
    expect(shorter).toMatch(/_\d+ sections? (was|were) left out to stay under GitHub's job-summary limit: report\.html in reports\/fl-20250101-120000-ab12 \(the run's report artifact\) shows every cell/);
    const tableOnly = renderMarkdownWithin(report, 1300);
    expect(Buffer.byteLength(tableOnly)).toBeLessThanOrEqual(1300);
    expect(tableOnly).not.toContain('### ');
    expect(tableOnly).toContain('| **XPASS** |');
    expect(renderMarkdownWithin(report, 10 * Buffer.byteLength(full))).toBe(full);
  });

  it("keeps a 1000-cell run under GitHub's step-summary limit: unexpected cells listed first, the rest folded, a pointer to the HTML", () => {
    const report = thousandCells();
    const md = renderMarkdown(report);
    const bytes = Buffer.byteLength(md);
    expect(bytes).toBeLessThanOrEqual(STEP_SUMMARY_LIMIT_BYTES);
    expect(STEP_SUMMARY_LIMIT_BYTES).toBeLessThan(GITHUB_STEP_SUMMARY_MAX_BYTES);
    expect(md).toContain('**100 of 1000 cells NOT as expected');
    // Every cell that is not as expected is named in the table at the top.
    const top = md.slice(md.indexOf('### Not as expected (100)'), md.indexOf('<details><summary>All 1000 cells</summary>'));
    expect(top.split('\n').filter((l) => l.includes('| **FAILED** |'))).toHaveLength(100);
    expect(md).toContain('<details><summary>All 1000 cells</summary>');
    expect(md).toMatch(/<details><summary>xfail leak\\\[i=\d+\\\]<\/summary>/);
    expect(md).toMatch(/sections? (was|were) left out to stay under GitHub's job-summary limit: report\.html in /);
    // What fits comes whole: every <details> is closed.
    expect(md.split('<details>').length).toBe(md.split('</details>').length);
  });

  it('cuts an oversized table row by row and says so', () => {
    const md = renderMarkdown(thousandCells(), { limitBytes: 40_000 });
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(40_000);
    expect(md).toMatch(/_\d+ table rows were cut and \d+ sections were left out to stay under GitHub's job-summary limit/);
    expect(md.split('<details>').length).toBe(md.split('</details>').length);
  });

  it('fits the step summary into what the step has left, and says where the rest is when nothing fits', async () => {
    const stepSummary = path.join(dir, 'step.md');
    await writeFile(stepSummary, 'x'.repeat(GITHUB_STEP_SUMMARY_MAX_BYTES - 200_000));
    vi.stubEnv('GITHUB_STEP_SUMMARY', stepSummary);
    await new MarkdownReporter({ outDir: dir }).onRunEnd(thousandCells());
    expect((await readFile(stepSummary)).length).toBeLessThanOrEqual(GITHUB_STEP_SUMMARY_MAX_BYTES);
    await writeFile(stepSummary, 'x'.repeat(GITHUB_STEP_SUMMARY_MAX_BYTES - 2000));
    await new MarkdownReporter({ outDir: dir }).onRunEnd(thousandCells());
    const text = await readFile(stepSummary, 'utf8');
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(GITHUB_STEP_SUMMARY_MAX_BYTES);
    expect(text).toContain("**100 of 1000 cells NOT as expected");
    expect(text).toContain("(no room left in this step's summary: see summary.md in ");
  });

  it('caps evidence per assertion and says how much is left out', () => {
    const report = makeRunReport();
    const failing = report.cells[3]!.assertions[1]!;
    failing.evidence = Array.from({ length: 30 }, (_, i) => ({ summary: `node-1: veth${i.toString(16).padStart(8, '0')} orphaned`, link: `veth${i}` }));
    const md = renderMarkdown(report, { maxEvidence: 5 });
    expect(md).toContain('veth00000004 orphaned');
    expect(md).not.toContain('veth00000005 orphaned');
    expect(md).toContain('… and 25 more (see report.html; all in report.json)');
  });

  it('lists every step with what it did, in order', () => {
    const md = renderMarkdown(makeRunReport());
    expect(md).toContain('**Steps:**');
    const i = md.indexOf('- step 1 workload: start 4 pods per node');
    expect(i).toBeGreaterThan(0);
    expect(md.indexOf('- step 2 hard-reboot: node-1', i)).toBeGreaterThan(i);
  });
});
