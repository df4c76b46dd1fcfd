import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HtmlReporter, escapeHtml, renderHtml, timelineSvg } from './html-reporter.ts';
import { LEAKED_FILE, LIBCNI_ERROR, ORPHAN_VETH, YIP_WARNING, leakedFiles, makeRunReport } from '../../testing/reports.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'faultline-html-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;
const cellHtml = (html: string, n: number) => html.slice(html.indexOf(`id="cell-${n}"`), html.indexOf('</section>', html.indexOf(`id="cell-${n}"`)));

describe('HtmlReporter', () => {
  it('writes report.html with one section and one inline <svg> per cell', async () => {
    const report = makeRunReport();
    const written = await new HtmlReporter({ outDir: dir }).onRunEnd(report);
    expect(written).toBe(path.join(dir, 'report.html'));
    const html = await readFile(written, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(count(html, /<section class="cell /g)).toBe(5);
    expect(count(html, /<svg /g)).toBe(5);
    expect(count(html, /<\/svg>/g)).toBe(5);
    for (let i = 1; i <= 5; i++) expect(count(cellHtml(html, i), /<svg /g)).toBe(1);
  });

  it('is self-contained: no scripts, stylesheets, images or fonts from elsewhere', () => {
    const html = renderHtml(makeRunReport());
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
  });

  it('plots reservations and attachments per node over the observations, with a marker per step', () => {
    const cell = makeRunReport().cells[1]!; // xfail: 2 nodes, 3 observations, 4 steps, node-1 leaks
    const svg = timelineSvg(cell);
    expect(count(svg, /<polyline class="reservations"/g)).toBe(2);
    expect(count(svg, /<polyline class="attachments"/g)).toBe(2);
    const points = [...svg.matchAll(/class="reservations" fill="none" points="([^"]*)"/g)].map((m) => m[1]!.split(' ').length);
    expect(points).toEqual([3, 3]);
    expect(count(svg, /<g class="step( step-error)?">/g)).toBe(4);
    // The fixture's second step (index 1) is step 2: numbers are 1-based everywhere.
    expect(svg).toContain('<title>step 2 hard-reboot: node-1 (ok, 120ms)</title>');
    expect(svg).toContain('node-1 after step 3: 8 reservations, 4 live attachments');
    expect(svg).toContain('node-1 after step 1: 4 reservations, 0 live attachments (node down)');
    expect(svg).toContain('reservations-match-attachments first violated here');
  });

  it('draws higher counts higher', () => {
    const svg = timelineSvg(makeRunReport().cells[1]!);
    const node1 = svg.slice(svg.indexOf('data-node="node-1"'), svg.indexOf('data-node="node-2"'));
    const ys = node1.match(/class="reservations" fill="none" points="([^"]*)"/)![1]!.split(' ').map((p) => Number(p.split(',')[1]));
    expect(ys[2]).toBeLessThan(ys[0]!); // 8 reservations after the reboot sit above the 4 before
  });

  it('marks failed steps and shows a placeholder plot for a cell without observations', () => {
    const report = makeRunReport();
    expect(timelineSvg(report.cells[3]!)).toContain('<g class="step step-error">');
    expect(timelineSvg(report.cells[4]!)).toContain('no observations recorded');
  });

  it('shows outcome badges, assertions with evidence, warnings and the stack', () => {
    const html = renderHtml(makeRunReport());
    expect(html).toContain('<span class="badge o-xpass">XPASS</span>');
    expect(cellHtml(html, 3)).toContain('<p class="banner">XPASS: expected failure did not happen.');
    const xfail = cellHtml(html, 2);
    expect(xfail).toContain(`<code>${LEAKED_FILE}</code>`);
    expect(xfail).toContain(escapeHtml(YIP_WARNING));
    expect(xfail).toContain('calico → bridge: ');
    const failed = cellHtml(html, 4);
    expect(failed).toContain(`<td>DEL of web-1-0 failed; error: ${escapeHtml(LIBCNI_ERROR)}</td>`);
    expect(failed).toContain(`<code>${ORPHAN_VETH}</code>`);
    expect(failed).toContain('<span class="status s-unknown">UNKNOWN</span>');
    expect(cellHtml(html, 5)).toContain('creating namespaces for node-2: unshare: operation not permitted');
  });

  it('escapes evidence and shows control characters', () => {
    const html = renderHtml(makeRunReport());
    expect(html).toContain('cache file &#60;empty&#62; &#38; &#34;unparsable&#34;');
    expect(html).not.toContain('<empty>');
    expect(html).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    expect(html).toContain('\\x1b[2Jcleared');
    expect(escapeHtml('<a href="x">&\'\r')).toBe('&#60;a href=&#34;x&#34;&#62;&#38;&#39;\\r');
  });

  it("reads the Harvester cell's twelve leaked files as one table: node, file, owner, detail", () => {
    const report = makeRunReport();
    report.cells[1]!.assertions[0]!.evidence = leakedFiles(12);
    const xfail = cellHtml(renderHtml(report), 2);
    const tables = xfail.match(/<table class="evidence">.*?<\/table>/g) ?? [];
    expect(tables).toHaveLength(1);
    expect(tables[0]).toContain('<thead><tr><th>node</th><th>file or device</th><th>owner</th><th>detail</th></tr></thead>');
    expect(tables[0]!.match(/<tr>/g)).toHaveLength(13);
    expect(tables[0]).toContain(`<tr><td>node-1</td><td><code>/var/lib/cni/networks/k8s-pod-network/10.52.0.2</code></td><td><code title="5f0c1a2b3c4d${'e'.repeat(52)}">5f0c1a2b3c4d/eth0</code></td><td>not a live attachment</td></tr>`);
    expect(xfail).toContain('<span class="phase">end, 12 items</span>');
  });

  it('filters cells by outcome: one checkbox per outcome present, hiding its rows and sections', () => {
    const html = renderHtml(makeRunReport());
    for (const o of ['passed', 'failed', 'xfail', 'xpass', 'error']) {
      expect(html).toContain(`<label><input type="checkbox" id="show-${o}" checked> <span class="badge o-${o}">${o.toUpperCase()}</span> 1</label>`);
      expect(html).toContain(`body:has(#show-${o}:not(:checked)) .o-${o}:is(tr.cell-row,section.cell){display:none}`);
      expect(html).toContain(`<tr class="cell-row o-${o}">`);
      expect(html).toContain(`<section class="cell o-${o}"`);
    }
    const one = makeRunReport();
    one.cells = one.cells.filter((c) => c.outcome === 'passed');
    expect(renderHtml(one)).not.toContain('class="filter"');
  });
});
