// Client of exec-agent.pl: one long-lived agent per powered-on node, started inside the node's
// namespaces; many requests in flight at once. Used by NamespaceNode.exec (local and container
// nodes) to avoid a Node spawn (plus setpriv and nsenter) per command.
import { execa, type ResultPromise } from 'execa';
import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { fileURLToPath } from 'node:url';

const AGENT_SOURCE = readFileSync(fileURLToPath(new URL('./exec-agent.pl', import.meta.url)), 'utf8');

export interface AgentResult {
  exitCode: number;
  signal?: string;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function encodeFields(fields: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of fields) {
    const b = typeof f === 'string' ? Buffer.from(f, 'utf8') : f;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    parts.push(len, b);
  }
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

function decodeFields(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let o = 0;
  while (o < body.length) {
    const l = body.readUInt32BE(o);
    out.push(body.subarray(o + 4, o + 4 + l));
    o += 4 + l;
  }
  return out;
}

// The agent lives as long as its node: frames are read from its stdout as they come (buffer: false
// keeps execa from collecting them too), and a death is an answer to every pending request, not an
// error (reject: false). Detached: its own process group, as the node's processes.
const AGENT_OPTIONS = {
  stdin: 'pipe',
  stdout: 'pipe',
  stderr: 'ignore',
  extendEnv: false,
  detached: true,
  buffer: false,
  reject: false,
} as const;

const signalName = (n: number) => Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0];

export class ExecAgent {
  private readonly child: ResultPromise<typeof AGENT_OPTIONS>;
  private readonly pending = new Map<string, { resolve: (r: AgentResult) => void }>();
  private buf: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private dead = false;

  /** Starts the agent inside the namespaces of `holderPid` (mount, uts, net, ipc if asked; pid: the node's own). */
  constructor(holderPid: number, pathEnv: string, opts: { ipc?: boolean } = {}) {
    this.child = execa(
      'setpriv',
      ['--pdeathsig', 'KILL', '--', 'nsenter', '-t', String(holderPid), '-m', '-u', ...(opts.ipc ? ['-i'] : []), '-n', `--pid=/proc/${holderPid}/ns/pid_for_children`, '--', 'perl', '-e', AGENT_SOURCE, '/run/.faultline-agent.lock', '/run/.faultline-agent'],
      { ...AGENT_OPTIONS, env: { PATH: pathEnv } },
    );
    this.child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.stdin.on('error', () => this.fail());
    this.child.on('exit', () => this.fail());
    // Settles (never rejects: reject is off) once the agent is gone, whatever ended it.
    void this.child.then(() => this.fail());
  }

  get alive(): boolean {
    return !this.dead;
  }

  run(argv: readonly string[], opts: { env: Record<string, string>; stdin?: string | Uint8Array; timeoutMs?: number; netns?: string }): Promise<AgentResult> {
    if (this.dead) return Promise.resolve(killed());
    const id = String(this.nextId++);
    const env = Object.entries(opts.env).flat();
    const frame = encodeFields([
      id,
      String(opts.timeoutMs ?? 0),
      opts.netns ?? '',
      String(argv.length),
      ...argv,
      String(env.length / 2),
      ...env,
      opts.stdin === undefined ? '' : Buffer.from(opts.stdin),
    ]);
    return new Promise((resolve) => {
      this.pending.set(id, { resolve });
      this.child.stdin.write(frame);
    });
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (this.buf.length < 4 + len) return;
      const [id, code, sig, stdout, stderr, timedOut] = decodeFields(this.buf.subarray(4, 4 + len));
      this.buf = this.buf.subarray(4 + len);
      const p = this.pending.get(id!.toString());
      if (!p) continue;
      this.pending.delete(id!.toString());
      const signal = sig!.length ? signalName(Number(sig!.toString())) : undefined;
      p.resolve({ exitCode: Number(code!.toString()), ...(signal ? { signal } : {}), stdout: stdout!.toString('utf8'), stderr: stderr!.toString('utf8'), timedOut: timedOut!.toString() === '1' });
    }
  }

  /** The agent died (the node lost power): what was running died with it. */
  private fail(): void {
    if (this.dead) return;
    this.dead = true;
    for (const p of this.pending.values()) p.resolve(killed());
    this.pending.clear();
  }

  stop(): void {
    this.child.kill('SIGKILL');
    this.fail();
  }
}

function killed(): AgentResult {
  return { exitCode: 137, signal: 'SIGKILL', stdout: '', stderr: 'killed: the node lost power', timedOut: false };
}
