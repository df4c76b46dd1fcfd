// One timeline per cell: steps, operations, observations, warnings and verdicts all append to it;
// reporters and checkers only read it (Jepsen's history).

export type Verdict = 'pass' | 'fail' | 'unknown';

/** Evidence names concrete things: the leaked file, the orphaned link, the error string. */
export interface Evidence {
  /** One line a person reads in a summary. */
  summary: string;
  node?: string;
  file?: string;
  link?: string;
  error?: string;
  [key: string]: unknown;
}

export interface AssertionResult {
  name: string;
  /** 'during' for invariants, 'end' for assertions. */
  phase: 'during' | 'end';
  status: Verdict;
  evidence: Evidence[];
  /** For invariants: index of the timeline entry after which it first failed. */
  firstViolationAt?: number;
}

export interface Reservation {
  network: string;
  ip: string;
  /** Container id and ifname parsed from host-local's file; undefined when unreadable. */
  containerId?: string;
  ifName?: string;
  file: string;
  mtimeMs: number;
  unreadable?: string;
}

export interface Attachment {
  pod: string;
  network: string;
  containerId: string;
  ifName: string;
  netns: string;
  ips: string[];
}

export interface LinkInfo {
  name: string;
  kind: string;
  /** Peer's ifindex / netns id for veths, as ip -j link reports. */
  peer?: string;
  master?: string;
  up: boolean;
  /** Whose namespace holds the link: 'node' or a pod's netns name. */
  ns: string;
}

export interface CacheEntry {
  file: string;
  state: 'valid' | 'empty' | 'corrupt';
  containerId?: string;
  ifName?: string;
  networkName?: string;
  error?: string;
}

export interface IptablesChain {
  table: string;
  chain: string;
  /** Owner container ids from the rules' comments (`id: "<cid>"`). */
  owners: string[];
  rules: number;
}

export interface NodeSnapshot {
  node: string;
  running: boolean;
  bootedAtMs?: number;
  reservations: Reservation[];
  attachments: Attachment[];
  links: LinkInfo[];
  netns: string[];
  cache?: CacheEntry[];
  iptables?: IptablesChain[];
  /** Free addresses per host-local network, where the range is known. */
  headroom?: Record<string, { capacity: number; used: number; free: number }>;
  extra?: Record<string, unknown>;
}

export type TimelineEntry =
  | { at: number; kind: 'step'; index: number; step: string; detail: string; result: 'ok' | 'error'; error?: string; durationMs: number }
  | { at: number; kind: 'op'; op: string; node: string; pod?: string; result: 'ok' | 'error'; error?: string; durationMs: number; detail?: Record<string, unknown> }
  | { at: number; kind: 'observation'; after: string; nodes: NodeSnapshot[] }
  | { at: number; kind: 'warning'; message: string }
  | { at: number; kind: 'verdict'; result: AssertionResult };

/** An entry without its timestamp (distributes over the union). */
export type TimelineInput = TimelineEntry extends infer E ? (E extends TimelineEntry ? Omit<E, 'at'> : never) : never;

export class Timeline {
  readonly entries: TimelineEntry[] = [];
  readonly warnings: string[] = [];
  private readonly startedAt = Date.now();

  /** Milliseconds since the cell started. */
  now(): number {
    return Date.now() - this.startedAt;
  }

  add(entry: TimelineInput): number {
    this.entries.push({ ...entry, at: this.now() } as TimelineEntry);
    return this.entries.length - 1;
  }

  warn(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message);
    this.add({ kind: 'warning', message });
  }

  lastObservation(): Extract<TimelineEntry, { kind: 'observation' }> | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.kind === 'observation') return e;
    }
    return undefined;
  }
}
