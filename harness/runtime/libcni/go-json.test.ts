import { describe, expect, it } from 'vitest';
import { goDecodeCniVersion, goJsonMarshal, goJsonString, goJsonSyntaxError } from './go-json.ts';

describe("Go encoding/json's syntax errors", () => {
  const cases: [string, string | undefined][] = [
    ['', 'unexpected end of JSON input'],
    ['   \n', 'unexpected end of JSON input'],
    ['{"kind":"cniCacheV1"', 'unexpected end of JSON input'],
    ['{"a":"abc', 'unexpected end of JSON input'],
    ['x', "invalid character 'x' looking for beginning of value"],
    ['\u0000\u0000', "invalid character '\\x00' looking for beginning of value"],
    ['{a:1}', "invalid character 'a' looking for beginning of object key string"],
    ['{"a":1,}', "invalid character '}' looking for beginning of object key string"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', "invalid character '\"' after object key:value pair"],
    ['[1 2]', "invalid character '2' after array element"],
    ['[1,]', "invalid character ']' looking for beginning of value"],
    ['{} {}', "invalid character '{' after top-level value"],
    ['01', "invalid character '1' after top-level value"],
    ['"a\nb"', "invalid character '\\n' in string literal"],
    ['"\\q"', "invalid character 'q' in string escape code"],
    ['"\\u12G4"', "invalid character 'G' in \\u hexadecimal character escape"],
    ['-', "invalid character ' ' in numeric literal"],
    ['-a', "invalid character 'a' in numeric literal"],
    ['1.', "invalid character ' ' after decimal point in numeric literal"],
    ['1e+', "invalid character ' ' in exponent of numeric literal"],
    ['tru', "invalid character ' ' in literal true (expecting 'e')"],
    ['nul!', "invalid character '!' in literal null (expecting 'l')"],
    ["{'a':1}", "invalid character '\\'' looking for beginning of object key string"],
    ['{"a":[1,{"b":null}],"c":-1.5e3}', undefined],
    [' 7 ', undefined],
  ];
  it.each(cases)('%j', (input, expected) => {
    expect(goJsonSyntaxError(input)).toBe(expected);
  });
});

describe("libcni's version decoding", () => {
  it('defaults to "" and reports type errors as Go does', () => {
    expect(goDecodeCniVersion('{"cniVersion":"0.4.0","ips":[]}')).toEqual({ version: '0.4.0' });
    expect(goDecodeCniVersion('{"CNIVersion":"1.0.0"}')).toEqual({ version: '1.0.0' });
    expect(goDecodeCniVersion('{}')).toEqual({ version: '' });
    expect(goDecodeCniVersion('{"cniVersion":4}')).toEqual({ error: 'json: cannot unmarshal number into Go struct field .cniVersion of type string' });
    expect(goDecodeCniVersion('')).toEqual({ error: 'unexpected end of JSON input' });
  });
});

describe("Go's encoder", () => {
  it('sorts map keys, writes compact JSON and escapes HTML characters', () => {
    expect(goJsonMarshal({ z: 1, a: [true, null, 'x'], m: { b: '<&>', a: 2.5 } })).toBe('{"a":[true,null,"x"],"m":{"a":2.5,"b":"\\u003c\\u0026\\u003e"},"z":1}');
    expect(goJsonString('line\u2028sep')).toBe('"line\\u2028sep"');
  });
});
