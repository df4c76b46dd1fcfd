import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultlineError } from '../errors.ts';
import {
  ConsoleReporter, HtmlReporter, JsonReporter, JunitReporter, MarkdownReporter, builtinReporters, createReporters, fanOut, writtenPaths,
} from './index.ts';
import { makeRunReport } from '../../testing/reports.ts';
import type { Reporter } from './types.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'faultline-reporters-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('builtinReporters', () => {
  it('maps each name to its class', () => {
    expect(builtinReporters).toEqual({ json: JsonReporter, junit: JunitReporter, markdown: MarkdownReporter, console: ConsoleReporter, html: HtmlReporter });
  });
});

describe('createReporters', () => {
  it("builds reporters from 'name' and ['name', options], in order", () => {
    const sink = { write: () => true };
    const reporters = createReporters(['json', ['console', { stream: sink, color: true }], 'html']);
    expect(reporters.map((r) => r.constructor)).toEqual([JsonReporter, ConsoleReporter, HtmlReporter]);
    expect((reporters[1] as ConsoleReporter).color).toBe(true);
  });

  it('passes a reporter object through', () => {
    const custom: Reporter = { onRunEnd: async () => 'custom' };
    expect(createReporters([custom])[0]).toBe(custom);
  });

  it('rejects an unknown name as a usage error that lists the known ones', () => {
    const attempt = () => createReporters(['xml']);
    expect(attempt).toThrow(FaultlineError);
    expect(attempt).toThrow("Unknown reporter 'xml'; expected one of json, junit, markdown, console, html");
    try {
      attempt();
    } catch (e) {
      expect((e as FaultlineError).code).toBe('usage');
    }
  });

  it('rejects options that are not an object, and entries that are not names', () => {
    expect(() => createReporters([['junit', 5]])).toThrow('Expected the options of reporter `junit` to be an object, got `5` (number)');
    expect(() => createReporters([['junit', ['x']]])).toThrow('got `["x"]` (array)');
    expect(() => createReporters([[7, {}] as unknown as [string, unknown]])).toThrow("Expected a reporter name or ['name', options], got `[7,{}]` (array)");
  });

  it("does not treat an object's inherited keys as reporter names", () => {
    expect(() => createReporters(['toString'])).toThrow("Unknown reporter 'toString'");
  });
});

describe('fanOut', () => {
  it('calls the hook on every reporter that has it, with `this` bound, and returns results in order', async () => {
    const calls: string[] = [];
    class Named implements Reporter {
      constructor(readonly name: string) {}
      onCellStart(cell: { id: string }) {
        calls.push(`${this.name}:${cell.id}`);
      }
    }
    const results = await fanOut([new Named('a'), {}, new Named('b')], 'onCellStart', { id: 'c1' });
    expect(calls).toEqual(['a:c1', 'b:c1']);
    expect(results).toEqual([undefined, undefined, undefined]);
  });

  it('runs reporters concurrently', async () => {
    const order: string[] = [];
    const slow: Reporter = { onRunEnd: async () => { await new Promise((r) => setTimeout(r, 30)); order.push('slow'); return 'slow'; } };
    const fast: Reporter = { onRunEnd: async () => { order.push('fast'); return 'fast'; } };
    expect(await fanOut([slow, fast], 'onRunEnd', makeRunReport())).toEqual(['slow', 'fast']);
    expect(order).toEqual(['fast', 'slow']);
  });

  it('still calls every reporter when one throws synchronously, then rejects', async () => {
    let called = false;
    const broken: Reporter = { onProgress: () => { throw new Error('boom'); } };
    const after: Reporter = { onProgress: () => { called = true; } };
    await expect(fanOut([broken, after], 'onProgress', 'c1', 'm')).rejects.toThrow('boom');
    expect(called).toBe(true);
  });

  it('collects the paths file reporters wrote', async () => {
    const report = { ...makeRunReport(), outDir: dir };
    const reporters = createReporters(['json', 'junit', ['markdown', { stepSummary: false }], 'html', ['console', { stream: { write: () => true } }]]);
    const paths = writtenPaths(await fanOut(reporters, 'onRunEnd', report));
    expect(paths).toEqual(['report.json', 'junit.xml', 'summary.md', 'report.html'].map((f) => path.join(dir, f)));
    expect((await readdir(dir)).sort()).toEqual(['junit.xml', 'report.html', 'report.json', 'summary.md']);
  });
});
