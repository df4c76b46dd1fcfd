// `faultline merge-reports <dir>... --out DIR`: the shards of one run (`run --shard i/n`) merged into
// the report of the whole run: report.json, junit.xml, summary.md (appended to $GITHUB_STEP_SUMMARY
// when set) and report.html, with each cell's artifacts.
import type { Command } from '../command.ts';
import { FaultlineError } from '../../errors.ts';
import { mergeReports } from '../../runner/merge.ts';
import { runExitCode } from '../../runner/outcome.ts';
import { createReporters } from '../../reporters/index.ts';
import { headline } from '../../reporters/format.ts';

/** The documents a merge writes by default: every file reporter. */
export const MERGE_REPORTERS = ['json', 'junit', 'markdown', 'html'] as const;

export const mergeReportsCommand: Command = {
  name: 'merge-reports',
  summary: 'Merge the shards of one run (run --shard i/n) into the report of the whole run.',
  usage: 'faultline merge-reports <dirs...> --out DIR [--reporter NAME]... [--allow-missing]',
  optionHelp: {
    out: 'directory for the merged report (required; not one of the shards\' directories)',
    reporter: 'json, junit, markdown, html, console (default: json, junit, markdown, html)',
    'allow-missing': 'merge even when shards are missing; the report names them and their cells',
  },
  options: {
    out: { type: 'string' },
    reporter: { type: 'string', multiple: true },
    'allow-missing': { type: 'boolean' },
  },
  async run(values, positionals, io) {
    if (!positionals.length) throw new FaultlineError('usage', 'name the shards\' report directories, e.g. faultline merge-reports shards/ --out reports/merged');
    if (typeof values.out !== 'string' || values.out === '') throw new FaultlineError('usage', 'merge-reports needs --out DIR, the directory for the merged report');
    const report = await mergeReports({
      dirs: positionals,
      out: values.out,
      reporters: createReporters((values.reporter as string[] | undefined) ?? MERGE_REPORTERS),
      ...(values['allow-missing'] ? { allowMissing: true } : {}),
      argv: process.argv.slice(2),
    });
    const m = report.merged!;
    io.out(`merged ${m.shards.length} shard${m.shards.length === 1 ? '' : 's'} of run ${m.runKey}${m.label ? ` (${m.label})` : ''}: ${report.cells.length} cells`);
    for (const missing of m.missing ?? []) io.out(`MISSING shard ${missing.index}/${m.shards[0]!.total}: ${missing.cells.length} cell(s) not in this report`);
    io.out(headline(report));
    if (report.written?.length) io.err(`reports: ${report.written.join(', ')}`);
    // Missing cells are not as expected: a merge that lacks shards never passes.
    return m.missing?.length ? Math.max(1, runExitCode(report.cells)) : runExitCode(report.cells);
  },
};
