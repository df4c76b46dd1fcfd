// Loads one YAML document and remembers where every key and value came from, so that schema and
// semantic errors found later can name file:line:col. Positions come from js-yaml's parse events:
// each node opens and closes once, and the tree of those events mirrors the document.
import yaml from 'js-yaml';
import { InvalidInputError, type Location } from '../errors.ts';

/** 1-based line and column in the source file. */
export interface SourcePosition {
  line: number;
  column: number;
}

/**
 * Positions by key path: "cluster.nodes" is where the value of `nodes` starts, "cluster.nodes#key"
 * where the key itself is written (see positionKey). List items use their index ("steps.0"); their
 * "#key" entry is the item's dash. The document itself is "".
 */
export type PositionMap = Map<string, SourcePosition>;

export type KeyPath = readonly (string | number)[];

/** A document plus where each of its parts is written. */
export interface PositionedDocument {
  value: unknown;
  positions: PositionMap;
}

/** Bigger documents (after alias expansion) are refused: a scenario is a page, not a data set. */
export const MAX_DOCUMENT_VALUES = 100_000;

/** Plain YAML 1.2 core types (no timestamps, no binary), plus `<<` merge keys. */
const SCHEMA = yaml.CORE_SCHEMA.extend({ implicit: [(yaml as unknown as { types: { merge: yaml.Type } }).types.merge] });

// "cluster.nodes" from ['cluster', 'nodes']; the document itself is "".
export function pathString(path: KeyPath): string {
  return path.join('.');
}

// The map key for a path's value, or for its key when atKey.
export function positionKey(path: KeyPath, atKey = false): string {
  return atKey ? `${pathString(path)}#key` : pathString(path);
}

/**
 * Where to point for a path: its value (or key), else the closest written ancestor (a default
 * filled in by the schema has no position of its own).
 */
export function locate(positions: PositionMap, path: KeyPath, atKey = false): SourcePosition {
  const exact = positions.get(positionKey(path, atKey)) ?? (atKey ? positions.get(positionKey(path)) : positions.get(positionKey(path, true)));
  if (exact) return exact;
  for (let n = path.length - 1; n >= 0; n--) {
    const p = path.slice(0, n);
    const found = positions.get(positionKey(p, true)) ?? positions.get(positionKey(p));
    if (found) return found;
  }
  return { line: 1, column: 1 };
}

interface RawNode {
  open: number;
  /** First character of the node's content (after spaces, line breaks and comments). */
  start: number;
  end: number;
  kind: string | null;
  result: unknown;
  anchor: string | null;
  /** The anchored node this alias (`*name`) stands for. */
  aliasOf?: RawNode;
  children: RawNode[];
}

// Offsets to 1-based line/column, with \n, \r\n and \r as line breaks (as js-yaml counts them).
class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch === 0x0a) this.starts.push(i + 1);
      else if (ch === 0x0d) {
        if (text.charCodeAt(i + 1) === 0x0a) i++;
        this.starts.push(i + 1);
      }
    }
  }
  at(offset: number): SourcePosition {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo]! + 1 };
  }
}

const isBlank = (ch: string | undefined) => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';

// Skips spaces, line breaks and comments from `i`; the first content character's offset.
function skipToContent(text: string, i: number, limit = text.length): number {
  while (i < limit) {
    const ch = text[i];
    if (isBlank(ch)) i++;
    else if (ch === '#' && (i === 0 || isBlank(text[i - 1]))) {
      while (i < limit && text[i] !== '\n' && text[i] !== '\r') i++;
    } else break;
  }
  return i;
}

// Whether a ':' follows the node ending at `end` (possibly after spaces): the node is a key.
function followedByColon(text: string, end: number): boolean {
  let i = end;
  while (text[i] === ' ' || text[i] === '\t') i++;
  return text[i] === ':';
}

/** Turns a js-yaml failure into a located message; `file` names the source in the location. */
function syntaxProblem(err: yaml.YAMLException, text: string, file: string): { location: Location; message: string } {
  const mark = err.mark as yaml.YAMLException['mark'] | undefined;
  const location: Location = mark ? { file, line: mark.line + 1, column: mark.column + 1 } : { file };
  const reason = err.reason || err.message;
  if (reason === 'duplicated mapping key' && mark) {
    const key = /^\s*("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^:#\r\n]+?)\s*:/.exec(text.slice(mark.position))?.[1];
    return { location, message: `duplicate key${key ? ` '${key.replace(/^["']|["']$/g, '')}'` : ''}: a key may appear only once in a mapping` };
  }
  if (/tab/.test(reason)) return { location, message: `YAML syntax error: ${reason} (indent with spaces)` };
  return { location, message: `YAML syntax error: ${reason}` };
}

/**
 * Parses one YAML document with positions. Throws InvalidInputError (located) for syntax errors,
 * duplicate keys, an empty file, several documents, or a document too big once aliases expand.
 */
export function parseYamlWithPositions(source: string, file: string): PositionedDocument {
  const text = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  const lines = new LineIndex(text);
  const roots: RawNode[] = [];
  const stack: RawNode[] = [];
  const anchors = new Map<string, RawNode>();

  const listener = (event: yaml.EventType, state: yaml.State) => {
    if (event === 'open') {
      stack.push({ open: state.position, start: state.position, end: state.position, kind: null, result: undefined, anchor: null, children: [] });
      return;
    }
    const node = stack.pop();
    if (!node) return;
    const st = state as yaml.State & { anchor?: string | null };
    node.end = state.position;
    node.kind = state.kind ?? null;
    node.result = state.result;
    node.anchor = st.anchor ?? null;
    node.start = skipToContent(text, node.open, Math.max(node.end, node.open));
    if (text[node.start] === '*') {
      const name = /^\*([^\s,[\]{}]+)/.exec(text.slice(node.start))?.[1];
      const target = name === undefined ? undefined : anchors.get(name);
      if (target) node.aliasOf = target;
    }
    if (node.anchor && node.start < node.end) anchors.set(node.anchor, node);
    const siblings = stack.length ? stack[stack.length - 1]!.children : roots;
    // js-yaml backtracks in rare cases (properties before a block mapping): a sibling that overlaps
    // this node was an abandoned attempt.
    while (siblings.length && siblings[siblings.length - 1]!.end > node.open) siblings.pop();
    siblings.push(node);
  };

  let docs: unknown[];
  try {
    docs = yaml.loadAll(text, null, { filename: file, schema: SCHEMA, listener });
  } catch (e) {
    if (e instanceof yaml.YAMLException) throw new InvalidInputError([syntaxProblem(e, text, file)]);
    throw e;
  }

  if (docs.length > 1) {
    const second = roots[1];
    const before = second ? text.lastIndexOf('---', second.open) : -1;
    const at = lines.at(before >= 0 ? before : second?.start ?? 0);
    throw new InvalidInputError([{
      location: { file, ...at },
      message: `a scenario file holds one YAML document, found ${docs.length}; put each scenario in its own file (or remove this '---')`,
    }]);
  }
  const value = docs[0];
  if (value === undefined || value === null) {
    const firstContent = skipToContent(text, 0);
    const at = firstContent < text.length ? lines.at(firstContent) : { line: 1, column: 1 };
    throw new InvalidInputError([{ location: { file, ...at }, message: 'the file is empty; expected a scenario mapping (name, description, cluster, ...)' }]);
  }
  const count = countValues(value, MAX_DOCUMENT_VALUES);
  if (count > MAX_DOCUMENT_VALUES) {
    throw new InvalidInputError([{
      location: { file, line: 1, column: 1 },
      message: count === Infinity
        ? 'an alias refers to a node that contains it (an endless document)'
        : `the document expands to more than ${MAX_DOCUMENT_VALUES} values (through aliases?); a scenario is expected to be much smaller`,
    }]);
  }

  const positions: PositionMap = new Map();
  const root = roots[0];
  if (root) new PositionWalker(text, lines, positions).walk(root, [], false);
  return { value, positions };
}

// Counts values with aliases expanded, stopping once past `limit`; Infinity for an alias cycle.
function countValues(value: unknown, limit: number): number {
  let n = 0;
  const open = new Set<object>();
  const visit = (v: unknown): void => {
    if (++n > limit || v === null || typeof v !== 'object') return;
    if (open.has(v)) {
      n = Infinity;
      return;
    }
    open.add(v);
    for (const x of Array.isArray(v) ? v : Object.values(v)) {
      visit(x);
      if (n > limit) break;
    }
    open.delete(v);
  };
  visit(value);
  return n;
}

// Turns the event tree into key-path positions.
class PositionWalker {
  private depth = 0;
  constructor(
    private readonly text: string,
    private readonly lines: LineIndex,
    private readonly positions: PositionMap,
  ) {}

  private set(key: string, offset: number, fillOnly: boolean): void {
    if (fillOnly && this.positions.has(key)) return;
    this.positions.set(key, this.lines.at(offset));
  }

  private isEmpty(node: RawNode): boolean {
    return node.start >= node.end && node.aliasOf === undefined;
  }

  /** Records `node` at `path`; an alias takes the shape of its anchor but keeps its own position. */
  walk(node: RawNode, path: KeyPath, fillOnly: boolean): void {
    if (++this.depth > 200) return void this.depth--; // alias cycles cannot occur, deep nesting can
    this.set(positionKey(path), node.start, fillOnly);
    const shape = node.aliasOf ?? node;
    if (shape.kind === 'mapping') this.mapping(shape, path, fillOnly || shape !== node);
    else if (shape.kind === 'sequence') this.sequence(shape, path, fillOnly || shape !== node);
    this.depth--;
  }

  private mapping(node: RawNode, path: KeyPath, fillOnly: boolean): void {
    const merges: RawNode[] = [];
    const kids = node.children;
    for (let i = 0; i < kids.length; i++) {
      const key = kids[i]!;
      if (!followedByColon(this.text, key.end)) continue; // a key without ':' (flow `{a}`): no value node
      const value = kids[i + 1] && !followedByColon(this.text, kids[i + 1]!.end) ? kids[++i] : undefined;
      const name = keyName(key.result);
      if (name === '<<' && value) {
        merges.push(value);
        continue;
      }
      const keyPath = [...path, name];
      if (fillOnly && this.positions.has(positionKey(keyPath, true))) continue; // written explicitly
      this.set(positionKey(keyPath, true), key.start, fillOnly);
      if (!value || this.isEmpty(value)) this.set(positionKey(keyPath), key.start, fillOnly);
      else this.walk(value, keyPath, fillOnly);
    }
    // Keys merged in with `<<` point at where they are written in the anchored mapping.
    for (const m of merges) {
      const shape = m.aliasOf ?? m;
      const sources = shape.kind === 'sequence' ? shape.children.map((c) => c.aliasOf ?? c) : [shape];
      for (const src of sources) if (src.kind === 'mapping') this.mapping(src, path, true);
    }
  }

  private sequence(node: RawNode, path: KeyPath, fillOnly: boolean): void {
    if (this.text[node.start] === '-') this.blockSequence(node, path, fillOnly);
    else this.flowSequence(node, path, fillOnly);
  }

  // Items of a block sequence start at the dashes in the sequence's column; an item may have no node.
  private blockSequence(node: RawNode, path: KeyPath, fillOnly: boolean): void {
    const column = this.lines.at(node.start).column;
    const dashes: number[] = [];
    for (let i = node.start; i < node.end; i++) {
      if (this.text[i] !== '-' || !/^[\s]?$/.test(this.text[i + 1] ?? '')) continue;
      if (i !== node.start) {
        const pos = this.lines.at(i);
        if (pos.column !== column || this.text.slice(i - column + 1, i).trim() !== '') continue;
      }
      dashes.push(i);
    }
    const items = new Map<number, RawNode>();
    for (const child of node.children) {
      const index = dashes.filter((d) => d < child.open).length - 1;
      if (index >= 0 && !this.isEmpty(child)) items.set(index, child);
    }
    dashes.forEach((d, index) => {
      this.set(positionKey([...path, index], true), d, fillOnly);
      const child = items.get(index);
      if (child) this.walk(child, [...path, index], fillOnly);
      else this.set(positionKey([...path, index]), d, fillOnly);
    });
  }

  // `[a, b: 1]`: each entry is a node, or a key and a value forming a one-key mapping.
  private flowSequence(node: RawNode, path: KeyPath, fillOnly: boolean): void {
    const kids = node.children;
    let index = 0;
    for (let i = 0; i < kids.length; i++, index++) {
      const kid = kids[i]!;
      if (followedByColon(this.text, kid.end)) {
        const value = kids[i + 1] && !followedByColon(this.text, kids[i + 1]!.end) ? kids[++i] : undefined;
        const itemPath = [...path, index];
        this.set(positionKey(itemPath), kid.start, fillOnly);
        const keyPath = [...itemPath, keyName(kid.result)];
        this.set(positionKey(keyPath, true), kid.start, fillOnly);
        if (!value || this.isEmpty(value)) this.set(positionKey(keyPath), kid.start, fillOnly);
        else this.walk(value, keyPath, fillOnly);
      } else {
        this.walk(kid, [...path, index], fillOnly);
      }
    }
  }
}

// js-yaml turns every key into a string the same way.
function keyName(result: unknown): string {
  if (result !== null && typeof result === 'object' && !Array.isArray(result)) return '[object Object]';
  return String(result);
}
