// Runs a host tool with an argv array (never a shell string), collecting its output; abortable.
import { spawn } from 'node:child_process';
import { FaultlineError } from '../errors.ts';
import { throwIfAborted } from './cache.ts';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ToolOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal | undefined;
  /** Debian package that provides the tool, named in the error when it is missing. */
  providedBy?: string;
  input?: string;
}

export function runTool(cmd: string, args: string[], opts: ToolOptions = {}): Promise<ToolResult> {
  throwIfAborted(opts.signal);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        reject(
          new FaultlineError('prerequisite', `${cmd} not found`, {
            hint: opts.providedBy ? `apt-get install ${opts.providedBy}` : `install ${cmd}`,
          }),
        );
      } else if (e.name === 'AbortError') {
        try {
          throwIfAborted(opts.signal);
        } catch (a) {
          reject(a);
          return;
        }
        reject(new FaultlineError('interrupted', 'interrupted'));
      } else reject(e);
    });
    child.on('close', (code, sig) => {
      if (opts.signal?.aborted) {
        try {
          throwIfAborted(opts.signal);
        } catch (a) {
          reject(a);
        }
        return;
      }
      resolve({ code: code ?? (sig ? 128 : 1), stdout, stderr });
    });
  });
}
