// A small typed schema language: one definition gives the TypeScript type (Infer<>), the validator
// with located, human messages, and the JSON Schema that editors use. Faults and assertions declare
// their parameters with it, so the scenario schema is composed from what the code really accepts.

export type Path = readonly (string | number)[];

export interface Problem {
  path: Path;
  /** Point at the key itself rather than its value (unknown keys). */
  atKey?: boolean;
  message: string;
}

/**
 * What a value refers to outside itself, checked by the loader against the scenario (a node of the
 * cluster, a file path or glob on a node): the schema marks the values, `collect` finds them.
 */
export type RefKind = 'node' | 'node-path' | 'node-glob';

export interface Ref {
  kind: RefKind;
  value: string;
  path: Path;
}

export interface Schema<T> {
  readonly _type?: T;
  readonly description?: string;
  validate(value: unknown, path: Path, problems: Problem[]): T | undefined;
  /** Adds the references inside `value` (validated by this schema) to `out`. */
  collect(value: unknown, path: Path, out: Ref[]): void;
  jsonSchema(): Record<string, unknown>;
  /** A short phrase for messages: "an integer >= 1". */
  expected(): string;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

export function describeFound(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return `a list of ${value.length} entr${value.length === 1 ? 'y' : 'ies'}`;
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value)}`;
  return `${typeof value} ${String(value)}`;
}

function make<T>(
  expected: string,
  json: Record<string, unknown>,
  check: (value: unknown, path: Path, problems: Problem[]) => T | undefined,
  description?: string,
  collect: Schema<T>['collect'] = () => {},
): Schema<T> {
  return {
    ...(description ? { description } : {}),
    validate: check,
    collect,
    jsonSchema: () => (description ? { description, ...json } : { ...json }),
    expected: () => expected,
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A string that refers to something of the scenario (see RefKind); validated like `string`. */
export function ref(kind: RefKind, opts: StringOptions = {}): Schema<string> {
  const base = string(opts);
  return { ...base, collect: (v, path, out) => (typeof v === 'string' ? void out.push({ kind, value: v, path }) : undefined) };
}

/** The one node-reference type: a node of the cluster (node-1..node-N), checked by the loader. */
export function nodeRef(description?: string): Schema<string> {
  return ref('node', { pattern: /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, expected: 'a node name of this cluster, like node-1', description: description ?? 'A node of this cluster: node-1 .. node-N.' });
}

function mismatch(problems: Problem[], path: Path, expected: string, value: unknown): undefined {
  problems.push({ path, message: `expected ${expected}, found ${describeFound(value)}` });
  return undefined;
}

export interface StringOptions {
  description?: string;
  pattern?: RegExp;
  /** Extra check after the type test; returns an error text or undefined. */
  check?: (s: string) => string | undefined;
  expected?: string;
  minLength?: number;
}

export function string(opts: StringOptions = {}): Schema<string> {
  const expected = opts.expected ?? (opts.pattern ? `a string matching ${opts.pattern.source}` : 'a string');
  const json: Record<string, unknown> = { type: 'string' };
  if (opts.pattern) json.pattern = opts.pattern.source;
  if (opts.minLength !== undefined) json.minLength = opts.minLength;
  return make(expected, json, (v, path, problems) => {
    if (typeof v === 'number' || typeof v === 'boolean') {
      problems.push({ path, message: `expected ${expected}, found ${describeFound(v)} (put it in quotes to read it as text)` });
      return undefined;
    }
    if (typeof v !== 'string') return mismatch(problems, path, expected, v);
    if (opts.minLength !== undefined && v.length < opts.minLength) return mismatch(problems, path, expected, v);
    if (opts.pattern && !opts.pattern.test(v)) return mismatch(problems, path, expected, v);
    const err = opts.check?.(v);
    if (err) {
      problems.push({ path, message: err });
      return undefined;
    }
    return v;
  }, opts.description);
}

export function literal<const L extends string>(values: readonly L[], description?: string): Schema<L> {
  const expected = values.length === 1 ? JSON.stringify(values[0]) : `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;
  return make(expected, { enum: [...values] }, (v, path, problems) => {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) return mismatch(problems, path, expected, v);
    return v as L;
  }, description);
}

export interface NumberOptions {
  description?: string;
  min?: number;
  max?: number;
  integer?: boolean;
  /** min is exclusive (for rates that must be > 0). */
  exclusiveMin?: boolean;
}

export function number(opts: NumberOptions = {}): Schema<number> {
  const parts = [opts.integer ? 'an integer' : 'a number'];
  if (opts.min !== undefined) parts.push(`${opts.exclusiveMin ? '>' : '>='} ${opts.min}`);
  if (opts.max !== undefined) parts.push(`${opts.min !== undefined ? 'and ' : ''}<= ${opts.max}`);
  const expected = parts.join(' ');
  const json: Record<string, unknown> = { type: opts.integer ? 'integer' : 'number' };
  if (opts.min !== undefined) json[opts.exclusiveMin ? 'exclusiveMinimum' : 'minimum'] = opts.min;
  if (opts.max !== undefined) json.maximum = opts.max;
  return make(expected, json, (v, path, problems) => {
    if (typeof v !== 'number' || Number.isNaN(v)) return mismatch(problems, path, expected, v);
    if (opts.integer && !Number.isInteger(v)) return mismatch(problems, path, expected, v);
    if (opts.min !== undefined && (opts.exclusiveMin ? v <= opts.min : v < opts.min)) return mismatch(problems, path, expected, v);
    if (opts.max !== undefined && v > opts.max) return mismatch(problems, path, expected, v);
    return v;
  }, opts.description);
}

export const integer = (opts: Omit<NumberOptions, 'integer'> = {}) => number({ ...opts, integer: true });

export function boolean(description?: string): Schema<boolean> {
  return make('true or false', { type: 'boolean' }, (v, path, problems) =>
    typeof v === 'boolean' ? v : mismatch(problems, path, 'true or false', v), description);
}

export function array<T>(items: Schema<T>, opts: { description?: string; minItems?: number; unique?: boolean } = {}): Schema<T[]> {
  const expected = `a list${opts.minItems ? ` of at least ${opts.minItems}` : ''} (each ${items.expected()})`;
  const json: Record<string, unknown> = { type: 'array', items: items.jsonSchema() };
  if (opts.minItems !== undefined) json.minItems = opts.minItems;
  if (opts.unique) json.uniqueItems = true;
  return make(expected, json, (v, path, problems) => {
    if (!Array.isArray(v)) return mismatch(problems, path, expected, v);
    if (opts.minItems !== undefined && v.length < opts.minItems) return mismatch(problems, path, expected, v);
    const out: T[] = [];
    let ok = true;
    const seen = new Set<string>();
    v.forEach((item, i) => {
      const r = items.validate(item, [...path, i], problems);
      if (r === undefined) ok = false;
      else out.push(r);
      if (opts.unique) {
        const key = JSON.stringify(item);
        if (seen.has(key)) {
          problems.push({ path: [...path, i], message: `duplicate entry ${JSON.stringify(item)}` });
          ok = false;
        }
        seen.add(key);
      }
    });
    return ok ? out : undefined;
  }, opts.description, (v, path, out) => {
    if (Array.isArray(v)) v.forEach((item, i) => items.collect(item, [...path, i], out));
  });
}

type Field<T> = { schema: Schema<T>; required: boolean; default?: T };
type ReqField<T> = { schema: Schema<T>; required: true };
type OptField<T> = { schema: Schema<T>; required: false };
type DefField<T> = { schema: Schema<T>; required: false; default: T };
export function req<T>(schema: Schema<T>): ReqField<T> {
  return { schema, required: true };
}
export function opt<T>(schema: Schema<T>): OptField<T>;
export function opt<T>(schema: Schema<T>, dflt: T): DefField<T>;
export function opt<T>(schema: Schema<T>, dflt?: T): OptField<T> | DefField<T> {
  return dflt === undefined ? { schema, required: false } : { schema, required: false, default: dflt };
}

type Fields = Record<string, Field<any>>;
type ReqKeys<F extends Fields> = { [K in keyof F]: F[K] extends { required: true } ? K : F[K] extends { default: any } ? K : never }[keyof F];
type OptKeys<F extends Fields> = Exclude<keyof F, ReqKeys<F>>;
type FieldType<X> = X extends Field<infer T> ? T : never;
export type ObjectOf<F extends Fields> = { [K in ReqKeys<F>]: FieldType<F[K]> } & { [K in OptKeys<F>]?: FieldType<F[K]> };

export function object<F extends Fields>(fields: F, opts: { description?: string } = {}): Schema<ObjectOf<F>> {
  const required = Object.entries(fields).filter(([, f]) => f.required).map(([k]) => k);
  const expected = 'a mapping';
  const json: Record<string, unknown> = {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(fields).map(([k, f]) => {
      const js = f.schema.jsonSchema();
      return [k, f.default === undefined ? js : { ...js, default: f.default }];
    })),
  };
  if (required.length) json.required = required;
  return make(expected, json, (v, path, problems) => {
    if (v === null || v === undefined) v = {};
    if (typeof v !== 'object' || Array.isArray(v)) return mismatch(problems, path, 'a mapping', v);
    const rec = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    let ok = true;
    for (const key of Object.keys(rec)) {
      if (!(key in fields)) {
        const near = closest(key, Object.keys(fields));
        problems.push({ path: [...path, key], atKey: true, message: `unknown key '${key}'${near ? ` (did you mean '${near}'?)` : ''}; expected one of: ${Object.keys(fields).join(', ')}` });
        ok = false;
      }
    }
    for (const [key, f] of Object.entries(fields)) {
      if (!(key in rec) || rec[key] === undefined) {
        if (f.required) {
          problems.push({ path, message: `missing required key '${key}' (${f.schema.expected()})` });
          ok = false;
        } else if (f.default !== undefined) out[key] = structuredClone(f.default);
        continue;
      }
      const r = f.schema.validate(rec[key], [...path, key], problems);
      if (r === undefined) ok = false;
      else out[key] = r;
    }
    return ok ? (out as ObjectOf<F>) : undefined;
  }, opts.description, (v, path, out) => {
    if (!isRecord(v)) return;
    for (const [key, f] of Object.entries(fields)) if (v[key] !== undefined) f.schema.collect(v[key], [...path, key], out);
  });
}

/**
 * The candidate closest to `word` (case-insensitive; an edit is an insertion, deletion, change or
 * swap of neighbours), if close enough to be a typo.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const a = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(a.length / 3)) + 1;
  for (const c of candidates) {
    const b = c.toLowerCase();
    const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) {
        const cost = a[i - 1] === b[j - 1] ? 0 : 1;
        let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
        d[i]![j] = v;
      }
    }
    const distance = d[a.length]![b.length]!;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = c;
    }
  }
  return best;
}

/** A mapping with free keys (matrix dimensions, `when` selectors). */
export function record<T>(values: Schema<T>, opts: { description?: string; keyPattern?: RegExp; minProperties?: number } = {}): Schema<Record<string, T>> {
  const expected = `a mapping of ${values.expected()}`;
  const json: Record<string, unknown> = { type: 'object', additionalProperties: values.jsonSchema() };
  if (opts.keyPattern) json.propertyNames = { pattern: opts.keyPattern.source };
  if (opts.minProperties) json.minProperties = opts.minProperties;
  return make(expected, json, (v, path, problems) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return mismatch(problems, path, expected, v);
    const out: Record<string, T> = {};
    let ok = true;
    const entries = Object.entries(v as Record<string, unknown>);
    if (opts.minProperties && entries.length < opts.minProperties) {
      problems.push({ path, message: `expected at least ${opts.minProperties} entr${opts.minProperties === 1 ? 'y' : 'ies'}, found ${entries.length || 'none'}` });
      return undefined;
    }
    for (const [k, item] of entries) {
      if (opts.keyPattern && !opts.keyPattern.test(k)) {
        problems.push({ path: [...path, k], atKey: true, message: `key '${k}' must match ${opts.keyPattern.source}` });
        ok = false;
        continue;
      }
      const r = values.validate(item, [...path, k], problems);
      if (r === undefined) ok = false;
      else out[k] = r;
    }
    return ok ? out : undefined;
  }, opts.description, (v, path, out) => {
    if (isRecord(v)) for (const [k, item] of Object.entries(v)) values.collect(item, [...path, k], out);
  });
}

/**
 * "Exactly one of" these keys, each with its own parameter schema (a step is one fault, an assertion
 * one check). A bare string `- gc` means the key with no parameters.
 */
export function oneKey<T>(options: Record<string, Schema<any>>, build: (key: string, params: any) => T, opts: { description?: string; what: string; extra?: Fields }): Schema<T> {
  const names = Object.keys(options).sort();
  const known = names.length ? names.join(', ') : `none: no ${opts.what} kinds are registered`;
  // Kinds whose parameters are all optional may be written as a bare string (`- gc`).
  const bare = names.filter((n) => options[n]!.validate({}, [], []) !== undefined);
  const extra = opts.extra ?? {};
  const expected = `a mapping with exactly one ${opts.what} key (${known})`;
  const json = !names.length ? { not: {} } : {
    oneOf: [...names.map((n) => ({
      type: 'object',
      additionalProperties: false,
      required: [n],
      properties: {
        [n]: options[n]!.jsonSchema(),
        ...Object.fromEntries(Object.entries(extra).map(([k, f]) => [k, f.schema.jsonSchema()])),
      },
    })), ...(bare.length ? [{ type: 'string', enum: bare, description: `A ${opts.what} without parameters.` }] : [])],
  };
  const hint = (k: string) => {
    const near = closest(k, names);
    return near ? ` (did you mean '${near}'?)` : '';
  };
  return make(expected, json, (v, path, problems) => {
    if (typeof v === 'string') v = { [v]: {} };
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return mismatch(problems, path, expected, v);
    const rec = v as Record<string, unknown>;
    const keys = Object.keys(rec).filter((k) => !(k in extra));
    if (keys.length !== 1) {
      const unknown = keys.filter((k) => !(k in options));
      if (unknown.length) {
        for (const k of unknown) problems.push({ path: [...path, k], atKey: true, message: `unknown ${opts.what} '${k}'${hint(k)}; known: ${known}` });
      } else {
        problems.push({ path, message: keys.length === 0 ? `expected one ${opts.what} key (${known}), found none` : `expected exactly one ${opts.what} key, found ${keys.length}: ${keys.join(', ')}` });
      }
      return undefined;
    }
    const key = keys[0]!;
    const schema = options[key];
    if (!schema) {
      problems.push({ path: [...path, key], atKey: true, message: `unknown ${opts.what} '${key}'${hint(key)}; known: ${known}` });
      return undefined;
    }
    const params = schema.validate(rec[key], [...path, key], problems);
    const extras: Record<string, unknown> = {};
    let ok = params !== undefined;
    for (const [k, f] of Object.entries(extra)) {
      if (rec[k] === undefined) continue;
      const r = f.schema.validate(rec[k], [...path, k], problems);
      if (r === undefined) ok = false;
      else extras[k] = r;
    }
    return ok ? build(key, { ...params, ...extras }) : undefined;
  }, opts.description, (v, path, out) => {
    if (typeof v === 'string') v = { [v]: {} };
    if (!isRecord(v)) return;
    for (const [k, item] of Object.entries(v)) {
      const schema = options[k] ?? extra[k]?.schema;
      schema?.collect(item, [...path, k], out);
    }
  });
}

/** Either of two shapes, tried in order (e.g. a count or a list of names). */
export function either<A, B>(a: Schema<A>, b: Schema<B>, description?: string): Schema<A | B> {
  const expected = `${a.expected()} or ${b.expected()}`;
  return make(expected, { anyOf: [a.jsonSchema(), b.jsonSchema()] }, (v, path, problems) => {
    const pa: Problem[] = [];
    const ra = a.validate(v, path, pa);
    if (ra !== undefined) return ra;
    const pb: Problem[] = [];
    const rb = b.validate(v, path, pb);
    if (rb !== undefined) return rb;
    // Report the branch whose type matched, if any, so the message is specific: its problems are
    // inside the value, or say more than "expected <type>".
    const specific = [pa, pb].find((ps) => ps.length && (ps.some((p) => p.path.length > path.length) || !ps[0]!.message.startsWith('expected ')));
    if (specific) problems.push(...specific);
    else problems.push({ path, message: `expected ${expected}, found ${describeFound(v)}` });
    return undefined;
  }, description, (v, path, out) => {
    // The branch that accepts the value holds its references.
    if (a.validate(v, path, []) !== undefined) a.collect(v, path, out);
    else b.collect(v, path, out);
  });
}

/** Any JSON value (CNI configs inside profiles). */
export function json(description?: string): Schema<unknown> {
  return make('any value', {}, (v) => v, description);
}

/** A schema that contains itself (a step holding steps), written once in the JSON Schema's definitions. */
export interface RecursiveSchema<T> extends Schema<T> {
  /** The name under #/definitions/ that every occurrence refers to. */
  readonly definitionName: string;
  /** The full JSON Schema of the definition (its inner occurrences are $refs). */
  definition(): Record<string, unknown>;
}

/**
 * A recursive schema: `build` gets the schema itself for its inner occurrences. Validation and
 * references follow the value as deep as it goes (the YAML loader bounds the nesting); the JSON
 * Schema refers to `#/definitions/<name>`, which the document must carry (see `definition`).
 */
export function recursive<T>(name: string, build: (self: Schema<T>) => Schema<T>, expected = `a ${name}`): RecursiveSchema<T> {
  let inner: Schema<T> | undefined;
  const ref = { $ref: `#/definitions/${name}` };
  const self: RecursiveSchema<T> = {
    definitionName: name,
    validate: (v, path, problems) => inner!.validate(v, path, problems),
    collect: (v, path, out) => inner!.collect(v, path, out),
    jsonSchema: () => ({ ...ref }),
    // Asked while `build` runs (a list's message), before the inner schema exists.
    expected: () => (inner ? inner.expected() : expected),
    definition: () => inner!.jsonSchema(),
  };
  inner = build(self);
  return self;
}

/**
 * A schema with a check across its fields, run once the value is valid (a stack needs a profile or
 * its networks); the check returns problems at paths relative to the value.
 */
export function refine<T>(schema: Schema<T>, check: (value: T) => { path?: Path; atKey?: boolean; message: string }[]): Schema<T> {
  return {
    ...schema,
    validate(v, path, problems) {
      const r = schema.validate(v, path, problems);
      if (r === undefined) return undefined;
      const found = check(r);
      for (const p of found) problems.push({ path: [...path, ...(p.path ?? [])], ...(p.atKey ? { atKey: true } : {}), message: p.message });
      return found.length ? undefined : r;
    },
  };
}
