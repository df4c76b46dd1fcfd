// What Go's encoding/json says and writes, where the runtime must match libcni byte for byte:
// - the syntax error texts of json.Unmarshal (libcni puts them into its cache errors), and
// - the encoding of the result cache (struct fields in declaration order, map keys sorted, HTML
//   characters escaped).

class GoSyntaxError extends Error {}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** Go's quoteChar: how the scanner prints the offending byte. */
export function goQuoteChar(c: number): string {
  if (c === 0x27) return `'\\''`;
  if (c === 0x22) return `'"'`;
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 0x5c: '\\\\' };
  if (named[c]) return `'${named[c]}'`;
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, '0')}'`;
  // A byte >= 0x80 is printed as the rune with that value (string(byte) in Go).
  if ((c >= 0x80 && c <= 0xa0) || c === 0xad) return `'\\u00${c.toString(16).padStart(2, '0')}'`;
  return `'${String.fromCharCode(c)}'`;
}

class Scanner {
  i = 0;
  constructor(private readonly b: Uint8Array) {}

  private eof(): boolean {
    return this.i >= this.b.length;
  }
  private fail(c: number, context: string): never {
    throw new GoSyntaxError(`invalid character ${goQuoteChar(c)} ${context}`);
  }
  private end(): never {
    throw new GoSyntaxError('unexpected end of JSON input');
  }
  /** At the end of input Go's scanner feeds a space: inside a number, literal or escape that is an error of its own. */
  private cur(contextAtEof?: string): number {
    if (this.eof()) {
      if (contextAtEof) this.fail(0x20, contextAtEof);
      this.end();
    }
    return this.b[this.i]!;
  }
  private skipWs(): void {
    while (!this.eof() && WS.has(this.b[this.i]!)) this.i++;
  }

  top(): void {
    this.skipWs();
    this.value();
    this.skipWs();
    if (!this.eof()) this.fail(this.b[this.i]!, 'after top-level value');
  }

  private value(): void {
    this.skipWs();
    const c = this.cur();
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c === 0x74) return this.literal('true');
    if (c === 0x66) return this.literal('false');
    if (c === 0x6e) return this.literal('null');
    this.fail(c, 'looking for beginning of value');
  }

  private object(): void {
    this.i++;
    this.skipWs();
    if (this.cur() === 0x7d) {
      this.i++;
      return;
    }
    for (;;) {
      this.skipWs();
      const k = this.cur();
      if (k !== 0x22) this.fail(k, 'looking for beginning of object key string');
      this.string();
      this.skipWs();
      const colon = this.cur();
      if (colon !== 0x3a) this.fail(colon, 'after object key');
      this.i++;
      this.value();
      this.skipWs();
      const c = this.cur();
      if (c === 0x2c) {
        this.i++;
        continue;
      }
      if (c === 0x7d) {
        this.i++;
        return;
      }
      this.fail(c, 'after object key:value pair');
    }
  }

  private array(): void {
    this.i++;
    this.skipWs();
    if (this.cur() === 0x5d) {
      this.i++;
      return;
    }
    for (;;) {
      this.value();
      this.skipWs();
      const c = this.cur();
      if (c === 0x2c) {
        this.i++;
        continue;
      }
      if (c === 0x5d) {
        this.i++;
        return;
      }
      this.fail(c, 'after array element');
    }
  }

  private string(): void {
    this.i++;
    for (;;) {
      const c = this.cur();
      if (c === 0x22) {
        this.i++;
        return;
      }
      if (c === 0x5c) {
        this.i++;
        const e = this.cur('in string escape code');
        if ('bfnrt\\/"'.includes(String.fromCharCode(e))) {
          this.i++;
        } else if (e === 0x75) {
          this.i++;
          for (let k = 0; k < 4; k++) {
            const h = this.cur('in \\u hexadecimal character escape');
            if (!/[0-9a-fA-F]/.test(String.fromCharCode(h))) this.fail(h, 'in \\u hexadecimal character escape');
            this.i++;
          }
        } else {
          this.fail(e, 'in string escape code');
        }
        continue;
      }
      if (c < 0x20) this.fail(c, 'in string literal');
      this.i++;
    }
  }

  private digits(): void {
    while (!this.eof() && this.b[this.i]! >= 0x30 && this.b[this.i]! <= 0x39) this.i++;
  }

  private number(): void {
    if (this.b[this.i] === 0x2d) {
      this.i++;
      const c = this.cur('in numeric literal');
      if (c < 0x30 || c > 0x39) this.fail(c, 'in numeric literal');
    }
    if (this.b[this.i] === 0x30) this.i++;
    else this.digits();
    if (!this.eof() && this.b[this.i] === 0x2e) {
      this.i++;
      const c = this.cur('after decimal point in numeric literal');
      if (c < 0x30 || c > 0x39) this.fail(c, 'after decimal point in numeric literal');
      this.digits();
    }
    if (!this.eof() && (this.b[this.i] === 0x65 || this.b[this.i] === 0x45)) {
      this.i++;
      let c = this.cur('in exponent of numeric literal');
      if (c === 0x2b || c === 0x2d) {
        this.i++;
        c = this.cur('in exponent of numeric literal');
      }
      if (c < 0x30 || c > 0x39) this.fail(c, 'in exponent of numeric literal');
      this.digits();
    }
  }

  private literal(word: string): void {
    this.i++;
    for (const ch of word.slice(1)) {
      const ctx = `in literal ${word} (expecting '${ch}')`;
      const c = this.cur(ctx);
      if (c !== ch.charCodeAt(0)) this.fail(c, ctx);
      this.i++;
    }
  }
}

/** The error text Go's json.Unmarshal gives for these bytes' syntax, or undefined if they are valid JSON. */
export function goJsonSyntaxError(data: Uint8Array | string): string | undefined {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  try {
    new Scanner(bytes).top();
    return undefined;
  } catch (e) {
    if (e instanceof GoSyntaxError) return e.message;
    throw e;
  }
}

/** Go's name for a JSON value's kind in UnmarshalTypeError ("number", "array"...). */
export function goJsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'boolean') return 'bool';
  return typeof v; // string, number
}

/**
 * Go's json.Unmarshal into `struct{ CNIVersion string "json:\"cniVersion\"" }` (libcni's version
 * decoder): the version ("" when absent) or Go's error text.
 */
export function goDecodeCniVersion(data: Uint8Array | string): { version: string } | { error: string } {
  const syntax = goJsonSyntaxError(data);
  if (syntax) return { error: syntax };
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  const v: unknown = JSON.parse(text);
  if (v === null) return { version: '' };
  if (typeof v !== 'object' || Array.isArray(v)) {
    return { error: `json: cannot unmarshal ${goJsonKind(v)} into Go value of type struct { CNIVersion string "json:\\"cniVersion\\"" }` };
  }
  let version = '';
  // Go matches keys case-insensitively; the last match wins.
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (k.toLowerCase() !== 'cniversion') continue;
    if (val === null) continue;
    if (typeof val !== 'string') return { error: `json: cannot unmarshal ${goJsonKind(val)} into Go struct field .cniVersion of type string` };
    version = val;
  }
  return { version };
}

/** A string as Go's encoder writes it (HTML-safe escaping of <, >, &, U+2028, U+2029). */
export function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Any decoded JSON value as Go writes a map[string]interface{} of it: keys sorted, compact. */
export function goJsonMarshal(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goJsonString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map(goJsonMarshal).join(',')}]`;
  if (typeof v === 'object') {
    const rec = v as Record<string, unknown>;
    // Go sorts map keys by their bytes.
    const keys = Object.keys(rec).filter((k) => rec[k] !== undefined).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return `{${keys.map((k) => `${goJsonString(k)}:${goJsonMarshal(rec[k])}`).join(',')}}`;
  }
  return 'null';
}
