// report.html: one self-contained page (no external assets). Per cell: an outcome badge, an inline SVG
// plot of host-local reservations against live attachments per node over the cell's observations,
// with step markers, then the assertions with their evidence.
import type { AssertionResult, Evidence } from '../model/verdict.ts';
import type { TimelineEntry } from '../model/timeline.ts';
import { replayObservations, stepNumber } from '../model/timeline.ts';
import type { CellReport, RunReport } from '../model/report.ts';
import type { Reporter } from './types.ts';
import {
  OUTCOMES, evidenceTable, expectedFailures, failedSteps, formatDuration, formatMatrix, headline, isAsExpected, outcomeLabel,
  runAsExpected, stackFacts, visible,
} from './format.ts';
import { resolveOutDir, writeReportFile } from './write-file.ts';

export interface HtmlReporterOptions {
  /** Directory to write report.html to; defaults to the report's outDir. */
  outDir?: string;
  /** Evidence items shown per assertion before "and N more"; default 50. */
  maxEvidence?: number;
}

/** Escapes text for HTML content and quoted attributes, with control characters made visible. */
export function escapeHtml(text: string, options: { singleLine?: boolean } = {}): string {
  return visible(String(text ?? ''), options).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

type Step = Extract<TimelineEntry, { kind: 'step' }>;

/** What the plot needs of one node at one observation. */
interface NodePoint {
  node: string;
  reservations: number;
  attachments: number;
  unreadable: number;
  running: boolean;
}

/** One observation (a full entry or a delta, replayed) reduced to counts per node. */
interface Observation {
  at: number;
  after: string;
  nodes: NodePoint[];
}

/** The cell's observations as counts, full entries and deltas alike. */
export function observationPoints(timeline: readonly TimelineEntry[]): Observation[] {
  const out: Observation[] = [];
  replayObservations(timeline, (_i, at, after, nodes) => {
    out.push({
      at,
      after,
      nodes: nodes.map((n) => ({
        node: n.node,
        reservations: n.reservations?.length ?? 0,
        attachments: n.attachments?.length ?? 0,
        unreadable: (n.reservations ?? []).filter((r) => r.unreadable).length,
        running: n.running !== false,
      })),
    });
  });
  return out;
}

/** Above this many observations the plot draws lines only (a churn observes after every operation). */
const MAX_MARKERS = 300;

const W = 720;
const H = 220;
const M = { left: 44, right: 14, top: 22, bottom: 30 };

// Round tick values covering 0..max, about `count` of them.
function ticks(max: number, count: number): number[] {
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + 1e-9; v += step) out.push(Number(v.toFixed(6)));
  return out;
}

/** Node names in the order they first appear in the observations. */
export function plotNodes(observations: readonly { nodes?: readonly { node: string }[] }[]): string[] {
  const names: string[] = [];
  for (const o of observations) for (const n of o.nodes ?? []) if (!names.includes(n.node)) names.push(n.node);
  return names;
}

/** The inline SVG plot of one cell's timeline. */
export function timelineSvg(cell: CellReport): string {
  const timeline = cell.timeline ?? [];
  const observations = observationPoints(timeline);
  const steps = timeline.filter((e): e is Step => e.kind === 'step');
  const label = `Host-local reservations and live attachments per node for ${cell.id}`;
  const open = `<svg class="plot" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(label, { singleLine: true })}">`;
  if (observations.length === 0) {
    return `${open}<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="empty">no observations recorded</text></svg>`;
  }
  const nodes = plotNodes(observations);
  const times = [...observations.map((o) => o.at), ...steps.map((s) => s.at)].filter(Number.isFinite);
  const t0 = Math.min(...times);
  const t1 = Math.max(...times, t0 + 1);
  let maxCount = 1;
  for (const o of observations) for (const n of o.nodes) maxCount = Math.max(maxCount, n.reservations, n.attachments);
  const yTicks = ticks(maxCount, 4);
  const yMax = Math.max(maxCount, yTicks[yTicks.length - 1] ?? maxCount);
  const x = (t: number) => M.left + ((t - t0) / (t1 - t0)) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  const f = (v: number) => v.toFixed(1);

  const parts: string[] = [open, `<title>${escapeHtml(label)}</title>`];
  // Axes and grid.
  for (const v of yTicks) {
    parts.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${f(y(v))}" y2="${f(y(v))}"/>`);
    parts.push(`<text class="tick" x="${M.left - 6}" y="${f(y(v) + 4)}" text-anchor="end">${v}</text>`);
  }
  for (const v of ticks(t1 - t0, 5)) {
    parts.push(`<text class="tick" x="${f(x(t0 + v))}" y="${H - M.bottom + 16}" text-anchor="middle">${escapeHtml(formatDuration(v))}</text>`);
  }
  parts.push(`<line class="axis" x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}"/>`);
  // Step markers.
  for (const s of steps) {
    const sx = f(x(s.at));
    const cls = s.result === 'error' ? 'step step-error' : 'step';
    const title = `step ${stepNumber(s)} ${s.step}: ${s.detail} (${s.result}${s.error ? `: ${s.error}` : ''}, ${formatDuration(s.durationMs)})`;
    parts.push(`<g class="${cls}"><title>${escapeHtml(title)}</title><line x1="${sx}" x2="${sx}" y1="${M.top}" y2="${H - M.bottom}"/><text x="${sx}" y="${M.top - 6}" text-anchor="middle">${escapeHtml(stepNumber(s))}</text></g>`);
  }
  // Invariants' first violations.
  for (const a of cell.assertions ?? []) {
    const entry = a.firstViolationAt === undefined ? undefined : timeline[a.firstViolationAt];
    if (!entry) continue;
    const vx = x(entry.at);
    const by = H - M.bottom;
    parts.push(`<path class="violation" d="M${f(vx)} ${by - 9} l5 9 h-10 z"><title>${escapeHtml(`${a.name} first violated here`)}</title></path>`);
  }
  // Series: solid = reservations, dashed = live attachments.
  nodes.forEach((node, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const series = (pick: (n: NodePoint) => number) =>
      observations.flatMap((o) => {
        const snap = o.nodes.find((n) => n.node === node);
        return snap ? [{ o, snap, v: pick(snap) }] : [];
      });
    const res = series((n) => n.reservations);
    const att = series((n) => n.attachments);
    const markers = observations.length <= MAX_MARKERS;
    const points = (s: typeof res) => s.map((p) => `${f(x(p.o.at))},${f(y(p.v))}`).join(' ');
    parts.push(`<g class="series" data-node="${escapeHtml(node)}" stroke="${color}" fill="${color}">`);
    parts.push(`<polyline class="reservations" fill="none" points="${points(res)}"/>`);
    parts.push(`<polyline class="attachments" fill="none" stroke-dasharray="5 4" points="${points(att)}"/>`);
    for (const p of markers ? res : []) {
      const unreadable = p.snap.unreadable;
      const title = `${node} after ${p.o.after}: ${p.v} reservations${unreadable ? ` (${unreadable} unreadable)` : ''}, ${p.snap.attachments} live attachments${p.snap.running === false ? ' (node down)' : ''}`;
      parts.push(`<circle r="3" cx="${f(x(p.o.at))}" cy="${f(y(p.v))}"><title>${escapeHtml(title)}</title></circle>`);
    }
    for (const p of markers ? att : []) parts.push(`<rect width="5" height="5" x="${f(x(p.o.at) - 2.5)}" y="${f(y(p.v) - 2.5)}" fill="#fff"/>`);
    parts.push('</g>');
  });
  parts.push('</svg>');
  return parts.join('');
}

function legend(cell: CellReport): string {
  const items = plotNodes(observationPoints(cell.timeline ?? [])).map(
    (n, i) => `<span class="swatch" style="background:${PALETTE[i % PALETTE.length]}"></span>${escapeHtml(n)}`,
  );
  if (!items.length) return '';
  return `<p class="legend">${items.join(' ')} · solid line: host-local reservations · dashed: live attachments · numbered lines: steps</p>`;
}

const badge = (outcome: CellReport['outcome']) => `<span class="badge o-${outcome}">${outcomeLabel(outcome)}</span>`;

// A value as inline code, or a block when it spans lines.
function codeValue(value: string): string {
  return value.includes('\n') ? `<pre>${escapeHtml(value)}</pre>` : `<code>${escapeHtml(value, { singleLine: true })}</code>`;
}

/** Evidence as one table (node | file or device | owner | detail), or a list when it names no things. */
function evidenceList(items: Evidence[], max: number): string {
  if (!items.length) return '';
  const { columns, rows } = evidenceTable(items.slice(0, max));
  const more = items.length > max ? `<p class="more">… and ${items.length - max} more (see report.json)</p>` : '';
  const blocks = rows.flatMap((r, i) => r.blocks.map(([k, v]) => `<p class="block-label">${escapeHtml(k)} of row ${i + 1}:</p><pre>${escapeHtml(v)}</pre>`)).join('');
  if (columns.length === 1) {
    return `<ul class="evidence">${rows.map((r) => `<li>${escapeHtml(r.cells.detail, { singleLine: true })}</li>`).join('')}</ul>${blocks}${more}`;
  }
  const cell = (r: (typeof rows)[number], c: (typeof columns)[number]) => {
    const v = r.cells[c];
    if (!v) return '<td></td>';
    if (c === 'node' || c === 'detail') return `<td>${escapeHtml(v, { singleLine: true })}</td>`;
    const title = c === 'owner' && r.ownerFull ? ` title="${escapeHtml(r.ownerFull, { singleLine: true })}"` : '';
    return `<td><code${title}>${escapeHtml(v, { singleLine: true })}</code></td>`;
  };
  const head = `<thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>`;
  const body = rows.map((r) => `<tr>${columns.map((c) => cell(r, c)).join('')}</tr>`).join('');
  return `<table class="evidence">${head}<tbody>${body}</tbody></table>${blocks}${more}`;
}

function assertionItem(a: AssertionResult, max: number): string {
  const n = a.evidence?.length ?? 0;
  const head = `<span class="status s-${a.status}">${a.status.toUpperCase()}</span> <code>${escapeHtml(a.name)}</code> <span class="phase">${a.phase === 'during' ? 'invariant' : 'end'}${n > 1 ? `, ${n} items` : ''}</span>`;
  const evidence = evidenceList(a.evidence ?? [], max);
  if (!evidence) return `<li>${head}</li>`;
  return a.status === 'pass' ? `<li><details><summary>${head}</summary>${evidence}</details></li>` : `<li>${head}${evidence}</li>`;
}

function stepsList(cell: CellReport): string {
  const steps = (cell.timeline ?? []).filter((e): e is Step => e.kind === 'step');
  if (!steps.length) return '';
  const li = steps.map(
    (s) => `<li class="${s.result === 'error' ? 'step-error' : ''}"><span class="muted">${escapeHtml(stepNumber(s))}</span> ${escapeHtml(s.step)}: ${escapeHtml(s.detail, { singleLine: true })} <span class="muted">${formatDuration(s.at)}, took ${formatDuration(s.durationMs)}${s.error ? `, error: ${escapeHtml(s.error, { singleLine: true })}` : ''}</span></li>`,
  );
  return `<details class="steps"><summary>Steps (${steps.length})</summary><ul class="details">${li.join('')}</ul></details>`;
}

function cellSection(cell: CellReport, index: number, max: number): string {
  const out: string[] = [`<section class="cell o-${cell.outcome}" id="cell-${index + 1}">`];
  out.push(`<h2>${badge(cell.outcome)} ${escapeHtml(cell.id)}</h2>`);
  if (cell.outcome === 'xpass') {
    out.push('<p class="banner">XPASS: expected failure did not happen. The bug may be fixed (update the scenario\'s expect) or the scenario no longer reproduces it.</p>');
  }
  const expected = cell.expected
    ? `${escapeHtml(cell.expected.outcome)}${cell.expected.failing?.length ? ` (${cell.expected.failing.map((n) => `<code>${escapeHtml(n)}</code>`).join(', ')})` : ''}${cell.expected.outcome === 'error' && cell.expected.error ? ` (${escapeHtml(cell.expected.error.source)} error matching <code>/${escapeHtml(cell.expected.error.match)}/</code>)` : ''}${cell.expected.reason ? `: ${escapeHtml(cell.expected.reason)}` : ''}`
    : 'unknown';
  out.push('<dl class="facts">');
  out.push(`<dt>Reason</dt><dd>${escapeHtml(cell.reason, { singleLine: true })}</dd>`);
  out.push(`<dt>Expected</dt><dd>${expected}${isAsExpected(cell) ? '' : ' <strong>(not as expected)</strong>'}</dd>`);
  out.push(`<dt>Matrix</dt><dd>${escapeHtml(formatMatrix(cell.matrix))}</dd>`);
  out.push(`<dt>Duration</dt><dd>${formatDuration(cell.durationMs)}, seed ${escapeHtml(String(cell.seed))}</dd>`);
  if (cell.error) out.push(`<dt>Error</dt><dd><code>${escapeHtml(cell.error.code)}</code>${cell.error.source ? ` (${escapeHtml(cell.error.source)} error)` : ''} ${codeValue(cell.error.message)}</dd>`);
  for (const s of failedSteps(cell)) out.push(`<dt>Failed</dt><dd>${codeValue(s)}</dd>`);
  if (cell.outcome === 'xpass') {
    for (const f of expectedFailures(cell)) out.push(`<dt>Expected to fail</dt><dd><code>${escapeHtml(f.name)}</code>, was ${escapeHtml(f.status)}</dd>`);
  }
  out.push('</dl>');
  out.push(timelineSvg(cell), legend(cell), stepsList(cell));
  const assertions = cell.assertions ?? [];
  const rank = { fail: 0, unknown: 1, pass: 2 } as const;
  const sorted = [...assertions].sort((a, b) => (rank[a.status] ?? 3) - (rank[b.status] ?? 3));
  out.push(`<h3>Assertions (${assertions.filter((a) => a.status === 'pass').length} of ${assertions.length} passed)</h3>`);
  if (sorted.length) out.push(`<ul class="assertions">${sorted.map((a) => assertionItem(a, max)).join('')}</ul>`);
  if (cell.warnings?.length) out.push(`<h3>Warnings</h3><ul class="warnings">${cell.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`);
  const stack = stackFacts(cell);
  if (stack.length) out.push(`<h3>Stack</h3><ul class="stack">${stack.map(([k, v]) => `<li>${escapeHtml(k)}: ${escapeHtml(v)}</li>`).join('')}</ul>`);
  if (cell.artifacts?.length) {
    out.push(`<h3>Artifacts</h3><ul>${cell.artifacts.map((a) => `<li><a href="${escapeHtml(encodeURI(a))}">${escapeHtml(a)}</a></li>`).join('')}</ul>`);
  }
  out.push('</section>');
  return out.join('\n');
}

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:980px;padding:16px;color:#1b1f24}
code,pre{font:12px ui-monospace,monospace;background:#f3f4f6;border-radius:3px;padding:0 3px}
pre{padding:6px;white-space:pre-wrap;overflow-wrap:anywhere}
.headline{font-size:17px;font-weight:600}.ok{color:#116329}.bad{color:#b42318}
table.cells{border-collapse:collapse;width:100%}table.cells td,table.cells th{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left}
.badge{display:inline-block;border-radius:3px;padding:1px 6px;font:600 12px system-ui;color:#fff}
.badge.o-passed{background:#1a7f37}.badge.o-xfail{background:#0969da}
.badge.o-failed,.badge.o-error{background:#cf222e}.badge.o-xpass{background:#8250df;font-size:14px;outline:3px solid #f0b400}
section.cell{border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;margin:18px 0}
section.o-failed,section.o-error{border-left:6px solid #cf222e}section.o-xpass{border:3px solid #8250df}
.banner{background:#fbefff;border:1px solid #8250df;padding:6px 10px;font-weight:600}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
svg.plot{max-width:100%;height:auto;background:#fff;border:1px solid #eee}
svg .grid{stroke:#eee}svg .axis{stroke:#888}svg .tick,svg .step text{font:10px system-ui;fill:#555}
svg .step line{stroke:#999;stroke-dasharray:2 3}svg .step-error line{stroke:#cf222e;stroke-dasharray:none}
svg .series polyline{stroke-width:2}svg .violation{fill:#cf222e}svg .empty{font:13px system-ui;fill:#888}
.legend{font-size:12px;color:#555}.swatch{display:inline-block;width:10px;height:10px;margin:0 3px 0 8px;border-radius:2px}
.status{font-weight:700}.s-fail{color:#cf222e}.s-unknown{color:#9a6700}.s-pass{color:#1a7f37}
.phase,.muted{color:#6e7781;font-size:12px}.step-error{color:#cf222e}ul.details{margin:0}
table.evidence{border-collapse:collapse;margin:4px 0 8px;font-size:13px}table.evidence th,table.evidence td{border:1px solid #d0d7de;padding:2px 6px;text-align:left;vertical-align:top}
table.evidence th{background:#f6f8fa;font-weight:600}table.evidence td:first-child{white-space:nowrap}table.evidence code{overflow-wrap:anywhere}.block-label,.more{margin:4px 0;font-size:12px;color:#57606a}
form.filter{margin:8px 0;font-size:13px}form.filter label{margin-right:10px;white-space:nowrap}
`;

/**
 * A checkbox per outcome of the run, with its count: unchecking one hides those cells, in the table
 * and their sections. Pure CSS (:has), so the page needs no script.
 */
function outcomeFilter(report: RunReport): string {
  const present = OUTCOMES.filter((o) => report.cells.some((c) => c.outcome === o));
  if (present.length < 2) return '';
  const boxes = present.map((o) => {
    const n = report.cells.filter((c) => c.outcome === o).length;
    return `<label><input type="checkbox" id="show-${o}" checked> ${badge(o)} ${n}</label>`;
  });
  return `<form class="filter" aria-label="Show cells by outcome" onsubmit="return false">Show: ${boxes.join(' ')}</form>`;
}

function filterCss(): string {
  return OUTCOMES.map((o) => `body:has(#show-${o}:not(:checked)) .o-${o}:is(tr.cell-row,section.cell){display:none}`).join('\n');
}

/** Where a merged or sharded report came from. */
function shardNote(report: RunReport): string {
  if (report.merged) {
    const m = report.merged;
    const shards = m.shards.map((x) => `${x.index}/${x.total}: ${x.cells} cells on ${escapeHtml(x.host?.hostname ?? '?')} in ${formatDuration(x.durationMs)}`).join('; ');
    const missing = (m.missing ?? []).map((x) => `<p class="banner">MISSING: shard ${x.index}/${m.shards[0]?.total ?? '?'} did not report; its ${x.cells.length} cell(s) are not in this report.</p>`).join('');
    return `<p class="muted">Merged from ${m.shards.length} shard(s) of run <code>${escapeHtml(m.runKey)}</code>${m.label ? ` (${escapeHtml(m.label)})` : ''}: ${shards}.</p>${missing}`;
  }
  if (report.shard) return `<p class="muted">Shard ${report.shard.index}/${report.shard.total} of run <code>${escapeHtml(report.shard.runKey)}</code>: ${report.cells.length} of ${report.shard.plan.length} cells.</p>`;
  return '';
}

/** The report.html document. */
export function renderHtml(report: RunReport, options: { maxEvidence?: number } = {}): string {
  const max = options.maxEvidence ?? 50;
  const ok = runAsExpected(report);
  const rows = report.cells.map(
    (c, i) => `<tr class="cell-row o-${c.outcome}"><td>${badge(c.outcome)}</td><td><a href="#cell-${i + 1}">${escapeHtml(c.scenario)}</a></td><td>${escapeHtml(formatMatrix(c.matrix))}</td><td>${formatDuration(c.durationMs)}</td><td>${escapeHtml(c.reason, { singleLine: true })}</td></tr>`,
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>faultline run ${escapeHtml(report.runId)}</title>
<style>${CSS}${filterCss()}</style>
</head>
<body>
<header>
<h1>faultline run ${escapeHtml(report.runId)}</h1>
<p class="headline ${ok ? 'ok' : 'bad'}">${escapeHtml(headline(report))}</p>
<p class="muted">Started ${escapeHtml(report.startedAt)}, took ${formatDuration(report.durationMs)}; faultline ${escapeHtml(report.faultlineVersion)} on ${escapeHtml(report.host?.hostname ?? '?')} (kernel ${escapeHtml(report.host?.kernel ?? '?')}, ${escapeHtml(String(report.host?.cores ?? '?'))} cores).</p>
${shardNote(report)}</header>
${outcomeFilter(report)}
${rows.length ? `<table class="cells"><thead><tr><th>Outcome</th><th>Scenario</th><th>Matrix</th><th>Duration</th><th>Reason</th></tr></thead><tbody>${rows.join('')}</tbody></table>` : '<p>No cells ran.</p>'}
${report.cells.map((c, i) => cellSection(c, i, max)).join('\n')}
</body>
</html>
`;
}

/** Writes `<outDir>/report.html`. */
export class HtmlReporter implements Reporter {
  readonly name = 'html';
  private readonly options: HtmlReporterOptions;

  constructor(options: HtmlReporterOptions = {}) {
    this.options = options;
  }

  async onRunEnd(report: RunReport): Promise<string> {
    const { maxEvidence } = this.options;
    const html = renderHtml(report, maxEvidence === undefined ? {} : { maxEvidence });
    return writeReportFile(resolveOutDir(this.options.outDir, report), 'report.html', html);
  }
}
