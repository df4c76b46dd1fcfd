// report.json: the complete run report, the source every other document is derived from. Keys are
// written in the order the types declare them (fields added later follow, sorted), whatever order the
// runner built the objects in, so two reports diff cleanly.
import type { Reporter } from './types.ts';
import type { RunReport } from '../model/report.ts';
import { resolveOutDir, writeReportFile } from './write-file.ts';

export interface JsonReporterOptions {
  /** Directory to write report.json to; defaults to the report's outDir. */
  outDir?: string;
}

/** A key order for an object, and the order of the objects inside it. */
interface Shape {
  keys: readonly string[];
  /** Nested objects by key; for arrays, the shape of each element. */
  nested?: Record<string, Shape | ((value: unknown) => Shape | undefined)>;
  /** Sort this object's own keys (records whose order carries no meaning, like hashes). */
  sorted?: boolean;
}

const evidenceShape: Shape = { keys: ['summary', 'node', 'file', 'link', 'error'] };
const assertionShape: Shape = {
  keys: ['name', 'phase', 'status', 'evidence', 'firstViolationAt'],
  nested: { evidence: evidenceShape },
};
const snapshotShape: Shape = {
  keys: ['node', 'running', 'bootedAtMs', 'reservations', 'attachments', 'links', 'netns', 'cache', 'iptables', 'headroom', 'extra'],
  nested: {
    reservations: { keys: ['network', 'ip', 'containerId', 'ifName', 'file', 'mtimeMs', 'unreadable'] },
    attachments: { keys: ['pod', 'network', 'containerId', 'ifName', 'netns', 'ips'] },
    links: { keys: ['name', 'kind', 'peer', 'master', 'up', 'ns'] },
    cache: { keys: ['file', 'state', 'containerId', 'ifName', 'networkName', 'error'] },
    iptables: { keys: ['table', 'chain', 'owners', 'rules'] },
  },
};
const entryShapes: Record<string, Shape> = {
  step: { keys: ['at', 'kind', 'index', 'step', 'detail', 'result', 'error', 'durationMs'] },
  op: { keys: ['at', 'kind', 'op', 'node', 'pod', 'result', 'error', 'durationMs', 'detail'] },
  observation: { keys: ['at', 'kind', 'after', 'nodes'], nested: { nodes: snapshotShape } },
  warning: { keys: ['at', 'kind', 'message'] },
  verdict: { keys: ['at', 'kind', 'result'], nested: { result: assertionShape } },
};
const cellShape: Shape = {
  keys: [
    'id', 'scenario', 'scenarioFile', 'matrix', 'outcome', 'reason', 'asExpected', 'expected', 'assertions', 'warnings',
    'stack', 'seed', 'durationMs', 'error', 'timeline', 'artifacts',
  ],
  nested: {
    expected: { keys: ['outcome', 'failing', 'error', 'reason'], nested: { error: { keys: ['match', 'source'] } } },
    assertions: assertionShape,
    stack: {
      keys: ['profile', 'cni', 'runtime', 'substitutions', 'conflistCniVersion'],
      nested: {
        cni: { keys: ['version', 'source', 'dir', 'sha256'], nested: { sha256: { keys: [], sorted: true } } },
        substitutions: { keys: ['plugin', 'standIn', 'why'] },
      },
    },
    error: { keys: ['message', 'code', 'source', 'location'] },
    timeline: (entry) => entryShapes[(entry as { kind?: string })?.kind ?? ''],
  },
};
const runShape: Shape = {
  keys: ['runId', 'startedAt', 'finishedAt', 'durationMs', 'faultlineVersion', 'host', 'argv', 'outDir', 'summary', 'cells', 'shard', 'merged'],
  nested: {
    host: { keys: ['hostname', 'kernel', 'cores'] },
    summary: { keys: ['passed', 'failed', 'xfail', 'xpass', 'error', 'total', 'asExpected'] },
    cells: cellShape,
    shard: { keys: ['index', 'total', 'runKey', 'label', 'balance', 'plan'], nested: { plan: { keys: ['id', 'shard'] } } },
    merged: {
      keys: ['runKey', 'label', 'shards', 'missing'],
      nested: {
        shards: { keys: ['index', 'total', 'runId', 'file', 'startedAt', 'finishedAt', 'durationMs', 'host', 'cells'], nested: { host: { keys: ['hostname', 'kernel', 'cores'] } } },
        missing: { keys: ['index', 'cells'] },
      },
    },
  },
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// A copy of `value` whose keys follow `shape`; keys the shape does not know follow, sorted.
function order(value: unknown, shape: Shape | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => order(v, shape));
  if (!isPlainObject(value) || !shape) return value;
  const own = Object.keys(value);
  const known = shape.keys.filter((k) => k in value);
  const extra = own.filter((k) => !shape.keys.includes(k));
  const keys = shape.sorted ? [...own].sort() : [...known, ...extra.sort()];
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const child = value[key];
    const nested = shape.nested?.[key];
    if (typeof nested === 'function') {
      out[key] = Array.isArray(child) ? child.map((c) => order(c, nested(c))) : order(child, nested(child));
    } else {
      out[key] = order(child, nested);
    }
  }
  return out;
}

/** report.json text: pretty-printed, keys in type order, newline-terminated. */
export function renderJson(report: RunReport): string {
  return JSON.stringify(order(report, runShape), null, 2) + '\n';
}

/** Writes `<outDir>/report.json`, the complete report. */
export class JsonReporter implements Reporter {
  readonly name = 'json';
  private readonly options: JsonReporterOptions;

  constructor(options: JsonReporterOptions = {}) {
    this.options = options;
  }

  async onRunEnd(report: RunReport): Promise<string> {
    return writeReportFile(resolveOutDir(this.options.outDir, report), 'report.json', renderJson(report));
  }
}
