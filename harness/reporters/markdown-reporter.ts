// summary.md: a headline, a table of cells and, per cell, why it ended as it did with the evidence.
// Written to fit GitHub's job summary: appended to $GITHUB_STEP_SUMMARY when that is set.
import { appendFile, stat } from 'node:fs/promises';
import type { Evidence } from '../model/verdict.ts';
import type { CellReport, RunReport } from '../model/report.ts';
import type { Reporter } from './types.ts';
import {
  evidenceTable, expectedFailures, failedSteps, stepDetails, formatDuration, formatMatrix, headline, isAsExpected, isLoud,
  outcomeLabel, reportedAssertions, runtimeShort, stackFacts, visible,
} from './format.ts';
import { resolveOutDir, writeReportFile } from './write-file.ts';

export interface MarkdownReporterOptions {
  /** Directory to write summary.md to; defaults to the report's outDir. */
  outDir?: string;
  /** File to append the summary to; defaults to $GITHUB_STEP_SUMMARY; `false` never appends. */
  stepSummary?: string | false;
  /** Evidence items shown per assertion before "and N more"; default 20. */
  maxEvidence?: number;
}

/** GitHub does not show a step's summary above 1 MiB (its docs: "Adding a job summary"). */
export const GITHUB_STEP_SUMMARY_MAX_BYTES = 1024 * 1024;
/** What summary.md stays within: GitHub's limit with room for what else the step writes. */
export const STEP_SUMMARY_LIMIT_BYTES = 900 * 1024;

/** Escapes prose for Markdown (also inside table cells): no emphasis, links, HTML or cell breaks. */
export function mdText(text: string): string {
  return visible(String(text), { singleLine: true })
    .replace(/[\\`*_[\]|~#]/g, (ch) => `\\${ch}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** An inline code span that holds any text (backticks included) on one line. */
export function mdCode(text: string): string {
  const value = visible(String(text), { singleLine: true });
  if (value === '') return '_(empty)_';
  const longest = Math.max(0, ...(value.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = value.startsWith('`') || value.endsWith('`') || value.startsWith(' ') ? ' ' : '';
  return `${fence}${pad}${value}${pad}${fence}`;
}

// A fenced block indented under a list item, for multi-line values such as plugin stderr.
function mdBlock(text: string, indent: string): string[] {
  const value = visible(String(text)).replace(/\n$/, '');
  const longest = Math.max(0, ...(value.match(/`{3,}/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [`${indent}${fence}text`, ...value.split('\n').map((l) => `${indent}${l}`), `${indent}${fence}`];
}

/** The outcome as a plain marker: loud outcomes bold and upper-case. */
export function mdOutcome(cell: Pick<CellReport, 'outcome'>): string {
  return isLoud(cell.outcome) ? `**${outcomeLabel(cell.outcome)}**` : cell.outcome;
}

// A value inside a table cell: GitHub splits cells at a pipe even inside a code span.
const cellCode = (v: string) => (v === '' ? '' : mdCode(v).replace(/\|/g, '\\|'));

/** Evidence as one compact table (node | file or device | owner | detail), or a list when it names no things. */
function evidenceLines(items: Evidence[], max: number): string[] {
  const { columns, rows } = evidenceTable(items.slice(0, max));
  const lines: string[] = [];
  if (columns.length === 1) {
    for (const r of rows) lines.push(`- ${mdText(r.cells.detail)}`);
  } else {
    lines.push(`| ${columns.join(' | ')} |`, `| ${columns.map(() => '---').join(' | ')} |`);
    for (const r of rows) {
      const cells = columns.map((c) => (c === 'node' || c === 'detail' ? mdText(r.cells[c]) : cellCode(r.cells[c])));
      lines.push(`| ${cells.join(' | ')} |`);
    }
  }
  rows.forEach((r, i) => {
    for (const [key, value] of r.blocks) lines.push('', `${mdText(key)} of row ${i + 1}:`, '', ...mdBlock(value, ''));
  });
  if (items.length > max) lines.push('', `… and ${items.length - max} more (see report.html; all in report.json)`);
  return lines;
}

function expectedText(cell: CellReport): string {
  const e = cell.expected;
  if (!e) return 'unknown';
  const failing = e.outcome === 'fail' && e.failing?.length ? ` (${e.failing.map(mdCode).join(', ')})` : '';
  const error = e.outcome === 'error' && e.error ? ` (${mdText(e.error.source)} error matching ${mdCode(`/${e.error.match}/`)})` : '';
  return `${e.outcome}${failing}${error}${e.reason ? `: ${mdText(e.reason)}` : ''}`;
}

function cellSection(cell: CellReport, maxEvidence: number): string[] {
  const lines = [`### ${mdOutcome(cell)} ${mdText(cell.id)}`, ''];
  if (cell.outcome === 'xpass') {
    lines.push(
      '> **XPASS: expected failure did not happen.** The bug may be fixed (update the scenario\'s `expect`) or the scenario no longer reproduces it.',
      '',
    );
  }
  lines.push(`- **Reason:** ${mdText(cell.reason)}`);
  lines.push(`- **Expected:** ${expectedText(cell)}${isAsExpected(cell) ? '' : ' (not as expected)'}`);
  lines.push(`- **Matrix:** ${mdText(formatMatrix(cell.matrix))}; seed ${mdText(String(cell.seed))}; ${formatDuration(cell.durationMs)}`);
  if (cell.error) lines.push(`- **Error** (${mdText(cell.error.code)}${cell.error.source ? `, ${mdText(cell.error.source)} error` : ''}): ${mdCode(cell.error.message)}`);
  for (const step of failedSteps(cell)) lines.push(`- **Failed:** ${mdCode(step)}`);
  if (cell.outcome === 'xpass') {
    for (const f of expectedFailures(cell)) lines.push(`- Expected to fail: ${mdCode(f.name)}, was: **${mdText(f.status)}**`);
  }

  const steps = stepDetails(cell);
  if (steps.length) lines.push('', '**Steps:**', '', ...steps.map((st) => `- ${mdText(st)}`));

  const all = cell.assertions ?? [];
  const shown = reportedAssertions(cell);
  const passedCount = all.filter((a) => a.status === 'pass').length;
  lines.push('', `**Assertions:** ${passedCount} of ${all.length} passed.`);
  for (const a of shown) {
    const n = a.evidence?.length ?? 0;
    lines.push('', `**${a.status.toUpperCase()}** ${mdCode(a.name)} (${a.phase === 'during' ? 'invariant' : 'end'})${n > 1 ? `, ${n} items` : ''}${n ? ':' : ''}`);
    if (n) lines.push('', ...evidenceLines(a.evidence, maxEvidence));
  }
  if (cell.warnings?.length) {
    lines.push('', '**Warnings:**', '', ...cell.warnings.map((w) => `- ${mdText(w)}`));
  }
  const stack = stackFacts(cell);
  if (stack.length) lines.push('', '**Stack:**', '', ...stack.map(([k, v]) => `- ${k}: ${mdText(v)}`));
  if (cell.artifacts?.length) {
    const links = cell.artifacts.map((a) => `[${mdText(a)}](${encodeURI(a).replace(/[()]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)})`);
    lines.push('', `**Artifacts:** ${links.join(', ')}`);
  }
  lines.push('');
  return lines;
}

/** Above this many cells the table of all cells and the sections of cells as expected are folded. */
export const FOLD_ABOVE_CELLS = 30;

export interface RenderMarkdownOptions {
  /** Evidence rows per assertion before "and N more"; default 20. */
  maxEvidence?: number;
  /** Most bytes the document may have; default STEP_SUMMARY_LIMIT_BYTES. */
  limitBytes?: number;
}

function cellRow(c: CellReport): string {
  return `| ${mdText(c.scenario)} | ${mdText(formatMatrix(c.matrix))} | ${mdText(runtimeShort(c))} | ${mdOutcome(c)} | ${formatDuration(c.durationMs)} |`;
}

const TABLE_HEAD = ['| Scenario | Matrix | Runtime | Outcome | Duration |', '| --- | --- | --- | --- | ---: |'];

/** Where the parts left out are: the HTML and JSON beside this summary. */
function pointer(report: RunReport, what: string): string {
  return `_${what} to stay under GitHub's job-summary limit: report.html in ${mdText(report.outDir)} (the run's report artifact) shows every cell, report.json has everything._`;
}

/**
 * The summary document, at most `limitBytes` long: the headline; the cells not as expected; the table
 * of all cells (folded above FOLD_ABOVE_CELLS cells); then a section per cell, those not as expected
 * first, the others folded in large runs. What does not fit is left out, saying how much and where the
 * rest is (a 1000-cell run still fits GitHub's 1 MiB job summary).
 */
export function renderMarkdown(report: RunReport, options: RenderMarkdownOptions = {}): string {
  const maxEvidence = options.maxEvidence ?? 20;
  const limit = options.limitBytes ?? STEP_SUMMARY_LIMIT_BYTES;
  const head = [
    `## faultline run ${mdText(report.runId)}`,
    '',
    `**${mdText(headline(report))}**`,
    '',
    `Started ${mdText(report.startedAt)}, took ${formatDuration(report.durationMs)}; faultline ${mdText(report.faultlineVersion)} on ${mdText(report.host?.hostname ?? '?')} (kernel ${mdText(report.host?.kernel ?? '?')}).`,
    '',
  ];
  if (report.merged) {
    const m = report.merged;
    head.push(`Merged from ${m.shards.length} shard${m.shards.length === 1 ? '' : 's'} of run ${mdCode(m.runKey)}${m.label ? ` (${mdText(m.label)})` : ''}: ${m.shards.map((x) => `${x.index}/${x.total} ${x.cells} cells on ${mdText(x.host?.hostname ?? '?')} in ${formatDuration(x.durationMs)}`).join('; ')}.`, '');
    for (const x of m.missing ?? []) head.push(`> **MISSING: shard ${x.index}/${m.shards[0]?.total ?? '?'}** did not report; its ${x.cells.length} cell(s) are not in this summary.`, '');
  }
  if (report.shard) head.push(`Shard ${report.shard.index}/${report.shard.total} of run ${mdCode(report.shard.runKey)}: ${report.cells.length} of ${report.shard.plan.length} cells.`, '');

  const big = report.cells.length > FOLD_ABOVE_CELLS;
  const unexpected = report.cells.filter((c) => !isAsExpected(c));
  const expected = report.cells.filter((c) => isAsExpected(c));
  // Tables may be cut row by row (head, rows, tail); sections go whole or not at all.
  const blocks: { head: string[]; rows?: string[]; tail: string[] }[] = [];
  if (big && unexpected.length) blocks.push({ head: [`### Not as expected (${unexpected.length})`, '', ...TABLE_HEAD], rows: unexpected.map(cellRow), tail: [''] });
  if (report.cells.length) {
    blocks.push(big
      ? { head: [`<details><summary>All ${report.cells.length} cells</summary>`, '', ...TABLE_HEAD], rows: report.cells.map(cellRow), tail: ['', '</details>', ''] }
      : { head: TABLE_HEAD, rows: report.cells.map(cellRow), tail: [''] });
  }
  for (const c of unexpected) blocks.push({ head: cellSection(c, maxEvidence), tail: [] });
  for (const c of expected) {
    const sec = cellSection(c, maxEvidence);
    blocks.push({ head: big ? [`<details><summary>${mdOutcome(c)} ${mdText(c.id)}</summary>`, '', ...sec, '</details>', ''] : sec, tail: [] });
  }

  const size = (lines: readonly string[]) => lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
  // Room for the pointer that says what was left out.
  const reserve = Buffer.byteLength(pointer(report, `The table was cut after ${report.cells.length} rows; ${blocks.length} sections were left out`)) + 16;
  const out = [...head];
  let bytes = size(out);
  let cutRows = 0;
  let leftOut = 0;
  for (const b of blocks) {
    const whole = [...b.head, ...(b.rows ?? []), ...b.tail];
    if (!leftOut && bytes + size(whole) + reserve <= limit) {
      out.push(...whole);
      bytes += size(whole);
    } else if (!leftOut && b.rows && bytes + size(b.head) + size(b.tail) + reserve <= limit) {
      const rows: string[] = [];
      for (const r of b.rows) {
        if (bytes + size(b.head) + size(b.tail) + size(rows) + size([r]) + reserve > limit) break;
        rows.push(r);
      }
      out.push(...b.head, ...rows, ...b.tail);
      bytes += size(b.head) + size(rows) + size(b.tail);
      cutRows += b.rows.length - rows.length;
    } else {
      leftOut++;
    }
  }
  const notes = [
    ...(cutRows ? [`${cutRows} table row${cutRows === 1 ? ' was' : 's were'} cut`] : []),
    ...(leftOut ? [`${leftOut} section${leftOut === 1 ? ' was' : 's were'} left out`] : []),
  ];
  if (notes.length) out.push(pointer(report, notes.join(' and ').replace(/^./, (ch) => ch.toUpperCase())), '');
  return out.join('\n');
}

/** The summary within `limitBytes` (what renderMarkdown does with that limit). */
export function renderMarkdownWithin(report: RunReport, limitBytes: number, maxEvidence?: number): string {
  return renderMarkdown(report, { limitBytes, ...(maxEvidence === undefined ? {} : { maxEvidence }) });
}

/** Writes `<outDir>/summary.md` and appends it to the job summary file when there is one. */
export class MarkdownReporter implements Reporter {
  readonly name = 'markdown';
  private readonly options: MarkdownReporterOptions;

  constructor(options: MarkdownReporterOptions = {}) {
    this.options = options;
  }

  async onRunEnd(report: RunReport): Promise<string> {
    const { maxEvidence } = this.options;
    const text = renderMarkdown(report, maxEvidence === undefined ? {} : { maxEvidence });
    const written = await writeReportFile(resolveOutDir(this.options.outDir, report), 'summary.md', text);
    const target = this.options.stepSummary === undefined ? process.env.GITHUB_STEP_SUMMARY : this.options.stepSummary;
    if (target) {
      // The step's earlier output counts against the same limit.
      const existing = await stat(target).then((s) => s.size, () => 0);
      const room = Math.min(STEP_SUMMARY_LIMIT_BYTES, GITHUB_STEP_SUMMARY_MAX_BYTES - existing - 1024);
      const fitted = Buffer.byteLength(text) <= room ? text : room >= 4096 ? renderMarkdownWithin(report, room, maxEvidence) : `**${mdText(headline(report))}** (no room left in this step's summary: see summary.md in ${mdText(report.outDir)})\n`;
      await appendFile(target, (existing > 0 ? '\n' : '') + fitted, 'utf8');
    }
    return written;
  }
}
