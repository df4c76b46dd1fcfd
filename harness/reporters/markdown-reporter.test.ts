import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MarkdownReporter, mdCode, mdText, renderMarkdown, renderMarkdownWithin } from './markdown-reporter.ts';
import { LEAKED_FILE, LIBCNI_ERROR, ORPHAN_VETH, YIP_WARNING, makeAsExpectedReport, makeRunReport } from '../../testing/reports.ts';

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
    const rows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Scenario') && !l.startsWith('| ---'));
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

  it('shows failing and unknown assertions with their evidence: files, links, error strings', () => {
    const md = renderMarkdown(makeRunReport());
    const xfail = section(md, 'harvester-reboot-ipam-leak[harvester=v1.4.2]');
    expect(xfail).toContain('- **FAIL** `no-leaked-reservations` (end)');
    expect(xfail).toContain(`    - file: \`${LEAKED_FILE}\``);
    expect(xfail).toContain('9c1e4b2f0d8a4c6e8f1a3b5c7d9e0f21a2b4c6d8e0f1a3b5c7d9e1f2a3b4c5d6\\r\n      eth0');
    const failed = section(md, 'libcni-empty-cache-del[runtime=libcni-1.2,cni=1.1.1]');
    expect(failed).toContain(`    - error: \`${LIBCNI_ERROR}\``);
    expect(failed).toContain(`    - link: \`${ORPHAN_VETH}\``);
    expect(failed).toContain('- **UNKNOWN** `no-orphan-iptables-chains` (end)');
    expect(failed).toContain("``exit status 4: iptables-save v1.8.9 (nf_tables): table `nat' is incompatible``");
    expect(failed).not.toContain('`pods-ready`');
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
    expect(md).toContain('bridge: \\x1b[2Jcleared\\0 | `tick` *bold* [x](y)\n      second line');
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
    const unexpectedOnly = renderMarkdownWithin(report, Buffer.byteLength(full) - 1);
    expect(Buffer.byteLength(unexpectedOnly)).toBeLessThan(Buffer.byteLength(full));
    expect(unexpectedOnly).toContain('### **XPASS** ');
    expect(unexpectedOnly).not.toContain('### passed ');
    expect(unexpectedOnly).toContain('_Shortened to fit the job summary');
    const tableOnly = renderMarkdownWithin(report, 100);
    expect(tableOnly).not.toContain('### ');
    expect(tableOnly).toContain('| **XPASS** |');
    expect(renderMarkdownWithin(report, 10 * Buffer.byteLength(full))).toBe(full);
  });

  it('caps evidence per assertion and says how much is left out', () => {
    const report = makeRunReport();
    const failing = report.cells[3]!.assertions[1]!;
    failing.evidence = Array.from({ length: 30 }, (_, i) => ({ summary: `node-1: veth${i.toString(16).padStart(8, '0')} orphaned`, link: `veth${i}` }));
    const md = renderMarkdown(report, { maxEvidence: 5 });
    expect(md).toContain('veth00000004 orphaned');
    expect(md).not.toContain('veth00000005 orphaned');
    expect(md).toContain('- … and 25 more (see report.json)');
  });

  it('lists every step with what it did, in order', () => {
    const md = renderMarkdown(makeRunReport());
    expect(md).toContain('**Steps:**');
    const i = md.indexOf('- step 1 workload: start 4 pods per node');
    expect(i).toBeGreaterThan(0);
    expect(md.indexOf('- step 2 hard-reboot: node-1', i)).toBeGreaterThan(i);
  });
});
