// Test helpers for the reporters: a run report with one cell of each outcome and realistic evidence,
// and a small strict XML reader to check junit.xml the way a CI server's parser would see it.
import type { NodeSnapshot } from '../harness/model/snapshot.ts';
import type { TimelineEntry } from '../harness/model/timeline.ts';
import type { CellReport, RunReport } from '../harness/model/report.ts';
import type { Evidence } from '../harness/model/verdict.ts';
import { selectShard } from '../harness/runner/shard.ts';
import { summarize } from '../harness/runner/run.ts';

export const LEAKED_FILE = '/var/lib/cni/networks/k8s-pod-network/10.52.1.5';
export const LEAKED_OWNER = '9c1e4b2f0d8a4c6e8f1a3b5c7d9e0f21a2b4c6d8e0f1a3b5c7d9e1f2a3b4c5d6';
/** host-local's file content: container id, CRLF, ifname. */
export const LEAKED_CONTENT = `${LEAKED_OWNER}\r\neth0`;
export const ORPHAN_VETH = 'veth1234abcd';
export const LIBCNI_ERROR =
  'failed to get network "k8s-pod-network" cached result: decoding version from network config: unexpected end of JSON input';
export const YIP_WARNING = "stage 'reset container dhcp leases': key 'command' is not a yip key and was ignored";
/** Evidence text with everything XML, HTML and Markdown must escape, and a CR. */
export const NASTY_SUMMARY = `cache file <empty> & "unparsable" at 'results/k8s-pod-network-${LEAKED_OWNER.slice(0, 12)}-eth0'\r`;
/** Plugin stderr with a terminal escape and a NUL, which no document may pass through raw. */
export const NASTY_STDERR = 'bridge: \u001b[2Jcleared\u0000 | `tick` *bold* [x](y)\nsecond line';

function snapshot(node: string, reservations: number, attachments: number, opts: { running?: boolean; leak?: boolean } = {}): NodeSnapshot {
  const subnet = node === 'node-1' ? '10.52.1' : '10.52.2';
  return {
    node,
    running: opts.running ?? true,
    reservations: Array.from({ length: reservations }, (_, i) => ({
      network: 'k8s-pod-network',
      ip: `${subnet}.${i + 2}`,
      containerId: opts.leak && i === 3 ? LEAKED_OWNER : `c${node.slice(-1)}${String(i).padStart(3, '0')}`,
      ifName: 'eth0',
      file: `/var/lib/cni/networks/k8s-pod-network/${subnet}.${i + 2}`,
      mtimeMs: 1_700_000_000_000 + i,
    })),
    attachments: Array.from({ length: attachments }, (_, i) => ({
      pod: `web-${node.slice(-1)}-${i}`,
      network: 'k8s-pod-network',
      containerId: `c${node.slice(-1)}${String(i).padStart(3, '0')}`,
      ifName: 'eth0',
      netns: `/run/netns/cni-${i}`,
      ips: [`${subnet}.${i + 2}/24`],
    })),
    links: [],
    netns: [],
  };
}

const stack = (profile: string, runtime = 'libcni-1.1'): CellReport['stack'] => ({
  profile,
  cni: {
    version: '1.1.1',
    source: 'debian bookworm containernetworking-plugins 1.1.1+ds1-3',
    dir: '/work/.cache/faultline/cni/1.1.1/bin',
    sha256: { portmap: 'b'.repeat(64), bridge: 'a'.repeat(64), 'host-local': 'c'.repeat(64) },
  },
  runtime,
  substitutions: [{ plugin: 'calico', standIn: 'bridge', why: 'calico binaries are not packaged here; bridge exercises the same host-local IPAM path' }],
  conflistCniVersion: '0.3.1',
});

// Reboot timeline: 4 pods per node, hard reboot of node-1, boot, reconcile. `leak` keeps the old files.
function rebootTimeline(leak: boolean, warning?: string): TimelineEntry[] {
  const entries: TimelineEntry[] = [
    { at: 0, kind: 'step', index: 0, step: 'workload', detail: 'start 4 pods per node', result: 'ok', durationMs: 900 },
    { at: 950, kind: 'observation', after: 'step 0', nodes: [snapshot('node-1', 4, 4), snapshot('node-2', 4, 4)] },
    { at: 1000, kind: 'step', index: 1, step: 'hard-reboot', detail: 'node-1', result: 'ok', durationMs: 120 },
    { at: 1150, kind: 'observation', after: 'step 1', nodes: [snapshot('node-1', 4, 0, { running: false }), snapshot('node-2', 4, 4)] },
  ];
  if (warning) entries.push({ at: 1200, kind: 'warning', message: warning });
  entries.push(
    { at: 2400, kind: 'step', index: 2, step: 'boot', detail: 'node-1', result: 'ok', durationMs: 1200 },
    { at: 4100, kind: 'step', index: 3, step: 'wait', detail: 'pods ready', result: 'ok', durationMs: 1600 },
    { at: 4200, kind: 'observation', after: 'step 3', nodes: [snapshot('node-1', leak ? 8 : 4, 4, { leak }), snapshot('node-2', 4, 4)] },
  );
  return entries;
}

const base: Pick<CellReport, 'scenario' | 'scenarioFile' | 'seed' | 'artifacts'> = {
  scenario: 'harvester-reboot-ipam-leak',
  scenarioFile: 'scenarios/harvester-reboot-ipam-leak.yaml',
  seed: 42,
  artifacts: [],
};

/** Five cells: passed, xfail, xpass, failed, error. */
export function makeRunReport(): RunReport {
  const passed: CellReport = {
    ...base,
    id: 'harvester-reboot-ipam-leak[harvester=v1.4.3]',
    matrix: { harvester: 'v1.4.3' },
    outcome: 'passed',
    asExpected: true,
    reason: 'all 2 check(s) held',
    expected: { outcome: 'pass', failing: [], reason: 'fixed by harvester-installer PR #1035' },
    assertions: [
      { name: 'no-leaked-reservations', phase: 'end', status: 'pass', evidence: [{ summary: 'node-1: 4 reservations, all owned by live attachments', node: 'node-1' }] },
      { name: 'pods-ready', phase: 'end', status: 'pass', evidence: [] },
    ],
    warnings: [],
    stack: stack('harvester-v1.4.3'),
    durationMs: 4321,
    timeline: rebootTimeline(false),
    artifacts: ['artifacts/harvester-reboot-ipam-leak-v1.4.3/node-1.tar.gz'],
  };
  const xfailTimeline = rebootTimeline(true, YIP_WARNING);
  const xfail: CellReport = {
    ...base,
    id: 'harvester-reboot-ipam-leak[harvester=v1.4.2]',
    matrix: { harvester: 'v1.4.2' },
    outcome: 'xfail',
    asExpected: true,
    reason: "expected failure reproduced: no-leaked-reservations, reservations-match-attachments (99_cni_reset.yaml uses 'command:' (harvester/harvester#7471))",
    expected: { outcome: 'fail', failing: ['no-leaked-reservations'], reason: "99_cni_reset.yaml uses 'command:' (harvester/harvester#7471)" },
    assertions: [
      {
        name: 'no-leaked-reservations',
        phase: 'end',
        status: 'fail',
        evidence: [
          {
            summary: `node-1: 10.52.1.5 reserved by container ${LEAKED_OWNER.slice(0, 12)}, which has no live attachment`,
            node: 'node-1',
            file: LEAKED_FILE,
            content: LEAKED_CONTENT,
          },
        ],
      },
      { name: 'reservations-match-attachments', phase: 'during', status: 'fail', evidence: [{ summary: 'node-1: 8 reservations, 4 attachments' }], firstViolationAt: xfailTimeline.length - 1 },
    ],
    warnings: [YIP_WARNING],
    stack: stack('harvester-v1.4.2'),
    durationMs: 4410,
    timeline: xfailTimeline,
  };
  const xpass: CellReport = {
    ...base,
    id: 'harvester-reboot-ipam-leak[harvester=v1.4.1]',
    matrix: { harvester: 'v1.4.1' },
    outcome: 'xpass',
    asExpected: false,
    reason: 'XPASS: expected no-leaked-reservations to fail, but it held (v1.4.1 has no reset stage)',
    expected: { outcome: 'fail', failing: ['no-leaked-reservations'], reason: 'v1.4.1 has no reset stage' },
    assertions: [{ name: 'no-leaked-reservations', phase: 'end', status: 'pass', evidence: [{ summary: 'node-1: 4 reservations, all owned by live attachments' }] }],
    warnings: [],
    stack: stack('harvester-v1.4.1'),
    durationMs: 4005,
    timeline: rebootTimeline(false),
  };
  const failed: CellReport = {
    ...base,
    scenario: 'libcni-empty-cache-del',
    scenarioFile: 'scenarios/libcni-empty-cache-del.yaml',
    id: 'libcni-empty-cache-del[runtime=libcni-1.2,cni=1.1.1]',
    matrix: { runtime: 'libcni-1.2', cni: '1.1.1' },
    outcome: 'failed',
    asExpected: false,
    reason: 'unexpected failure of del-succeeds, no-orphan-devices',
    expected: { outcome: 'pass', failing: [], reason: 'tolerated since libcni v1.2.0 (cni PR #1072)' },
    assertions: [
      { name: 'del-succeeds', phase: 'end', status: 'fail', evidence: [{ summary: 'DEL of web-1-0 failed', node: 'node-1', error: LIBCNI_ERROR }] },
      {
        name: 'no-orphan-devices',
        phase: 'end',
        status: 'fail',
        evidence: [
          { summary: `node-1: ${ORPHAN_VETH} has no peer in any pod namespace`, node: 'node-1', link: ORPHAN_VETH },
          { summary: NASTY_SUMMARY, node: 'node-1', stderr: NASTY_STDERR },
        ],
      },
      { name: 'no-orphan-iptables-chains', phase: 'end', status: 'unknown', evidence: [{ summary: 'iptables-save failed', error: 'exit status 4: iptables-save v1.8.9 (nf_tables): table `nat\' is incompatible' }] },
      { name: 'pods-ready', phase: 'end', status: 'pass', evidence: [] },
    ],
    warnings: [],
    stack: stack('canal-like', 'libcni-1.2'),
    durationMs: 2750,
    timeline: [
      { at: 0, kind: 'step', index: 0, step: 'workload', detail: 'start 1 pod', result: 'ok', durationMs: 300 },
      { at: 320, kind: 'observation', after: 'step 0', nodes: [snapshot('node-1', 1, 1)] },
      { at: 400, kind: 'step', index: 1, step: 'empty-file', detail: 'results/k8s-pod-network-c1000-eth0', result: 'ok', durationMs: 5 },
      { at: 900, kind: 'step', index: 2, step: 'delete-pods', detail: 'web-1-0', result: 'error', error: LIBCNI_ERROR, durationMs: 450 },
      { at: 950, kind: 'observation', after: 'step 2', nodes: [snapshot('node-1', 1, 0)] },
    ],
  };
  const error: CellReport = {
    ...base,
    scenario: 'libcni-empty-cache-del',
    scenarioFile: 'scenarios/libcni-empty-cache-del.yaml',
    id: 'libcni-empty-cache-del[runtime=libcni-1.1,cni=1.1.1]',
    matrix: { runtime: 'libcni-1.1', cni: '1.1.1' },
    outcome: 'error',
    asExpected: false,
    reason: 'creating namespaces for node-2: unshare: operation not permitted',
    expected: { outcome: 'fail', failing: ['del-succeeds'] },
    assertions: [],
    warnings: [],
    stack: stack('canal-like'),
    durationMs: 180,
    error: { message: 'creating namespaces for node-2: unshare: operation not permitted', code: 'environment' },
    timeline: [{ at: 170, kind: 'op', op: 'node-up', node: 'node-2', result: 'error', error: 'unshare: operation not permitted', durationMs: 160 }],
  };
  const cells = [passed, xfail, xpass, failed, error];
  return {
    runId: 'fl-20250101-120000-ab12',
    startedAt: '2025-01-01T12:00:00.000Z',
    finishedAt: '2025-01-01T12:00:16.000Z',
    durationMs: 16_000,
    faultlineVersion: '0.1.0',
    host: { hostname: 'ci-runner-7', kernel: '6.1.0-28-amd64', cores: 2 },
    argv: ['run', 'scenarios', '--suite', 'default'],
    outDir: 'reports/fl-20250101-120000-ab12',
    summary: { passed: 1, failed: 1, xfail: 1, xpass: 1, error: 1, total: 5, asExpected: false },
    cells,
  };
}

/** The same report with only the cells that ended as expected. */
export function makeAsExpectedReport(): RunReport {
  const report = makeRunReport();
  const cells = report.cells.filter((c) => c.outcome === 'passed' || c.outcome === 'xfail');
  return { ...report, cells, summary: { passed: 1, failed: 0, xfail: 1, xpass: 0, error: 0, total: 2, asExpected: true } };
}

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: (XmlElement | string)[];
}

const XML_NAME = /^[A-Za-z_:][\w.:-]*/;
const XML_CHAR_OK = (code: number) =>
  code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || code >= 0x10000;

// Replaces references the way a conforming parser does; throws on a bare '&' or an unknown entity.
function decodeRefs(raw: string, where: string): string {
  return raw.replace(/&([^;&\s]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new Error(`bare '&' in ${where}: ${JSON.stringify(raw.slice(0, 60))}`);
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    if (named[ref]) return named[ref];
    const m = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(ref);
    if (!m) throw new Error(`unknown entity &${ref}; in ${where}`);
    const code = m[1] ? parseInt(m[1], 16) : parseInt(m[2]!, 10);
    if (!XML_CHAR_OK(code)) throw new Error(`reference to a character XML forbids (&${ref};) in ${where}`);
    return String.fromCodePoint(code);
  });
}

function checkChars(raw: string, where: string): void {
  for (const ch of raw) {
    const code = ch.codePointAt(0)!;
    if (!XML_CHAR_OK(code) || (code >= 0xd800 && code <= 0xdfff)) throw new Error(`character U+${code.toString(16)} is not allowed in XML (${where})`);
  }
}

/**
 * Parses an XML document strictly enough to catch what breaks CI parsers: unbalanced or misnested tags,
 * unquoted or duplicate attributes, bare '&' or '<', forbidden characters. Applies line-end and
 * attribute-value normalization, so a raw CR or LF in the output does not survive.
 */
export function parseXml(doc: string): XmlElement {
  checkChars(doc, 'document');
  let text = doc.replace(/\r\n?/g, '\n');
  let pos = 0;
  if (text.startsWith('<?xml')) {
    const end = text.indexOf('?>');
    if (end < 0) throw new Error('unterminated XML declaration');
    pos = end + 2;
  }
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (pos < text.length) {
    const lt = text.indexOf('<', pos);
    const chunk = text.slice(pos, lt < 0 ? text.length : lt);
    if (chunk.includes('>') && chunk.includes(']]>')) throw new Error("']]>' in text");
    if (stack.length) {
      if (chunk) stack[stack.length - 1]!.children.push(decodeRefs(chunk, `<${stack[stack.length - 1]!.name}>`));
    } else if (chunk.trim()) {
      throw new Error(`text outside the root element: ${JSON.stringify(chunk.slice(0, 40))}`);
    }
    if (lt < 0) break;
    pos = lt;
    if (text.startsWith('<!--', pos)) {
      const end = text.indexOf('-->', pos);
      if (end < 0) throw new Error('unterminated comment');
      pos = end + 3;
      continue;
    }
    if (text.startsWith('</', pos)) {
      const m = /^<\/([A-Za-z_:][\w.:-]*)\s*>/.exec(text.slice(pos));
      if (!m) throw new Error(`malformed end tag at ${pos}`);
      const open = stack.pop();
      if (!open || open.name !== m[1]) throw new Error(`</${m[1]}> closes <${open?.name ?? 'nothing'}>`);
      pos += m[0].length;
      continue;
    }
    pos += 1;
    const nameMatch = XML_NAME.exec(text.slice(pos));
    if (!nameMatch) throw new Error(`malformed tag at ${pos}: ${JSON.stringify(text.slice(pos - 1, pos + 20))}`);
    const el: XmlElement = { name: nameMatch[0], attrs: {}, children: [] };
    pos += nameMatch[0].length;
    for (;;) {
      const ws = /^\s*/.exec(text.slice(pos))![0];
      pos += ws.length;
      if (text.startsWith('/>', pos) || text.startsWith('>', pos)) break;
      if (!ws) throw new Error(`expected whitespace before attribute in <${el.name}>`);
      const attr = /^([A-Za-z_:][\w.:-]*)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/.exec(text.slice(pos));
      if (!attr) throw new Error(`malformed attribute in <${el.name}>: ${JSON.stringify(text.slice(pos, pos + 40))}`);
      if (attr[1]! in el.attrs) throw new Error(`duplicate attribute ${attr[1]} in <${el.name}>`);
      const rawValue = (attr[2] ?? attr[3]!).replace(/[\n\t]/g, ' ');
      el.attrs[attr[1]!] = decodeRefs(rawValue, `${el.name}@${attr[1]}`);
      pos += attr[0].length;
    }
    const selfClosing = text.startsWith('/>', pos);
    pos += selfClosing ? 2 : 1;
    if (stack.length) stack[stack.length - 1]!.children.push(el);
    else if (root) throw new Error('more than one root element');
    else root = el;
    if (!selfClosing) stack.push(el);
  }
  if (stack.length) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (!root) throw new Error('no root element');
  text = '';
  return root;
}

/** Every element named `name` under `el`, depth first. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    if (e.name === name) out.push(e);
    for (const c of e.children) if (typeof c !== 'string') walk(c);
  };
  walk(el);
  return out;
}

/** The concatenated text content of an element. */
export function textOf(el: XmlElement): string {
  return el.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}

/**
 * The shards a `--shard i/n` run of `report`'s cells would have written: each with its share of the
 * cells (in plan order), its own run id and times, and the shard info every shard of the run shares.
 */
export function shardReports(report: RunReport, total: number, opts: { label?: string } = {}): RunReport[] {
  return Array.from({ length: total }, (_, i) => {
    const { cells, shard } = selectShard(report.cells, { index: i + 1, total }, opts);
    return {
      ...report,
      runId: `${report.runId.slice(0, -2)}${String(i + 1).padStart(2, '0')}`,
      startedAt: new Date(Date.parse(report.startedAt) + i * 1000).toISOString(),
      cells,
      summary: summarize(cells),
      shard,
    };
  });
}

/**
 * no-leaked-reservations' evidence for `n` leaked files on node-1, as the Harvester cell reports them
 * after three power cuts.
 */
export function leakedFiles(n: number): Evidence[] {
  return Array.from({ length: n }, (_, i) => {
    const owner = `${(0x5f0c1a2b3c4d + i).toString(16)}${'e'.repeat(52)}`;
    const file = `/var/lib/cni/networks/k8s-pod-network/10.52.0.${i + 2}`;
    return { summary: `node-1: ${file} reserved by ${owner.slice(0, 12)}/eth0, which is not a live attachment`, node: 'node-1', file, owner, ifName: 'eth0', detail: 'not a live attachment' };
  });
}

/**
 * A synthetic run of 1000 cells: 100 unexpected failures with twelve leaked files each, 300 xfail with
 * the same evidence, 600 passed; every cell with the timeline of a reboot.
 */
export function thousandCells(): RunReport {
  const base = makeRunReport();
  const template = base.cells[1]!;
  const cells: CellReport[] = Array.from({ length: 1000 }, (_, i) => {
    const outcome = i % 10 === 0 ? 'failed' : i % 10 < 4 ? 'xfail' : 'passed';
    const failing = outcome !== 'passed';
    return {
      ...template,
      id: `leak[i=${i}]`,
      scenario: 'leak',
      matrix: { i: String(i) },
      outcome,
      asExpected: outcome !== 'failed',
      reason: failing ? 'no-leaked-reservations failed' : 'all 1 check(s) held',
      assertions: [{ name: 'no-leaked-reservations', phase: 'end', status: failing ? 'fail' : 'pass', evidence: failing ? leakedFiles(12) : [{ summary: '4 reservation(s), all owned by live attachments' }] }],
    };
  });
  return { ...base, cells, summary: summarize(cells) };
}
