// Wording and small text helpers every reporter shares, so a cell reads the same in each document.
import type { AssertionResult, Evidence } from '../model/verdict.ts';
import type { CellReport, Outcome, RunReport } from '../model/report.ts';
import { stepNumber } from '../model/timeline.ts';

export { stepNumber };

export const OUTCOMES: readonly Outcome[] = ['passed', 'failed', 'xfail', 'xpass', 'error'];

/** Upper-case marker of an outcome, the same in every document. */
export function outcomeLabel(outcome: Outcome): string {
  return outcome.toUpperCase();
}

/** Outcomes a reader must not miss: regressions, vanished bugs, broken harness. */
export function isLoud(outcome: Outcome): boolean {
  return outcome === 'failed' || outcome === 'xpass' || outcome === 'error';
}

/**
 * Whether a cell's outcome is what its scenario expected: the runner's `asExpected`, or for reports
 * without it, passed and xfail, and an error only where the scenario expected one.
 */
export function isAsExpected(cell: Pick<CellReport, 'outcome' | 'expected'> & { asExpected?: boolean }): boolean {
  if (typeof cell.asExpected === 'boolean') return cell.asExpected;
  switch (cell.outcome) {
    case 'passed':
    case 'xfail':
      return true;
    case 'error':
      return cell.expected?.outcome === 'error';
    default:
      return false;
  }
}

/** Counts per outcome, taken from the cells themselves. */
export function tally(cells: readonly CellReport[]): Record<Outcome, number> & { total: number } {
  const counts = { passed: 0, failed: 0, xfail: 0, xpass: 0, error: 0, total: cells.length };
  for (const c of cells) counts[c.outcome] += 1;
  return counts;
}

/** The run is as expected only when the runner says so and no cell contradicts it. */
export function runAsExpected(report: RunReport): boolean {
  return report.summary.asExpected && report.cells.every(isAsExpected);
}

/** "3 passed, 1 xfail, 1 XPASS": zero counts left out, loud outcomes upper-case. */
export function formatCounts(counts: Record<Outcome, number>): string {
  const parts = OUTCOMES.filter((o) => counts[o] > 0).map((o) => `${counts[o]} ${isLoud(o) ? outcomeLabel(o) : o}`);
  return parts.length ? parts.join(', ') : 'no cells';
}

/** One-line headline of a run. */
export function headline(report: RunReport): string {
  const counts = tally(report.cells);
  if (counts.total === 0) return 'No cells ran.';
  const noun = counts.total === 1 ? 'cell' : 'cells';
  // An error the scenario expects (an incompatible stack) is counted apart from real errors.
  const expectedErrors = report.cells.filter((c) => c.outcome === 'error' && isAsExpected(c)).length;
  const shown = formatCounts({ ...counts, error: counts.error - expectedErrors }) + (expectedErrors ? `, ${expectedErrors} expected error${expectedErrors === 1 ? '' : 's'}` : '');
  const text = shown.startsWith('no cells, ') ? shown.slice('no cells, '.length) : shown;
  if (runAsExpected(report)) return `All ${counts.total} ${noun} as expected (${text}).`;
  const off = report.cells.filter((c) => !isAsExpected(c)).length;
  return `${off} of ${counts.total} ${noun} NOT as expected (${text}).`;
}

/** "harvester=v1.4.2, cni=1.1.1" in the scenario's dimension order. */
export function formatMatrix(matrix: Record<string, string>): string {
  const entries = Object.entries(matrix ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(', ') : '-';
}

/** 850ms, 12.3s, 4m05s. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const totalS = Math.round(ms / 1000);
  const m = Math.floor(totalS / 60);
  const s = totalS % 60;
  return m < 60 ? `${m}m${String(s).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const NAMED_ESCAPES: Record<string, string> = { '\r': '\\r', '\n': '\\n', '\t': '\\t', '\0': '\\0' };

/**
 * Makes control characters visible (`\r`, `\x1b`, lone surrogates as `\udXXX`), so evidence copied from
 * node files cannot hide text or drive a terminal. Keeps newlines and tabs unless `singleLine`.
 */
export function visible(text: string, options: { singleLine?: boolean } = {}): string {
  // C0 controls, DEL, C1 controls (0x9b is a terminal CSI), lone surrogates, U+2028/2029.
  return String(text).replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (ch) => {
      if (!options.singleLine && (ch === '\n' || ch === '\t')) return ch;
      const named = NAMED_ESCAPES[ch];
      if (named) return named;
      const code = ch.charCodeAt(0);
      return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    },
  );
}

/** The loud one-line XPASS message; the runner's reason may already carry the prefix. */
export function xpassMessage(cell: Pick<CellReport, 'reason'>): string {
  return `XPASS: expected failure did not happen: ${String(cell.reason ?? '').replace(/^XPASS:\s*/i, '')}`;
}

/** Assertions a reader needs to look at: failing first, then unknown. */
export function reportedAssertions(cell: CellReport): AssertionResult[] {
  const all = cell.assertions ?? [];
  return [...all.filter((a) => a.status === 'fail'), ...all.filter((a) => a.status === 'unknown')];
}

/** The assertions the scenario expected to fail, with what actually happened to each. */
export function expectedFailures(cell: CellReport): { name: string; status: string }[] {
  return (cell.expected?.failing ?? []).map((name) => ({
    name,
    status: cell.assertions?.find((a) => a.name === name)?.status ?? 'not run',
  }));
}

/** The concrete things an evidence item names besides its summary, as label/value pairs. */
export function evidenceDetails(e: Evidence): [string, string][] {
  const out: [string, string][] = [];
  const known = ['node', 'file', 'link', 'error'];
  for (const key of known) {
    const v = e[key];
    if (v !== undefined && v !== null && v !== '') out.push([key, stringify(v)]);
  }
  for (const key of Object.keys(e).sort()) {
    if (key === 'summary' || known.includes(key)) continue;
    const v = e[key];
    if (v !== undefined) out.push([key, stringify(v)]);
  }
  return out;
}

function stringify(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Plain-text evidence lines of one assertion, as used in JUnit and the console. */
export function evidenceText(a: AssertionResult, indent = ''): string[] {
  const lines = [`${indent}${a.status.toUpperCase()} ${a.name} (${a.phase})`];
  for (const e of a.evidence ?? []) {
    lines.push(`${indent}  - ${e.summary}`);
    for (const [k, v] of evidenceDetails(e)) lines.push(`${indent}    ${k}: ${v}`);
  }
  return lines;
}

/** The cell's runtime as a person reads it: "containerd-1.6: containerd 1.6.20~ds1, libcni 1.1.2 (debian:...)". */
export function runtimeText(cell: CellReport): string {
  const s = cell.stack;
  if (!s) return '';
  if (!s.containerd) return `${s.runtime} (faultline's libcni model)`;
  return `${s.runtime}: containerd ${s.containerd.version}, libcni ${s.containerd.libcni} (${s.containerd.source}${buildText(s.containerd.build)})`;
}

/** A source build's identity, appended to its source: ", h1:..., go1.26.8". */
function buildText(b: { sum: string; go: string } | undefined): string {
  return b ? `, ${b.sum}, ${b.go}` : '';
}

/** The runtime in a table cell: "containerd 1.6.20~ds1 (libcni 1.1.2)" or "libcni-1.1 (model)". */
export function runtimeShort(cell: CellReport): string {
  const s = cell.stack;
  if (!s) return '';
  return s.containerd ? `containerd ${s.containerd.version} (libcni ${s.containerd.libcni})` : `${s.runtime} (model)`;
}

/** Stack facts as label/value pairs: profile, plugins, runtime, conflist version, substitutions. */
export function stackFacts(cell: CellReport): [string, string][] {
  const s = cell.stack;
  if (!s) return [];
  const origin = s.origin?.kind === 'inline' ? ` (written in ${s.origin.file})` : s.origin?.kind === 'file' ? ` (${s.origin.file})` : '';
  const out: [string, string][] = [['profile', `${s.profile}${origin}${s.origin?.inline.length && s.origin.kind !== 'inline' ? `, ${s.origin.inline.join(', ')} written inline` : ''}`]];
  for (const n of s.networks ?? []) out.push(['network', `${n.file}: ${n.name}${n.secondary ? ' (secondary)' : ''}, plugins ${n.plugins.join(' → ')}`]);
  if (s.cni) out.push(['plugins', `${s.cni.version}${s.cni.source ? ` (${s.cni.source}${buildText(s.cni.build)})` : ''}`]);
  out.push(['runtime', runtimeText(cell)]);
  if (s.multus) out.push(['multus', `${s.multus.version} (${s.multus.source}${buildText(s.multus.build)})${s.multus.cleanupConfigOnExit ? ', --cleanup-config-on-exit' : ''}`]);
  if (s.conflistCniVersion) out.push(['conflist cniVersion', s.conflistCniVersion]);
  for (const sub of s.substitutions ?? []) out.push(['substitution', `${sub.plugin} → ${sub.standIn}: ${sub.why}`]);
  return out;
}

/** What each step did (its own account: what a fault applied, what GC released...), in order. */
export function stepDetails(cell: CellReport): string[] {
  return (cell.timeline ?? []).flatMap((e) =>
    e.kind === 'step' ? [`step ${stepNumber(e)} ${e.step}${e.result === 'error' ? ' (error)' : ''}: ${e.detail.replace(/\s*\n\s*/g, ' ')}`] : [],
  );
}

/** Steps and operations that failed, for error cells: each step by its number (see stepNumber). */
export function failedSteps(cell: CellReport, maxOps = 10): string[] {
  const out: string[] = [];
  let ops = 0;
  let moreOps = 0;
  for (const e of cell.timeline ?? []) {
    if (e.kind === 'step' && e.result === 'error') {
      const detail = e.detail && e.detail !== e.error ? ` (${e.detail})` : '';
      // Faults start their errors with their own name, which the line already gives.
      const error = (e.error ?? 'error').startsWith(`${e.step}: `) ? e.error!.slice(e.step.length + 2) : (e.error ?? 'error');
      out.push(`step ${stepNumber(e)} ${e.step}${detail}: ${error}`);
    }
    if (e.kind === 'op' && e.result === 'error') {
      // A churn can fail hundreds of operations; the first ones tell the story, the JSON has all.
      if (ops++ < maxOps) out.push(`${e.op} on ${e.node}${e.pod ? ` pod ${e.pod}` : ''}: ${e.error ?? 'error'}`);
      else moreOps++;
    }
  }
  if (moreOps) out.push(`... and ${moreOps} more failed operation(s) (see report.json)`);
  return out;
}

/** The columns of an evidence table, in order; a table shows those some row fills. */
export const EVIDENCE_COLUMNS = ['node', 'file or device', 'owner', 'detail'] as const;
export type EvidenceColumn = (typeof EVIDENCE_COLUMNS)[number];

/** One evidence item as a table row; values spanning lines are kept apart (`blocks`). */
export interface EvidenceRow {
  cells: Record<EvidenceColumn, string>;
  /** The owner in full where the cell shows it shortened (a 64-hex container id). */
  ownerFull?: string;
  /** Multi-line values (plugin stderr, file content) by key, shown below the table. */
  blocks: [string, string][];
}

// Keys that fill the node, object and owner columns, so the detail does not repeat them.
const COLUMN_KEYS = new Set(['summary', 'detail', 'node', 'file', 'link', 'table', 'chain', 'pod', 'owner', 'containerId', 'ifName']);

const shortId = (id: string) => (/^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id);

/**
 * An evidence item as a row: node; the file, link, iptables chain or pod it names; the owner
 * (container id, shortened, with its ifname); and the detail: the item's own `detail`, else its
 * summary without the node and thing it starts with, plus any other single-line value it does not
 * already say.
 */
export function evidenceRow(e: Evidence): EvidenceRow {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const node = str(e.node) ?? '';
  const chain = str(e.chain) ? `${str(e.table) ? `${e.table} ` : ''}chain ${e.chain}` : undefined;
  const object = str(e.file) ?? str(e.link) ?? chain ?? (str(e.pod) ? `pod ${e.pod}` : '');
  const ownerId = str(e.owner) ?? str(e.containerId);
  const owner = ownerId ? `${shortId(ownerId)}${str(e.ifName) ? `/${e.ifName}` : ''}` : '';
  let detail = str(e.detail) ?? String(e.summary ?? '');
  if (!str(e.detail)) {
    if (node && detail.startsWith(node)) detail = detail.replace(/^[^:\s]*:\s*/, '');
    if (object && detail.startsWith(object)) detail = detail.slice(object.length).replace(/^[\s:,]+/, '');
  }
  const blocks: [string, string][] = [];
  const extras: string[] = [];
  for (const [key, value] of evidenceDetails(e)) {
    if (COLUMN_KEYS.has(key)) continue;
    if (value.includes('\n')) blocks.push([key, value]);
    else if (!detail.includes(value)) extras.push(`${key}: ${value}`);
  }
  if (e.pod && object !== `pod ${e.pod}` && !detail.includes(String(e.pod))) extras.unshift(`pod: ${e.pod}`);
  const cells = { node, 'file or device': object, owner, detail: [detail, ...extras].filter(Boolean).join('; ') };
  return { cells, ...(ownerId && owner !== ownerId ? { ownerFull: ownerId } : {}), blocks };
}

/** Rows of a list of evidence and the columns they fill (detail always). */
export function evidenceTable(items: readonly Evidence[]): { columns: EvidenceColumn[]; rows: EvidenceRow[] } {
  const rows = items.map(evidenceRow);
  const columns = EVIDENCE_COLUMNS.filter((c) => c === 'detail' || rows.some((r) => r.cells[c] !== ''));
  return { columns, rows };
}

/** Evidence as a plain-text table with padded columns (for test failure messages and logs). */
export function evidenceTextTable(items: readonly Evidence[], max = 20, indent = '  '): string[] {
  const { columns, rows } = evidenceTable(items.slice(0, max));
  const text = (v: string) => visible(v, { singleLine: true });
  const lines: string[] = [];
  if (columns.length === 1) lines.push(...rows.map((r) => `${indent}- ${text(r.cells.detail)}`));
  else {
    const widths = columns.map((c) => (c === 'detail' ? 0 : Math.max(c.length, ...rows.map((r) => text(r.cells[c]).length))));
    const line = (vals: string[]) => `${indent}${vals.map((v, i) => (i < vals.length - 1 ? v.padEnd(widths[i]!) : v)).join('  ')}`.trimEnd();
    lines.push(line([...columns]), ...rows.map((r) => line(columns.map((c) => text(r.cells[c])))));
  }
  rows.forEach((r, i) => {
    for (const [key, value] of r.blocks) lines.push(`${indent}${key} of row ${i + 1}:`, ...visible(value).split('\n').map((l) => `${indent}  ${l}`));
  });
  if (items.length > max) lines.push(`${indent}... and ${items.length - max} more (see report.json)`);
  return lines;
}

/**
 * A cell in plain text for a test failure message: outcome and reason, what was expected, the error,
 * failed steps, and the failing and unknown assertions with their evidence tables.
 */
export function cellText(cell: CellReport, maxEvidence = 20): string {
  const e = cell.expected;
  const expected = e ? `${e.outcome}${e.outcome === 'fail' && e.failing?.length ? ` (${e.failing.join(', ')})` : ''}${e.outcome === 'error' && e.error ? ` (${e.error.source} error matching /${e.error.match}/)` : ''}${e.reason ? `: ${e.reason}` : ''}` : 'unknown';
  const lines = [cell.outcome === 'xpass' ? xpassMessage(cell) : `${outcomeLabel(cell.outcome)}: ${visible(cell.reason, { singleLine: true })}`, `expected: ${expected}`];
  if (cell.error) lines.push(`error (${cell.error.code}${cell.error.source ? `, ${cell.error.source}` : ''}): ${visible(cell.error.message, { singleLine: true })}`);
  for (const s of failedSteps(cell)) lines.push(`failed: ${visible(s, { singleLine: true })}`);
  if (cell.outcome === 'xpass') for (const f of expectedFailures(cell)) lines.push(`expected to fail: ${f.name}, was: ${f.status}`);
  for (const a of reportedAssertions(cell)) {
    const n = a.evidence?.length ?? 0;
    lines.push('', `${a.status.toUpperCase()} ${a.name} (${a.phase === 'during' ? 'invariant' : 'end'})${n > 1 ? `, ${n} items` : ''}`, ...evidenceTextTable(a.evidence ?? [], maxEvidence));
  }
  return lines.join('\n');
}
