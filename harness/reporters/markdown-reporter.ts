// summary.md: a headline, a table of cells and, per cell, why it ended as it did with the evidence.
// Written to fit GitHub's job summary: appended to $GITHUB_STEP_SUMMARY when that is set.
import { appendFile, stat } from 'node:fs/promises';
import type { Evidence } from '../model/verdict.ts';
import type { CellReport, RunReport } from '../model/report.ts';
import type { Reporter } from './types.ts';
import {
  evidenceDetails, expectedFailures, failedSteps, stepDetails, formatDuration, formatMatrix, headline, isAsExpected, isLoud,
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

/** GitHub refuses job summaries above 1 MiB; stay below with room for other steps' output. */
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

function evidenceLines(items: Evidence[], max: number, indent: string): string[] {
  const lines: string[] = [];
  for (const e of items.slice(0, max)) {
    lines.push(`${indent}- ${mdText(e.summary ?? '')}`);
    for (const [key, value] of evidenceDetails(e)) {
      if (value.includes('\n')) lines.push(`${indent}  - ${key}:`, ...mdBlock(value, `${indent}    `));
      else lines.push(`${indent}  - ${key}: ${mdCode(value)}`);
    }
  }
  if (items.length > max) lines.push(`${indent}- … and ${items.length - max} more (see report.json)`);
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
  if (shown.length) lines.push('');
  for (const a of shown) {
    lines.push(`- **${a.status.toUpperCase()}** ${mdCode(a.name)} (${a.phase === 'during' ? 'invariant' : 'end'})`);
    lines.push(...evidenceLines(a.evidence ?? [], maxEvidence, '  '));
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

/**
 * The summary document. `compact` leaves out the sections of cells that ended as expected (and, when
 * even that is too long, every section), for size-limited destinations.
 */
export function renderMarkdown(report: RunReport, options: { maxEvidence?: number; detail?: 'all' | 'unexpected' | 'none' } = {}): string {
  const maxEvidence = options.maxEvidence ?? 20;
  const detail = options.detail ?? 'all';
  const lines = [
    `## faultline run ${mdText(report.runId)}`,
    '',
    `**${mdText(headline(report))}**`,
    '',
    `Started ${mdText(report.startedAt)}, took ${formatDuration(report.durationMs)}; faultline ${mdText(report.faultlineVersion)} on ${mdText(report.host?.hostname ?? '?')} (kernel ${mdText(report.host?.kernel ?? '?')}).`,
    '',
  ];
  if (report.cells.length) {
    lines.push('| Scenario | Matrix | Runtime | Outcome | Duration |', '| --- | --- | --- | --- | ---: |');
    for (const c of report.cells) {
      lines.push(`| ${mdText(c.scenario)} | ${mdText(formatMatrix(c.matrix))} | ${mdText(runtimeShort(c))} | ${mdOutcome(c)} | ${formatDuration(c.durationMs)} |`);
    }
    lines.push('');
  }
  const sections = detail === 'none' ? [] : detail === 'unexpected' ? report.cells.filter((c) => !isAsExpected(c)) : report.cells;
  for (const cell of sections) lines.push(...cellSection(cell, maxEvidence));
  if (detail !== 'all') lines.push(`_Shortened to fit the job summary; the full summary is summary.md in ${mdText(report.outDir)}._`, '');
  return lines.join('\n');
}

/** The longest rendering that fits `limitBytes`. */
export function renderMarkdownWithin(report: RunReport, limitBytes: number, maxEvidence?: number): string {
  for (const detail of ['all', 'unexpected', 'none'] as const) {
    const text = renderMarkdown(report, { detail, ...(maxEvidence === undefined ? {} : { maxEvidence }) });
    if (Buffer.byteLength(text) <= limitBytes || detail === 'none') return text;
  }
  throw new Error('unreachable');
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
      const existing = await stat(target).then((s) => s.size, () => 0);
      const fitted = Buffer.byteLength(text) <= STEP_SUMMARY_LIMIT_BYTES ? text : renderMarkdownWithin(report, STEP_SUMMARY_LIMIT_BYTES, maxEvidence);
      await appendFile(target, (existing > 0 ? '\n' : '') + fitted, 'utf8');
    }
    return written;
  }
}
