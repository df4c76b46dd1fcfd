// junit.xml: one testsuite per scenario, one testcase per cell. A regression and an XPASS are
// failures, a harness error is an error, an expected failure (xfail) passes with its evidence in
// system-out, so CI dashboards show what reproduced without turning red.
import type { CellReport, RunReport } from '../model/report.ts';
import type { Reporter } from './types.ts';
import { evidenceText, expectedFailures, failedSteps, reportedAssertions, stackFacts, xpassMessage } from './format.ts';
import { resolveOutDir, writeReportFile } from './write-file.ts';

export interface JunitReporterOptions {
  /** Directory to write junit.xml to; defaults to the report's outDir. */
  outDir?: string;
}

// Characters XML 1.0 cannot carry even as references: most C0 controls, U+FFFE/U+FFFF, lone surrogates.
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Escapes text for XML content or a double-quoted attribute. CR (and in attributes LF and TAB) become
 * character references so parsers keep them; characters XML cannot represent become visible `\xNN`.
 */
export function escapeXml(text: string, context: 'text' | 'attr' = 'text'): string {
  return String(text)
    .replace(NOT_XML, (ch) => {
      const code = ch.charCodeAt(0);
      return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    })
    .replace(/[&<>"'\r\n\t\u007f-\u009f]/g, (ch) => {
      switch (ch) {
        case '&': return '&amp;';
        case '<': return '&lt;';
        case '>': return '&gt;';
        case '\r': return '&#13;';
        case '"': return context === 'attr' ? '&quot;' : ch;
        case "'": return context === 'attr' ? '&apos;' : ch;
        case '\n': return context === 'attr' ? '&#10;' : ch;
        case '\t': return context === 'attr' ? '&#9;' : ch;
        default: return `&#x${ch.charCodeAt(0).toString(16)};`;
      }
    });
}

function attrs(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v), 'attr')}"`)
    .join('');
}

const seconds = (ms: number): string => (Math.max(0, Number(ms) || 0) / 1000).toFixed(3);

// Evidence of the assertions that failed or could not be judged.
function assertionLines(cell: CellReport): string[] {
  return reportedAssertions(cell).flatMap((a) => evidenceText(a));
}

function expectationLine(cell: CellReport): string {
  const failing = cell.expected?.failing ?? [];
  const what = cell.expected?.outcome === 'fail' ? `fail${failing.length ? ` (${failing.join(', ')})` : ''}` : cell.expected?.outcome;
  return `expected: ${what}${cell.expected?.reason ? ` (${cell.expected.reason})` : ''}`;
}

// The <failure>/<error> element of a cell, or '' when it passes.
function problemElement(cell: CellReport): string {
  switch (cell.outcome) {
    case 'failed': {
      const body = [`FAILED: ${cell.reason}`, expectationLine(cell), '', ...assertionLines(cell)];
      return `      <failure${attrs({ message: `FAILED: ${cell.reason}`, type: 'failed' })}>${escapeXml(body.join('\n'))}</failure>\n`;
    }
    case 'xpass': {
      const message = xpassMessage(cell);
      const expected = new Set(cell.expected?.failing ?? []);
      const body = [
        message,
        expectationLine(cell),
        ...expectedFailures(cell).map((f) => `  ${f.name}: ${f.status} (expected fail)`),
        'The bug may be fixed (update the scenario\'s expect) or the scenario no longer reproduces it.',
        '',
        ...(cell.assertions ?? []).filter((a) => expected.has(a.name)).flatMap((a) => evidenceText(a)),
        ...reportedAssertions(cell).filter((a) => !expected.has(a.name)).flatMap((a) => evidenceText(a)),
      ];
      return `      <failure${attrs({ message, type: 'xpass' })}>${escapeXml(body.join('\n'))}</failure>\n`;
    }
    case 'error': {
      const message = cell.error?.message ?? cell.reason;
      const body = [
        `ERROR: ${cell.reason}`,
        ...(cell.error ? [`${cell.error.code}: ${cell.error.message}`] : []),
        ...failedSteps(cell),
        ...assertionLines(cell),
      ];
      return `      <error${attrs({ message, type: cell.error?.code ?? 'error' })}>${escapeXml(body.join('\n'))}</error>\n`;
    }
    default:
      return '';
  }
}

// system-out: what reproduced (xfail), warnings and the resolved stack.
function systemOut(cell: CellReport): string {
  const lines: string[] = [];
  if (cell.outcome === 'xfail') {
    lines.push(`XFAIL (expected bug reproduced): ${cell.reason}`, expectationLine(cell), '', ...assertionLines(cell));
  } else if (cell.outcome === 'passed' && reportedAssertions(cell).length) {
    lines.push(...assertionLines(cell));
  }
  if (cell.warnings?.length) lines.push(...(lines.length ? [''] : []), 'warnings:', ...cell.warnings.map((w) => `  - ${w}`));
  const stack = stackFacts(cell);
  if (stack.length) lines.push(...(lines.length ? [''] : []), 'stack:', ...stack.map(([k, v]) => `  ${k}: ${v}`));
  if (cell.artifacts?.length) lines.push('', 'artifacts:', ...cell.artifacts.map((a) => `  ${a}`));
  return lines.length ? `      <system-out>${escapeXml(lines.join('\n'))}</system-out>\n` : '';
}

function testcase(cell: CellReport): string {
  const head = `    <testcase${attrs({ name: cell.id, classname: cell.scenario, time: seconds(cell.durationMs), file: cell.scenarioFile })}`;
  const inner = problemElement(cell) + systemOut(cell);
  return inner ? `${head}>\n${inner}    </testcase>\n` : `${head}/>\n`;
}

const isFailure = (c: CellReport) => c.outcome === 'failed' || c.outcome === 'xpass';

/** The junit.xml document. */
export function renderJunit(report: RunReport): string {
  const byScenario = new Map<string, CellReport[]>();
  for (const cell of report.cells) {
    const list = byScenario.get(cell.scenario) ?? [];
    list.push(cell);
    byScenario.set(cell.scenario, list);
  }
  const count = (cells: CellReport[]) => ({
    tests: cells.length,
    failures: cells.filter(isFailure).length,
    errors: cells.filter((c) => c.outcome === 'error').length,
    skipped: 0,
    time: seconds(cells.reduce((t, c) => t + (Number(c.durationMs) || 0), 0)),
  });
  let xml = '<?xml version="1.0" encoding="UTF-8"?>\n';
  xml += `<testsuites${attrs({ name: `faultline ${report.runId}`, ...count(report.cells), time: seconds(report.durationMs), timestamp: report.startedAt })}>\n`;
  for (const [scenario, cells] of byScenario) {
    xml += `  <testsuite${attrs({ name: scenario, ...count(cells), timestamp: report.startedAt, hostname: report.host?.hostname, file: cells[0]?.scenarioFile })}>\n`;
    xml += '    <properties>\n';
    const props: [string, string | undefined][] = [
      ['runId', report.runId],
      ['faultlineVersion', report.faultlineVersion],
      ['kernel', report.host?.kernel],
    ];
    for (const [name, value] of props) if (value !== undefined) xml += `      <property${attrs({ name, value })}/>\n`;
    xml += '    </properties>\n';
    for (const cell of cells) xml += testcase(cell);
    xml += '  </testsuite>\n';
  }
  xml += '</testsuites>\n';
  return xml;
}

/** Writes `<outDir>/junit.xml`. */
export class JunitReporter implements Reporter {
  readonly name = 'junit';
  private readonly options: JunitReporterOptions;

  constructor(options: JunitReporterOptions = {}) {
    this.options = options;
  }

  async onRunEnd(report: RunReport): Promise<string> {
    return writeReportFile(resolveOutDir(this.options.outDir, report), 'junit.xml', renderJunit(report));
  }
}
