// Loads one YAML document and remembers where every key and value came from, so that schema and
// semantic errors found later can name file:line:col. Parsing is the `yaml` package's (its CST
// parser, composer and LineCounter give exact ranges and located syntax errors); this file only
// turns the composed nodes into key-path positions and refuses what a data file must not hold.
// (faultline reads YAML with `yaml` everywhere; js-yaml is kept only for writing YAML, in shrink/.)
// A leaf: nothing of the harness is imported; problems are returned and the caller raises them.
import {
  Composer,
  CST,
  LineCounter,
  Parser,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Alias,
  type Node as YamlNode,
  type Pair,
  type YAMLError,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import type { Problem } from './dsl.ts';

/** 1-based line and column in the source file. */
export interface SourcePosition {
  line: number;
  column: number;
}

/**
 * Positions by key path: "cluster.nodes" is where the value of `nodes` starts, "cluster.nodes#key"
 * where the key itself is written (see positionKey). Block list items use their index ("steps.0");
 * their "#key" entry is the item's dash. The document itself is "".
 */
export type PositionMap = Map<string, SourcePosition>;

export type KeyPath = readonly (string | number)[];

/** A problem at file:line:col (the shape of the harness's located errors). */
export interface YamlProblem {
  location: { file: string; line: number; column: number };
  message: string;
}

/** A document plus where each of its parts is written, or why it could not be read. */
export type YamlResult = { ok: true; value: unknown; positions: PositionMap } | { ok: false; problems: YamlProblem[] };

export interface YamlOptions {
  /** What the file holds, for messages: "scenario" gives "a scenario file holds one YAML document". */
  noun?: string;
  /** What an empty file should have held, e.g. "a scenario mapping (name, description, ...)". */
  expected?: string;
}

/** Bigger documents (after alias expansion) are refused: a scenario is a page, not a data set. */
export const MAX_DOCUMENT_VALUES = 100_000;
/** Deeper nesting is refused before composing (a few kilobytes of '[' would exhaust the stack). */
export const MAX_NESTING_DEPTH = 64;
/** The `yaml` package's own alias-bomb guard, a second line behind MAX_DOCUMENT_VALUES. */
const MAX_ALIAS_COUNT = 1000;

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

/**
 * Schema problems at file:line:col, in file order, each message prefixed with its key path (and
 * `prefix`, e.g. "runtime profile: "). A missing key points at its mapping's key.
 */
export function locateProblems(problems: readonly Problem[], positions: PositionMap, file: string, prefix = ''): YamlProblem[] {
  return problems
    .map((p) => {
      const atKey = p.atKey === true || p.message.startsWith('missing required key');
      const pos = locate(positions, p.path, atKey);
      return { location: { file, line: pos.line, column: pos.column }, message: `${prefix}${pathString(p.path) || 'top level'}: ${p.message}` };
    })
    .sort((a, b) => a.location.line - b.location.line || a.location.column - b.location.column);
}

/**
 * Parses one YAML 1.2 document (core schema plus `<<` merge keys) with positions. Refuses, each at
 * its place: syntax errors, tabs in indentation, duplicate keys, unknown tags, aliases with no
 * anchor before them or inside their own anchor, non-scalar keys, nesting deeper than
 * MAX_NESTING_DEPTH, documents bigger than MAX_DOCUMENT_VALUES once aliases expand, an empty file
 * and several documents.
 */
export function parseYamlWithPositions(source: string, file: string, options: YamlOptions = {}): YamlResult {
  const noun = options.noun ?? 'YAML';
  // A byte order mark is not part of the text a column counts; a lone CR is a line break in YAML.
  const text = (source.charCodeAt(0) === 0xfeff ? source.slice(1) : source).replace(/\r(?!\n)/g, '\n');
  const lines = new LineCounter();
  const at = (offset: number): SourcePosition => {
    const p = lines.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const problem = (offset: number, message: string): YamlProblem => ({ location: { file, ...at(offset) }, message });
  const fail = (problems: YamlProblem[]): YamlResult => ({
    ok: false,
    problems: problems.sort((a, b) => a.location.line - b.location.line || a.location.column - b.location.column),
  });

  const tokens = [...new Parser(lines.addNewLine).parse(text)];
  const documents = tokens.filter((t): t is CST.Document => t.type === 'document');
  for (const d of documents) {
    const deep = tooDeep(d);
    if (deep !== undefined) return fail([problem(deep, `nesting deeper than ${MAX_NESTING_DEPTH} levels; a ${noun} file is expected to be much flatter`)]);
  }

  const composer = new Composer({ prettyErrors: false, keepSourceTokens: true, merge: true, uniqueKeys: false, resolveKnownTags: false });
  const docs = [...composer.compose(tokens)];
  const doc = docs[0];
  const problems = yamlErrors([...(doc?.errors ?? composer.streamInfo().errors), ...(doc?.warnings ?? [])], at).map((e) => problem(e.offset, e.message));
  if (doc?.directives.yaml.explicit && doc.directives.yaml.version !== '1.2') {
    const directive = tokens.find((t) => t.type === 'directive' && t.source.startsWith('%YAML'));
    problems.push(problem(directive?.offset ?? 0, `%YAML ${doc.directives.yaml.version} is not supported: faultline reads YAML 1.2 (remove the %YAML line)`));
  }
  if (docs.length > 1) {
    problems.push(problem(documents[1]?.offset ?? 0, `a ${noun} file holds one YAML document, found ${docs.length}; put each ${noun} in its own file (or remove this '---')`));
  }
  if (problems.length) return fail(problems);

  const contents = doc?.contents ?? null;
  if (!doc || contents === null || (isScalar(contents) && contents.value === null)) {
    const written = contents?.range && contents.range[1] > contents.range[0] ? contents.range[0] : undefined;
    return fail([problem(written ?? documents[0]?.offset ?? 0, `the file is empty; expected ${options.expected ?? `a ${noun} document`}`)]);
  }

  const walker = new PositionWalker(at, noun);
  walker.document(contents);
  if (walker.problems.length) return fail(walker.problems.map((p) => problem(p.offset, p.message)));

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // Only the alias guard is expected here: everything else toJS refuses was refused above.
    const offset = walker.firstAlias ?? 0;
    return fail([problem(offset, `the document could not be read: ${(e as Error).message}${e instanceof ReferenceError ? ` (more than ${MAX_ALIAS_COUNT} alias uses, weighted by what they contain)` : ''}`)]);
  }
  return { ok: true, value, positions: walker.positions };
}

// The offset of the first item nested deeper than MAX_NESTING_DEPTH, if any (walks the CST, whose
// visitor stops at once: nothing recursive has seen the deep part yet).
function tooDeep(document: CST.Document): number | undefined {
  let found: number | undefined;
  CST.visit(document, (item, path) => {
    if (path.length <= MAX_NESTING_DEPTH) return undefined;
    found = item.start[0]?.offset ?? item.key?.offset ?? item.value?.offset ?? document.offset;
    return CST.visit.BREAK;
  });
  return found;
}

// yaml's errors and warnings as messages, one per place, in faultline's words where they differ.
function yamlErrors(errors: readonly YAMLError[], at: (offset: number) => SourcePosition): { offset: number; message: string }[] {
  const out: { offset: number; message: string }[] = [];
  // "a: 1\n  b: 2" gives both of these at the value; the second one says what went wrong.
  const multiline = new Set(errors.filter((e) => e.code === 'MULTILINE_IMPLICIT_KEY').map((e) => e.pos[0]));
  for (const e of errors) {
    if (e.code === 'BLOCK_AS_IMPLICIT_KEY' && multiline.has(e.pos[0])) continue;
    let offset = e.pos[0];
    let message: string;
    switch (e.code) {
      case 'TAB_AS_INDENT':
        message = 'YAML syntax error: tab characters must not be used in indentation (indent with spaces)';
        break;
      case 'MULTILINE_IMPLICIT_KEY': {
        // Point at the ':' ending the key, on the line that is indented wrong or lacks its own key.
        const start = at(e.pos[0]);
        offset = e.pos[1];
        message = `YAML syntax error: bad indentation of a mapping entry: the text from ${start.line}:${start.column} up to this ':' reads as one key over several lines (indent this line like the keys beside it, or end the line above with ':')`;
        break;
      }
      case 'TAG_RESOLVE_FAILED':
        message = `${e.message.replace(/^Unresolved tag: /, 'unknown tag ').replace('tag:yaml.org,2002:', '!!')}: only plain YAML 1.2 values are read (strings, numbers, booleans, null, lists, mappings)`;
        break;
      default:
        message = `YAML syntax error: ${e.message.charAt(0).toLowerCase()}${e.message.slice(1)}`;
    }
    // Later errors at a place already reported follow from the first one.
    if (!out.some((o) => o.offset === offset)) out.push({ offset, message });
  }
  return out;
}

type Shape = YamlNode | null;

// Turns composed nodes into key-path positions, checking what yaml accepts but a data file must not
// hold. Aliases point at themselves; what they stand for points at where it is written.
class PositionWalker {
  readonly positions: PositionMap = new Map();
  readonly problems: { offset: number; message: string }[] = [];
  /** Where the first alias is written (for the alias guard's message). */
  firstAlias: number | undefined;
  /** Anchors defined so far, in document order: an alias refers to the last one before it. */
  private readonly anchors = new Map<string, YamlNode>();
  /** What each alias refers to, resolved when the walk in document order reaches it. */
  private readonly targets = new Map<Alias, YamlNode>();
  /** Collections being walked, outermost first (an alias to one of them never ends). */
  private readonly open = new Set<YamlNode>();
  private values = 0;
  private depth = 0;
  /** The outermost alias being expanded, where a too big expansion is reported. */
  private expanding: Alias | undefined;
  private stopped = false;
  /** Above 0 while checking what is not recorded at a path of its own (inline merge sources). */
  private muted = 0;

  constructor(
    private readonly at: (offset: number) => SourcePosition,
    private readonly noun: string,
  ) {}

  document(root: YamlNode): void {
    this.node(root, [], undefined, true);
  }

  private report(offset: number, message: string): void {
    this.problems.push({ offset, message });
  }

  private set(path: KeyPath, offset: number, atKey = false): void {
    if (this.muted === 0) this.positions.set(positionKey(path, atKey), this.at(offset));
  }

  /**
   * Records `node` at `path` (at `fallback` when nothing is written there, as for `key:` alone).
   * `written` is false while expanding an alias: anchors and aliases were checked where written.
   */
  private node(node: Shape, path: KeyPath, fallback: number | undefined, written: boolean): void {
    if (this.stopped) return;
    if (++this.values > MAX_DOCUMENT_VALUES) {
      this.stopped = true;
      const small = `a ${this.noun} file is expected to be much smaller`;
      if (this.expanding) this.report(this.expanding.range?.[0] ?? 0, `the document expands to more than ${MAX_DOCUMENT_VALUES} values through this alias and the aliases inside its anchor; ${small}`);
      else this.report(node?.range?.[0] ?? fallback ?? 0, `the document holds more than ${MAX_DOCUMENT_VALUES} values (this one is past the limit); ${small}`);
      return;
    }
    const start = node?.range && (node.range[1] > node.range[0] || !isScalar(node)) ? node.range[0] : fallback;
    if (start !== undefined) this.set(path, start);
    if (!node) return;
    if (written && node.anchor) this.anchors.set(node.anchor, node);

    if (isAlias(node)) {
      const target = written ? this.resolve(node) : this.targets.get(node);
      if (!target) return;
      if (this.depth + 1 > MAX_NESTING_DEPTH) {
        this.report(node.range?.[0] ?? 0, `nesting deeper than ${MAX_NESTING_DEPTH} levels through aliases; a ${this.noun} file is expected to be much flatter`);
        this.stopped = true;
        return;
      }
      const outer = this.expanding;
      this.expanding ??= node;
      this.depth++;
      this.shape(target, path, false);
      this.depth--;
      this.expanding = outer;
      return;
    }
    this.shape(node, path, written);
  }

  // Records the inside of a collection; scalars have none.
  private shape(node: YamlNode, path: KeyPath, written: boolean): void {
    if (!isMap(node) && !isSeq(node)) return;
    this.open.add(node);
    this.depth++;
    if (isMap(node)) this.mapping(node, path, written);
    else this.sequence(node, path, written);
    this.depth--;
    this.open.delete(node);
  }

  // What an alias refers to, or a problem when nothing before it or something around it is named so.
  private resolve(alias: Alias): YamlNode | undefined {
    const offset = alias.range?.[0] ?? 0;
    this.firstAlias ??= offset;
    const target = this.anchors.get(alias.source);
    if (!target) {
      this.report(offset, `alias *${alias.source} refers to no anchor before it (write &${alias.source} on the value first)`);
      return undefined;
    }
    if (this.open.has(target)) {
      this.report(offset, `alias *${alias.source} refers to a node that contains it (an endless document)`);
      return undefined;
    }
    this.targets.set(alias, target);
    return target;
  }

  private mapping(node: YAMLMap, path: KeyPath, written: boolean): void {
    // Keys written in the mapping win over keys merged in with `<<`, wherever the `<<` stands.
    const taken = new Map<string, number>();
    const named: { pair: Pair; name: string }[] = [];
    const merges: Pair[] = [];
    for (const pair of node.items as Pair[]) {
      if (isMergeKey(pair.key)) {
        merges.push(pair);
        continue;
      }
      const name = this.keyName(pair.key, written);
      if (name === undefined) continue;
      const keyAt = keyOffset(pair);
      const first = taken.get(name);
      if (first !== undefined) {
        if (written) {
          const pos = this.at(first);
          this.report(keyAt, `duplicate key '${name}': a key may appear only once in a mapping (first at ${pos.line}:${pos.column})`);
        }
        continue;
      }
      taken.set(name, keyAt);
      named.push({ pair, name });
    }
    for (const pair of node.items as Pair[]) {
      if (merges.includes(pair)) {
        this.merge(pair, path, taken, written);
        continue;
      }
      const entry = named.find((n) => n.pair === pair);
      if (!entry) continue;
      const keyAt = keyOffset(pair);
      const keyPath = [...path, entry.name];
      this.set(keyPath, keyAt, true);
      this.node(pair.value as Shape, keyPath, keyAt, written);
    }
  }

  // `<<: *base` or `<<: [*a, *b]`: the merged keys not written here, each where its source has it.
  private merge(pair: Pair, path: KeyPath, taken: Map<string, number>, written: boolean): void {
    const value = pair.value as Shape;
    const here = value?.range?.[0] ?? keyOffset(pair);
    const sources: Shape[] = isSeq(value) ? (value.items as Shape[]) : [value];
    for (const source of sources) {
      let map: Shape = source;
      if (isAlias(source)) map = (written ? this.resolve(source) : this.targets.get(source)) ?? null;
      else if (written && map) this.checkUnrecorded(map);
      if (!isMap(map)) {
        if (written && !(isAlias(source) && map === null)) this.report(source?.range?.[0] ?? here, "a merge key '<<' takes a mapping, an alias of one, or a list of those");
        continue;
      }
      for (const p of map.items as Pair[]) {
        if (isMergeKey(p.key)) continue; // merges inside the source are not followed for positions
        const name = this.keyName(p.key, false);
        if (name === undefined || taken.has(name)) continue;
        const keyAt = keyOffset(p);
        taken.set(name, keyAt);
        const keyPath = [...path, name];
        this.set(keyPath, keyAt, true);
        this.node(p.value as Shape, keyPath, keyAt, false);
      }
    }
  }

  // An inline merge source is written here: its anchors and aliases count; its keys' positions are
  // recorded by the merge, under the mapping it is merged into.
  private checkUnrecorded(node: YamlNode): void {
    this.muted++;
    this.node(node, [], undefined, true);
    this.muted--;
  }

  // The name a key gets in the loaded object; scalars only.
  private keyName(key: unknown, written: boolean): string | undefined {
    let k = key as Shape;
    if (isAlias(k)) k = (written ? this.resolve(k) : this.targets.get(k)) ?? null;
    if (k === null || isScalar(k)) {
      const v = k?.value ?? null;
      return v === null ? '' : String(v); // as yaml's toJS names them
    }
    if (written) this.report((key as YamlNode).range?.[0] ?? 0, `a mapping key must be a single value, found a ${isSeq(k) ? 'list' : 'mapping'}`);
    return undefined;
  }

  private sequence(node: YAMLSeq, path: KeyPath, written: boolean): void {
    const items = node.items as Shape[];
    // A block list's dashes, in order (the composer skips CST items without one: comments only).
    const dashes = node.srcToken?.type === 'block-seq'
      ? node.srcToken.items.flatMap((i) => i.start.filter((t) => t.type === 'seq-item-ind').map((t) => t.offset))
      : [];
    items.forEach((item, index) => {
      const dash = dashes[index];
      if (dash !== undefined) this.set([...path, index], dash, true);
      this.node(item, [...path, index], dash ?? item?.range?.[0], written);
    });
  }
}

const isMergeKey = (key: unknown): boolean => isScalar(key) && typeof key.value === 'symbol' && key.value.description === '<<';

function keyOffset(pair: Pair): number {
  const key = pair.key as Shape;
  return key?.range?.[0] ?? (pair.value as Shape)?.range?.[0] ?? 0;
}
