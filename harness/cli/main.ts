// The only place that turns errors into exit codes and prints them (docs/ARCHITECTURE.md "Errors and exit codes").
import { parseArgs } from 'node:util';
import { EXIT, FaultlineError, InvalidInputError, errorMessage, exitCodeFor, formatLocation, isSystemError } from '../errors.ts';
import { releaseActiveRuns } from '../ledger/ledger.ts';
import { allReapers } from '../backends/index.ts';
import type { Command, CommandIO } from './command.ts';
import { commands } from './commands/index.ts';

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: faultline <command> [options]',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'faultline <command> --help' for a command's options.",
    'Exit codes: 0 as expected, 1 unexpected outcome, 2 invalid input, 3 missing prerequisite or environment failure, 4 internal error.',
  ].join('\n');
}

function commandHelp(cmd: Command): string {
  const lines = [`usage: ${cmd.usage}`, '', cmd.summary];
  const opts = Object.entries(cmd.options);
  if (opts.length) {
    lines.push('', 'options:');
    const flags = opts.map(([name, o]) => `--${name}${o.type === 'string' ? ' <value>' : ''}`);
    const width = Math.max(...flags.map((f) => f.length));
    opts.forEach(([name, o], i) => {
      const help = [cmd.optionHelp?.[name], o.multiple ? '(repeatable)' : undefined].filter(Boolean).join(' ');
      lines.push(`  ${flags[i]!.padEnd(width)}  ${help}`.trimEnd());
    });
  }
  return lines.join('\n');
}

/** Most a hard stop waits for the nodes to die before exiting anyway (their holders die with us). */
const HARD_STOP_MS = 10_000;

// The second signal: kill every node of the runs this process owns and remove their dirs, then exit,
// whatever the cells are still waiting for.
async function hardStop(err: (line: string) => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), HARD_STOP_MS);
  });
  try {
    const r = await Promise.race([releaseActiveRuns(allReapers()), late]);
    if (r === 'late') err("faultline: the nodes did not go in time; run 'faultline gc' to remove what is left");
  } catch (e) {
    err(`faultline: stopping left something behind (${errorMessage(e)}); run 'faultline gc'`);
  } finally {
    clearTimeout(timer);
  }
}

export async function main(argv: string[], io?: Partial<CommandIO>): Promise<number> {
  const out = io?.out ?? ((l: string) => process.stdout.write(l + '\n'));
  const err = io?.err ?? ((l: string) => process.stderr.write(l + '\n'));
  const controller = new AbortController();
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      err(`faultline: ${sig} received, cleaning up (send again to wait less; SIGKILL leaves work for 'faultline gc')`);
      controller.abort(new FaultlineError('interrupted', `interrupted by ${sig}`));
      return;
    }
    if (stopping) return;
    stopping = true;
    err(`faultline: ${sig} received again: stopping now, killing the run's nodes (no report is written)`);
    void hardStop(err).finally(() => process.exit(sig === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint));
  };
  const installSignals = !io?.signal;
  if (installSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const signal = io?.signal ?? controller.signal;
  try {
    const [name, ...rest] = argv;
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      out(usage());
      return name ? EXIT.ok : EXIT.invalidInput;
    }
    if (name === '--version') {
      out((await import('../version.ts')).FAULTLINE_VERSION);
      return EXIT.ok;
    }
    const cmd = commands.find((c) => c.name === name);
    if (!cmd) throw new FaultlineError('usage', `unknown command '${name}'\n\n${usage()}`);
    if (rest.includes('--help') || rest.includes('-h')) {
      out(commandHelp(cmd));
      return EXIT.ok;
    }
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: cmd.options, allowPositionals: true, strict: true });
    } catch (e) {
      throw new FaultlineError('usage', `${(e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, '')}\nusage: ${cmd.usage}`);
    }
    return await cmd.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals, { out, err, signal });
  } catch (e) {
    const code = exitCodeFor(e);
    if (e instanceof InvalidInputError) {
      for (const p of e.problems) err(`error: ${formatLocation(p.location)}: ${p.message}`);
    } else if (e instanceof FaultlineError) {
      err(`error: ${e.location ? formatLocation(e.location) + ': ' : ''}${e.message}`);
      if (e.hint) err(`hint: ${e.hint}`);
    } else if (isSystemError(e)) {
      err(`error: ${e.message}`); // the machine refused a file or process operation: no stack trace
    } else {
      err(`internal error (a bug in faultline, please report it): ${(e as Error)?.stack ?? String(e)}`);
    }
    return code;
  } finally {
    if (installSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
