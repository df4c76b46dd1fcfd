// Runs a host tool with an argv array (never a shell string), collecting its output; abortable.
import { execa } from 'execa';
import { FaultlineError } from '../errors.ts';
import { throwIfAborted } from './cache.ts';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ToolOptions {
  cwd?: string;
  /** The tool's whole environment (default: faultline's own). */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal | undefined;
  /** Debian package that provides the tool, named in the error when it is missing. */
  providedBy?: string;
  input?: string;
}

/**
 * Resolves with the exit code (128 when a signal ended the tool) and the output as written; rejects
 * with FaultlineError('prerequisite') when the tool is not installed, and with the abort reason (or
 * 'interrupted') once `signal` aborts, after the tool has exited.
 */
export async function runTool(cmd: string, args: string[], opts: ToolOptions = {}): Promise<ToolResult> {
  throwIfAborted(opts.signal);
  const r = await execa(cmd, args, {
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    env: opts.env ?? process.env,
    extendEnv: false,
    ...(opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input }),
    ...(opts.signal ? { cancelSignal: opts.signal } : {}),
    reject: false,
    stripFinalNewline: false,
  });
  if (r.isCanceled) {
    throwIfAborted(opts.signal);
    throw new FaultlineError('interrupted', 'interrupted');
  }
  if (r.failed && r.exitCode === undefined && r.signal === undefined) {
    // Not started: the tool is missing (ENOENT), or not executable.
    if (r.code === 'ENOENT') {
      throw new FaultlineError('prerequisite', `${cmd} not found`, { hint: opts.providedBy ? `apt-get install ${opts.providedBy}` : `install ${cmd}` });
    }
    throw new FaultlineError('environment', `cannot run ${cmd}: ${r.shortMessage}`, { cause: r.cause });
  }
  return { code: r.exitCode ?? (r.signal ? 128 : 1), stdout: r.stdout, stderr: r.stderr };
}
