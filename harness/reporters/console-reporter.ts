// Progress on stderr while a run goes, and a closing table. Loud outcomes (FAILED, XPASS, ERROR) stand
// out with or without colour; text from nodes is made visible so it cannot drive the terminal.
import type { CellReport, Outcome, RunReport } from '../model/report.ts';
import type { Reporter } from './types.ts';
import { formatDuration, headline, isAsExpected, outcomeLabel, reportedAssertions, runAsExpected, visible } from './format.ts';

/** The part of a writable stream the console reporter uses. */
export interface ConsoleStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ConsoleReporterOptions {
  /** Where to write; default process.stderr. */
  stream?: ConsoleStream;
  /** ANSI colours; default: the stream is a TTY and neither NO_COLOR nor CI is set. */
  color?: boolean;
  /** Evidence items shown per failing assertion in the closing summary; default 3. */
  maxEvidence?: number;
}

/** The default colour decision: a terminal, and no NO_COLOR (https://no-color.org) or CI in the environment. */
export function defaultColor(stream: Pick<ConsoleStream, 'isTTY'>, env: NodeJS.ProcessEnv = process.env): boolean {
  const set = (v: string | undefined) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
  return Boolean(stream.isTTY) && !(env.NO_COLOR !== undefined && env.NO_COLOR !== '') && !set(env.CI);
}

const SGR = { bold: '1', dim: '2', inverse: '7', red: '31', green: '32', yellow: '33', magenta: '35', cyan: '36' } as const;
type Style = keyof typeof SGR;

const OUTCOME_STYLE: Record<Outcome, Style[]> = {
  passed: ['green'],
  xfail: ['cyan'],
  failed: ['bold', 'red'],
  xpass: ['bold', 'inverse', 'magenta'],
  error: ['bold', 'red'],
};

const LABEL_WIDTH = 6;

/** Writes progress and a closing summary to a terminal or a CI log. */
export class ConsoleReporter implements Reporter {
  readonly name = 'console';
  readonly color: boolean;
  private readonly stream: ConsoleStream;
  private readonly maxEvidence: number;
  private readonly position = new Map<string, number>();
  private total = 0;

  constructor(options: ConsoleReporterOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.color = options.color ?? defaultColor(this.stream);
    this.maxEvidence = options.maxEvidence ?? 3;
  }

  onRunStart(info: { runId: string; outDir: string; cells: { id: string }[] }): void {
    this.total = info.cells.length;
    info.cells.forEach((c, i) => this.position.set(c.id, i + 1));
    const noun = this.total === 1 ? 'cell' : 'cells';
    this.line(`${this.paint('faultline', 'bold')} run ${this.clean(info.runId)}: ${this.total} ${noun}, reports in ${this.clean(info.outDir)}`);
  }

  onCellStart(cell: { id: string }): void {
    this.line(`${this.counter(cell.id)} ${this.paint('START'.padEnd(LABEL_WIDTH), 'dim')} ${this.clean(cell.id)}`);
  }

  onProgress(cellId: string, message: string): void {
    this.line(this.paint(`${' '.repeat(this.counter(cellId).length)} ${''.padEnd(LABEL_WIDTH)} ${this.clean(cellId)}: ${this.clean(message)}`, 'dim'));
  }

  onCellEnd(cell: CellReport): void {
    const head = `${this.counter(cell.id)} ${this.label(cell.outcome)} ${this.clean(cell.id)} ${this.paint(formatDuration(cell.durationMs), 'dim')}`;
    const reason = this.clean(cell.reason);
    if (this.room(head) >= 20) {
      this.line(`${head}  ${this.fit(reason, head)}`);
    } else {
      // A long cell id leaves no room: the reason goes on its own, indented line.
      const indent = ' '.repeat(LABEL_WIDTH + 1);
      this.line(head);
      this.line(`${indent}${this.fit(reason, indent)}`);
    }
    if (cell.outcome === 'xpass') this.line(this.paint('       XPASS: expected failure did not happen: the bug is gone or the scenario no longer reproduces it', 'bold', 'magenta'));
  }

  onRunEnd(report: RunReport): void {
    const cells = report.cells;
    const out: string[] = [''];
    if (cells.length) {
      const idWidth = Math.min(70, Math.max(4, ...cells.map((c) => this.clean(c.id).length)));
      const durations = cells.map((c) => formatDuration(c.durationMs));
      const durWidth = Math.max(8, ...durations.map((d) => d.length));
      out.push(this.paint(`${'RESULT'.padEnd(LABEL_WIDTH)}  ${'CELL'.padEnd(idWidth)}  ${'DURATION'.padStart(durWidth)}  REASON`, 'bold'));
      cells.forEach((c, i) => {
        const head = `${this.label(c.outcome)}  ${this.clean(c.id).padEnd(idWidth)}  ${durations[i]!.padStart(durWidth)}`;
        out.push(`${head}  ${this.fit(this.clean(c.reason), head)}`);
      });
      const off = cells.filter((c) => !isAsExpected(c));
      for (const c of off) out.push('', ...this.details(c));
      out.push('');
    }
    const text = headline(report);
    out.push(runAsExpected(report) ? this.paint(text, 'bold', 'green') : this.paint(text, 'bold', 'red'));
    for (const l of out) this.line(l);
  }

  // Why a cell is not as expected: its failing or unknown assertions with the first evidence items.
  private details(cell: CellReport): string[] {
    const lines = [`${this.label(cell.outcome)} ${this.clean(cell.id)}`];
    if (cell.error) lines.push(`  ${this.clean(cell.error.code)}${cell.error.source ? ` (${this.clean(cell.error.source)} error)` : ''}: ${this.clean(cell.error.message)}`);
    for (const a of reportedAssertions(cell)) {
      lines.push(`  ${a.status.toUpperCase()} ${this.clean(a.name)}`);
      const evidence = a.evidence ?? [];
      for (const e of evidence.slice(0, this.maxEvidence)) {
        const where = [e.node, e.file, e.link].filter((v) => typeof v === 'string' && v).map((v) => this.clean(String(v)));
        lines.push(`    - ${this.clean(e.summary ?? '')}${where.length ? ` [${where.join(', ')}]` : ''}`);
        if (e.error) lines.push(`      ${this.paint(this.clean(String(e.error)), 'dim')}`);
      }
      if (evidence.length > this.maxEvidence) lines.push(`    … and ${evidence.length - this.maxEvidence} more`);
    }
    if (cell.outcome === 'xpass') {
      lines.push(`  expected to fail: ${(cell.expected?.failing ?? []).map((n) => this.clean(n)).join(', ') || '(any assertion)'}`);
    }
    return lines;
  }

  private counter(cellId: string): string {
    const width = String(this.total || 0).length;
    const pos = this.position.get(cellId);
    return `[${(pos === undefined ? '?' : String(pos)).padStart(width)}/${this.total || '?'}]`;
  }

  private label(outcome: Outcome): string {
    return this.paint(outcomeLabel(outcome).padEnd(LABEL_WIDTH), ...OUTCOME_STYLE[outcome]);
  }

  // Characters left on a terminal line after `head` and two spaces (120 when not on a terminal).
  private room(head: string): number {
    return this.stream.isTTY && this.stream.columns ? this.stream.columns - stripAnsi(head).length - 2 : 120;
  }

  // Shortens `text` to the room after `head`, keeping at least 20 characters.
  private fit(text: string, head: string): string {
    const room = Math.max(20, this.room(head));
    return text.length <= room ? text : `${text.slice(0, room - 1)}…`;
  }

  private clean(text: string): string {
    return visible(String(text ?? ''), { singleLine: true });
  }

  private paint(text: string, ...styles: Style[]): string {
    if (!this.color || styles.length === 0) return text;
    return `\u001b[${styles.map((s) => SGR[s]).join(';')}m${text}\u001b[0m`;
  }

  private line(text: string): void {
    this.stream.write(`${text}\n`);
  }
}

function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}
