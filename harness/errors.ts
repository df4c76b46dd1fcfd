// One error type for everything faultline reports to a user. The CLI is the only place that maps
// `code` to an exit code and prints; everywhere else throws FaultlineError with a clear message.

export type ErrorCode =
  | 'usage' // bad flag or argument: exit 2
  | 'invalid-input' // a scenario or profile file is wrong: exit 2
  | 'prerequisite' // something the machine lacks (binary, package, privilege): exit 3
  | 'environment' // the machine failed us (namespace, mount, download): exit 3
  | 'interrupted' // SIGINT / SIGTERM: exit 130 / 143
  | 'internal'; // a bug in faultline: exit 4

export interface Location {
  file: string;
  line?: number; // 1-based
  column?: number; // 1-based
}

export class FaultlineError extends Error {
  readonly code: ErrorCode;
  readonly location?: Location;
  /** What the user can do about it, printed on its own line. */
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; location?: Location; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FaultlineError';
    this.code = code;
    if (options.location) this.location = options.location;
    if (options.hint) this.hint = options.hint;
  }
}

/** Several located problems in one input file, reported together. */
export class InvalidInputError extends FaultlineError {
  readonly problems: readonly { location: Location; message: string }[];
  constructor(problems: { location: Location; message: string }[]) {
    const first = problems[0];
    super('invalid-input', problems.map((p) => `${formatLocation(p.location)}: ${p.message}`).join('\n'), {
      ...(first ? { location: first.location } : {}),
    });
    this.problems = problems;
  }
}

export function formatLocation(loc: Location): string {
  if (loc.line === undefined) return loc.file;
  return loc.column === undefined ? `${loc.file}:${loc.line}` : `${loc.file}:${loc.line}:${loc.column}`;
}

export const EXIT = {
  ok: 0,
  unexpectedOutcome: 1,
  invalidInput: 2,
  environment: 3,
  internal: 4,
  sigint: 130,
  sigterm: 143,
} as const;

/**
 * An error of a system call (ENOENT, ENOSPC, EROFS...): the machine refused, which is an environment
 * failure, not a bug of faultline.
 */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException | undefined;
  return err instanceof Error && typeof e?.code === 'string' && /^E[A-Z0-9]+$/.test(e.code) && typeof e.syscall === 'string';
}

export function exitCodeFor(err: unknown): number {
  if (isSystemError(err)) return EXIT.environment;
  if (!(err instanceof FaultlineError)) return EXIT.internal;
  switch (err.code) {
    case 'usage':
    case 'invalid-input':
      return EXIT.invalidInput;
    case 'prerequisite':
    case 'environment':
      return EXIT.environment;
    case 'interrupted':
      return err.message.includes('SIGTERM') ? EXIT.sigterm : EXIT.sigint;
    case 'internal':
      return EXIT.internal;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
