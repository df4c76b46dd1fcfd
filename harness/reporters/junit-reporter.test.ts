import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JunitReporter, escapeXml, renderJunit } from './junit-reporter.ts';
import {
  LEAKED_CONTENT, LEAKED_FILE, LIBCNI_ERROR, NASTY_SUMMARY, ORPHAN_VETH, YIP_WARNING, findAll, makeRunReport, parseXml, textOf,
  type XmlElement,
} from '../../testing/reports.ts';

let dir: string;
let doc: XmlElement;
let raw: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'faultline-junit-'));
  const written = await new JunitReporter({ outDir: dir }).onRunEnd(makeRunReport());
  expect(written).toBe(path.join(dir, 'junit.xml'));
  raw = await readFile(written, 'utf8');
  doc = parseXml(raw);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const testcase = (id: string) => {
  const found = findAll(doc, 'testcase').find((t) => t.attrs.name === id);
  if (!found) throw new Error(`no testcase ${id}`);
  return found;
};
const child = (el: XmlElement, name: string) => el.children.find((c): c is XmlElement => typeof c !== 'string' && c.name === name);

describe('the XML checker used by these tests', () => {
  it.each([
    ['unbalanced tags', '<a><b></a>'],
    ['a bare ampersand', '<a>x & y</a>'],
    ['a raw less-than in an attribute', '<a b="<"/>'],
    ['an unquoted attribute', '<a b=c/>'],
    ['a duplicate attribute', '<a b="1" b="2"/>'],
    ['a forbidden control character', '<a>\u0001</a>'],
    ['a reference to a forbidden character', '<a>&#1;</a>'],
    ['two roots', '<a/><b/>'],
    ['an unknown entity', '<a>&nbsp;</a>'],
  ])('rejects %s', (_what, xml) => {
    expect(() => parseXml(xml)).toThrow();
  });

  it('normalizes a raw CR away and keeps a referenced one', () => {
    expect(textOf(parseXml('<a>x\ry</a>'))).toBe('x\ny');
    expect(textOf(parseXml('<a>x&#13;y</a>'))).toBe('x\ry');
    expect(parseXml('<a b="x\ny"/>').attrs.b).toBe('x y');
  });
});

describe('JunitReporter', () => {
  it('writes one testsuite per scenario and one testcase per cell', () => {
    expect(doc.name).toBe('testsuites');
    const suites = findAll(doc, 'testsuite');
    expect(suites.map((s) => s.attrs.name)).toEqual(['harvester-reboot-ipam-leak', 'libcni-empty-cache-del']);
    expect(suites.map((s) => findAll(s, 'testcase').length)).toEqual([3, 2]);
    const cases = findAll(doc, 'testcase');
    expect(cases.map((c) => c.attrs.name)).toEqual(makeRunReport().cells.map((c) => c.id));
    expect(cases[3]!.attrs).toMatchObject({ name: 'libcni-empty-cache-del[runtime=libcni-1.2,cni=1.1.1]', classname: 'libcni-empty-cache-del', time: '2.750' });
  });

  it('counts failures (failed and xpass) and errors, matching the elements', () => {
    expect(doc.attrs).toMatchObject({ tests: '5', failures: '2', errors: '1' });
    expect(findAll(doc, 'failure')).toHaveLength(2);
    expect(findAll(doc, 'error')).toHaveLength(1);
    const [harvester, libcni] = findAll(doc, 'testsuite');
    expect(harvester!.attrs).toMatchObject({ tests: '3', failures: '1', errors: '0' });
    expect(libcni!.attrs).toMatchObject({ tests: '2', failures: '1', errors: '1' });
    expect(harvester!.attrs.time).toBe(((4321 + 4410 + 4005) / 1000).toFixed(3));
  });

  it('reports an XPASS as a failure whose message starts with XPASS', () => {
    const failure = child(testcase('harvester-reboot-ipam-leak[harvester=v1.4.1]'), 'failure');
    expect(failure?.attrs.message).toMatch(/^XPASS: expected failure did not happen: expected no-leaked-reservations to fail/);
    expect(failure?.attrs.message).not.toMatch(/XPASS:.*XPASS:/);
    expect(failure?.attrs.type).toBe('xpass');
    expect(textOf(failure!)).toContain('no-leaked-reservations: pass (expected fail)');
  });

  it('puts the evidence of failing assertions in the failure text, escaped and decoded exactly', () => {
    const failure = child(testcase('libcni-empty-cache-del[runtime=libcni-1.2,cni=1.1.1]'), 'failure');
    const text = textOf(failure!);
    expect(text).toContain(LIBCNI_ERROR);
    expect(text).toContain(`link: ${ORPHAN_VETH}`);
    expect(text).toContain(NASTY_SUMMARY); // <, &, quotes and a CR survive a real parser's normalization
    expect(text).toContain('stderr: bridge: \\x1b[2Jcleared\\x00');
    expect(text).toContain('UNKNOWN no-orphan-iptables-chains');
    expect(failure!.attrs.message).toBe('FAILED: unexpected failure of del-succeeds, no-orphan-devices');
  });

  it('reports a harness error as <error> with its code', () => {
    const error = child(testcase('libcni-empty-cache-del[runtime=libcni-1.1,cni=1.1.1]'), 'error');
    expect(error?.attrs).toMatchObject({ type: 'environment', message: 'creating namespaces for node-2: unshare: operation not permitted' });
    expect(textOf(error!)).toContain('node-up on node-2: unshare: operation not permitted');
  });

  it('lets an xfail pass, describing the reproduced bug, its evidence and warnings in system-out', () => {
    const tc = testcase('harvester-reboot-ipam-leak[harvester=v1.4.2]');
    expect(child(tc, 'failure')).toBeUndefined();
    expect(child(tc, 'error')).toBeUndefined();
    const out = textOf(child(tc, 'system-out')!);
    expect(out).toMatch(/^XFAIL \(expected bug reproduced\): /);
    expect(out).toContain(`file: ${LEAKED_FILE}`);
    expect(out).toContain(`content: ${LEAKED_CONTENT}`);
    expect(out).toContain(YIP_WARNING);
    expect(out).toContain('substitution: calico → bridge: ');
  });

  it('leaves a passed cell without failure or error', () => {
    const tc = testcase('harvester-reboot-ipam-leak[harvester=v1.4.3]');
    expect(tc.children.filter((c) => typeof c !== 'string').map((c) => (c as XmlElement).name)).toEqual(['system-out']);
  });

  it('never writes a raw CR or a character XML forbids', () => {
    expect(raw).not.toMatch(/\r/);
    expect(raw).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(raw).toContain('&#13;');
  });

  it('keeps an attribute value intact through a parser (newlines, tabs, quotes)', () => {
    const report = makeRunReport();
    const cell = report.cells[3]!;
    cell.reason = 'two\nlines\twith "double" and \'single\' quotes & <tags>\r';
    const failure = findAll(parseXml(renderJunit({ ...report, cells: [cell] })), 'failure')[0]!;
    expect(failure.attrs.message).toBe(`FAILED: ${cell.reason}`);
  });
});

describe('escapeXml', () => {
  it('escapes markup and keeps CR as a reference', () => {
    expect(escapeXml('a<b>&c\r')).toBe('a&lt;b&gt;&amp;c&#13;');
    expect(escapeXml('"\'\n\t', 'attr')).toBe('&quot;&apos;&#10;&#9;');
    expect(escapeXml('"\'\n\t', 'text')).toBe('"\'\n\t');
  });

  it('shows characters XML cannot carry instead of dropping them', () => {
    expect(escapeXml('a\u0000b\u001bc\ud800d')).toBe('a\\x00b\\x1bc\\ud800d');
    expect(escapeXml('\u0085')).toBe('&#x85;');
    expect(escapeXml('ok \u{1f600}')).toBe('ok \u{1f600}');
  });
});
