// The shape of one CLI command; main.ts parses flags with node:util parseArgs and dispatches.
import type { ParseArgsConfig } from 'node:util';

export interface CommandIO {
  out(line: string): void;
  err(line: string): void;
  /** Aborted on SIGINT/SIGTERM; long work must stop and clean up. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** One line per option for --help. */
  optionHelp?: Record<string, string>;
  /** Returns the exit code. Throws FaultlineError for user mistakes and environment failures. */
  run(values: Record<string, string | boolean | string[] | boolean[] | undefined>, positionals: string[], io: CommandIO): Promise<number>;
}
