// Built-in reporters by name, construction from config ('name' or ['name', options]) and the
// one-line fan-out the runner uses for every hook.
import { FaultlineError } from '../errors.ts';
import { ConsoleReporter, type ConsoleReporterOptions } from './console-reporter.ts';
import { HtmlReporter, type HtmlReporterOptions } from './html-reporter.ts';
import { JsonReporter, type JsonReporterOptions } from './json-reporter.ts';
import { JunitReporter, type JunitReporterOptions } from './junit-reporter.ts';
import { MarkdownReporter, type MarkdownReporterOptions } from './markdown-reporter.ts';
import type { Reporter } from './types.ts';

export type { Reporter } from './types.ts';
export type { RunReport, CellReport, Outcome } from '../model/report.ts';
export { ConsoleReporter, defaultColor, type ConsoleReporterOptions, type ConsoleStream } from './console-reporter.ts';
export { HtmlReporter, renderHtml, timelineSvg, type HtmlReporterOptions } from './html-reporter.ts';
export { JsonReporter, renderJson, type JsonReporterOptions } from './json-reporter.ts';
export { JunitReporter, renderJunit, escapeXml, type JunitReporterOptions } from './junit-reporter.ts';
export { MarkdownReporter, renderMarkdown, type MarkdownReporterOptions } from './markdown-reporter.ts';
export { headline, isAsExpected, runAsExpected, tally } from './format.ts';

/** Built-in reporters by the name config uses. */
export const builtinReporters = {
  json: JsonReporter,
  junit: JunitReporter,
  markdown: MarkdownReporter,
  console: ConsoleReporter,
  html: HtmlReporter,
} as const;

export type BuiltinReporterName = keyof typeof builtinReporters;

export interface BuiltinReporterOptions {
  json: JsonReporterOptions;
  junit: JunitReporterOptions;
  markdown: MarkdownReporterOptions;
  console: ConsoleReporterOptions;
  html: HtmlReporterOptions;
}

/** One entry of a reporter list: a built-in name, a name with options, or a reporter object. */
export type ReporterSpec =
  | BuiltinReporterName
  | { [K in BuiltinReporterName]: [K, BuiltinReporterOptions[K]] }[BuiltinReporterName]
  | Reporter
  | (string & {})
  | [string, unknown];

/** The default set for `faultline run`. */
export const DEFAULT_REPORTERS: readonly BuiltinReporterName[] = ['console', 'json', 'junit', 'markdown', 'html'];

function isBuiltin(name: string): name is BuiltinReporterName {
  return Object.hasOwn(builtinReporters, name);
}

function describe(value: unknown): string {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  return `\`${shown}\` (${type})`;
}

/** Builds reporters from config; unknown names and malformed entries are usage errors. */
export function createReporters(specs: readonly ReporterSpec[]): Reporter[] {
  const known = Object.keys(builtinReporters).join(', ');
  return specs.map((spec) => {
    if (typeof spec === 'object' && spec !== null && !Array.isArray(spec)) return spec as Reporter;
    const [name, options] = Array.isArray(spec) ? spec : [spec, undefined];
    if (typeof name !== 'string') {
      throw new FaultlineError('usage', `Expected a reporter name or ['name', options], got ${describe(spec)}`);
    }
    if (!isBuiltin(name)) throw new FaultlineError('usage', `Unknown reporter '${name}'; expected one of ${known}`);
    if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
      throw new FaultlineError('usage', `Expected the options of reporter \`${name}\` to be an object, got ${describe(options)}`);
    }
    const Ctor = builtinReporters[name] as new (options?: object) => Reporter;
    return new Ctor(options ?? {});
  });
}

type HookName = keyof Reporter;
type HookArgs<H extends HookName> = Parameters<NonNullable<Reporter[H]>>;
type HookResult<H extends HookName> = Awaited<ReturnType<NonNullable<Reporter[H]>>> | undefined;

/**
 * Calls `hook` on every reporter that has it, concurrently, and resolves with their results in order
 * (for onRunEnd: the paths file reporters wrote). Every reporter is called even when one throws
 * synchronously; the first failure rejects, as Promise.all does.
 */
export function fanOut<H extends HookName>(reporters: readonly Reporter[], hook: H, ...args: HookArgs<H>): Promise<HookResult<H>[]> {
  return Promise.all(
    reporters.map(async (r) => (r[hook] as ((...a: HookArgs<H>) => HookResult<H> | Promise<HookResult<H>>) | undefined)?.call(r, ...args)),
  );
}

/** The paths file reporters wrote, from fanOut(reporters, 'onRunEnd', report). */
export function writtenPaths(results: readonly unknown[]): string[] {
  return results.filter((r): r is string => typeof r === 'string');
}
