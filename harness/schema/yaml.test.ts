import { describe, expect, it } from 'vitest';
import { locate, locateProblems, MAX_DOCUMENT_VALUES, MAX_NESTING_DEPTH, parseYamlWithPositions as parseResult, positionKey, type PositionMap } from './yaml.ts';

// A parse that must succeed.
function parseYamlWithPositions(text: string, file: string): { value: unknown; positions: PositionMap } {
  const r = parseResult(text, file);
  if (!r.ok) throw new Error(`expected the parse to succeed: ${JSON.stringify(r.problems)}`);
  return r;
}

const at = (positions: PositionMap, key: string) => {
  const p = positions.get(key);
  return p ? `${p.line}:${p.column}` : undefined;
};

// The located problems of a failing parse.
function problemsOf(text: string): { where: string; message: string }[] {
  const r = parseResult(text, 'f.yaml', { noun: 'scenario' });
  if (r.ok) throw new Error('expected the parse to fail');
  for (const p of r.problems) expect(p.location.file).toBe('f.yaml');
  return r.problems.map((p) => ({ where: `${p.location.line}:${p.location.column}`, message: p.message }));
}

describe('parseYamlWithPositions', () => {
  it('records keys and values of nested mappings separately', () => {
    const { value, positions } = parseYamlWithPositions('# comment\nname: x\ncluster:\n  nodes: 2\n  stack:\n    profile: a\n', 'f.yaml');
    expect(value).toEqual({ name: 'x', cluster: { nodes: 2, stack: { profile: 'a' } } });
    expect(at(positions, 'name#key')).toBe('2:1');
    expect(at(positions, 'name')).toBe('2:7');
    expect(at(positions, 'cluster#key')).toBe('3:1');
    expect(at(positions, 'cluster')).toBe('4:3');
    expect(at(positions, 'cluster.nodes#key')).toBe('4:3');
    expect(at(positions, 'cluster.nodes')).toBe('4:10');
    expect(at(positions, 'cluster.stack.profile')).toBe('6:14');
    expect(at(positions, '')).toBe('2:1');
  });

  it('indexes block sequence items, including one-key mappings and empty items', () => {
    const text = 'steps:\n- hard-reboot: {node: node-1, repeat: 2}\n-\n- wait:\n    ms: 3\n-   - a\n    - b\n';
    const { value, positions } = parseYamlWithPositions(text, 'f.yaml');
    expect(value).toEqual({ steps: [{ 'hard-reboot': { node: 'node-1', repeat: 2 } }, null, { wait: { ms: 3 } }, ['a', 'b']] });
    expect(at(positions, 'steps.0#key')).toBe('2:1');
    expect(at(positions, 'steps.0')).toBe('2:3');
    expect(at(positions, 'steps.0.hard-reboot#key')).toBe('2:3');
    expect(at(positions, 'steps.0.hard-reboot.node')).toBe('2:23');
    expect(at(positions, 'steps.0.hard-reboot.repeat#key')).toBe('2:31');
    expect(at(positions, 'steps.1')).toBe('3:1');
    expect(at(positions, 'steps.2.wait.ms')).toBe('5:9');
    expect(at(positions, 'steps.3.1')).toBe('7:7');
  });

  it('handles flow collections, pairs inside flow lists, quoted keys and CRLF line ends', () => {
    const { positions } = parseYamlWithPositions('flow: [a, b: 1, {c: d}]\r\n"quoted key": "v"\r\nnext: 1\r\n', 'f.yaml');
    expect(at(positions, 'flow.0')).toBe('1:8');
    expect(at(positions, 'flow.1.b#key')).toBe('1:11');
    expect(at(positions, 'flow.1.b')).toBe('1:14');
    expect(at(positions, 'flow.2.c')).toBe('1:21');
    expect(at(positions, 'quoted key#key')).toBe('2:1');
    expect(at(positions, 'quoted key')).toBe('2:15');
    expect(at(positions, 'next')).toBe('3:7');
  });

  it('points an empty value at its key', () => {
    const { value, positions } = parseYamlWithPositions('a:\n  b:\n  c: 1\n', 'f.yaml');
    expect(value).toEqual({ a: { b: null, c: 1 } });
    expect(at(positions, 'a.b')).toBe('2:3');
  });

  it('maps aliases and merge keys to where the content is written', () => {
    const text = 'base: &b\n  x: 1\n  y: [1, 2]\nother:\n  <<: *b\n  y: 3\nref: *b\n';
    const { value, positions } = parseYamlWithPositions(text, 'f.yaml');
    expect(value).toEqual({ base: { x: 1, y: [1, 2] }, other: { x: 1, y: 3 }, ref: { x: 1, y: [1, 2] } });
    expect(at(positions, 'other.x')).toBe('2:6'); // merged in from base
    expect(at(positions, 'other.y')).toBe('6:6'); // written explicitly wins
    expect(positions.has('other.y.0')).toBe(false);
    expect(at(positions, 'ref')).toBe('7:6');
    expect(at(positions, 'ref.y.1')).toBe('3:10');
  });

  it('skips a byte order mark so columns stay right', () => {
    const { positions } = parseYamlWithPositions('\ufeffa: 1\n', 'f.yaml');
    expect(at(positions, 'a')).toBe('1:4');
  });

  it('locates syntax errors, tabs and duplicate keys', () => {
    expect(problemsOf('a:\n  b: 1\n    c: 2\n')).toEqual([{ where: '3:6', message: expect.stringContaining('YAML syntax error: bad indentation of a mapping entry: the text from 2:6 up to') }]);
    expect(problemsOf('a:\n\tb: 1\n')[0]).toEqual({ where: '2:1', message: expect.stringContaining('tab characters must not be used in indentation') });
    expect(problemsOf('a: 1\nb:\n  c: 1\n  "c": 2\n')).toEqual([{ where: '4:3', message: "duplicate key 'c': a key may appear only once in a mapping (first at 3:3)" }]);
    expect(problemsOf('a: {x: 1, y: 2, x: 3}\n')).toEqual([{ where: '1:17', message: expect.stringContaining("duplicate key 'x'") }]);
    expect(problemsOf('a: "unclosed\nb: 2\n')).toEqual([{ where: '3:1', message: 'YAML syntax error: missing closing "quote' }]);
    expect(problemsOf('a: [1, 2\nb: 3\n')[0]!.where).toBe('2:1');
  });

  it('reports every syntax error, one per place', () => {
    const problems = problemsOf('a:\n\tb: 1\nc: "x\\q"\n');
    expect(problems.map((p) => p.where)).toEqual(['2:1', '3:6']);
    expect(problems[1]!.message).toContain('invalid escape sequence');
  });

  it('refuses unknown tags, YAML 1.1 documents and non-scalar keys, each where written', () => {
    expect(problemsOf('a: 1\nb: !foo x\n')).toEqual([{ where: '2:4', message: expect.stringMatching(/^unknown tag !foo: only plain YAML 1\.2 values/) }]);
    expect(problemsOf('when: !!timestamp 2001-12-14\n')[0]).toEqual({ where: '1:7', message: expect.stringContaining('unknown tag !!timestamp') });
    expect(problemsOf('%YAML 1.1\n---\na: yes\n')).toEqual([{ where: '1:1', message: expect.stringContaining('%YAML 1.1 is not supported') }]);
    expect(problemsOf('a:\n  {x: 1}: y\n')).toEqual([{ where: '2:3', message: 'a mapping key must be a single value, found a mapping' }]);
    expect(problemsOf('a:\n  ? [x]\n  : y\n')).toEqual([{ where: '2:5', message: 'a mapping key must be a single value, found a list' }]);
  });

  it('keeps YAML 1.2 core types: no timestamps, yes is a string, !!str and !!int are honoured', () => {
    const { value } = parseYamlWithPositions('d: 2001-12-14\ny: yes\nv: 1.10\ns: !!str 1.2\ni: !!int "3"\nn: ~\n', 'f.yaml');
    expect(value).toEqual({ d: '2001-12-14', y: 'yes', v: 1.1, s: '1.2', i: 3, n: null });
  });

  it('places multi-line strings, block scalars and anchored values at their first character', () => {
    const text = 'a: |\n  line 1\n  line 2\nb: >-\n  folded\n  text\nc: "two\n  lines"\nd: plain\n  continued\ne: &anchor\n  - x\nf: !!str 12\n';
    const { value, positions } = parseYamlWithPositions(text, 'f.yaml');
    expect(value).toEqual({ a: 'line 1\nline 2\n', b: 'folded text', c: 'two lines', d: 'plain continued', e: ['x'], f: '12' });
    expect(at(positions, 'a')).toBe('1:4');
    expect(at(positions, 'b')).toBe('4:4');
    expect(at(positions, 'c')).toBe('7:4');
    expect(at(positions, 'd')).toBe('9:4');
    expect(at(positions, 'e')).toBe('12:3');
    expect(at(positions, 'e.0#key')).toBe('12:3');
    expect(at(positions, 'f')).toBe('13:10');
  });

  it('merges a list of sources and inline sources, the first source winning, written keys always', () => {
    const text = 'one: &one {a: 1, b: 1}\ntwo: &two {b: 2, c: 2}\nm:\n  x: 0\n  <<: [*one, *two, {d: 4}]\n  a: 9\n';
    const { value, positions } = parseYamlWithPositions(text, 'f.yaml');
    expect((value as { m: unknown }).m).toEqual({ x: 0, a: 9, b: 1, c: 2, d: 4 });
    expect(at(positions, 'm.a')).toBe('6:6');
    expect(at(positions, 'm.b')).toBe('1:21');
    expect(at(positions, 'm.c')).toBe('2:21');
    expect(at(positions, 'm.d#key')).toBe('5:21');
    expect(problemsOf('a: &a 1\nb:\n  <<: *a\n')).toEqual([{ where: '3:7', message: expect.stringContaining("a merge key '<<' takes a mapping") }]);
  });

  it('refuses aliases with no anchor before them', () => {
    expect(problemsOf('a: *nope\n')).toEqual([{ where: '1:4', message: 'alias *nope refers to no anchor before it (write &nope on the value first)' }]);
    expect(problemsOf('a: *later\nb: &later 1\n')[0]!.where).toBe('1:4');
  });

  it('refuses nesting deeper than MAX_NESTING_DEPTH, in flow and block style and through aliases', () => {
    const deepFlow = `a: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
    expect(problemsOf(deepFlow)).toEqual([{ where: `1:${4 + MAX_NESTING_DEPTH}`, message: expect.stringContaining(`nesting deeper than ${MAX_NESTING_DEPTH} levels`) }]);
    const deepBlock = Array.from({ length: 200 }, (_, i) => `${' '.repeat(i)}k:`).join('\n') + ' 1\n';
    expect(problemsOf(deepBlock)[0]).toEqual({ where: `${MAX_NESTING_DEPTH + 1}:${MAX_NESTING_DEPTH + 1}`, message: expect.stringContaining('nesting deeper than') });
    const chain = ['a0: &a0 [x]', ...Array.from({ length: 70 }, (_, i) => `a${i + 1}: &a${i + 1} [*a${i}]`)].join('\n') + '\n';
    expect(problemsOf(chain)[0]!.message).toContain('through aliases');
    const shallow = Array.from({ length: MAX_NESTING_DEPTH - 1 }, (_, i) => `${' '.repeat(i)}k:`).join('\n') + ' 1\n';
    expect(parseResult(shallow, 'f.yaml').ok).toBe(true);
  });

  it('refuses empty files, several documents, alias cycles and alias bombs', () => {
    expect(problemsOf('')).toEqual([{ where: '1:1', message: expect.stringContaining('the file is empty') }]);
    expect(problemsOf('# nothing but a comment\n\n')[0]!.message).toContain('the file is empty');
    expect(problemsOf('a: 1\n---\nb: 2\n')).toEqual([{ where: '2:1', message: "a scenario file holds one YAML document, found 2; put each scenario in its own file (or remove this '---')" }]);
    expect(problemsOf('# a comment\n---\n')).toEqual([{ where: '2:1', message: 'the file is empty; expected a scenario document' }]);
    expect(problemsOf('\n~\n')).toEqual([{ where: '2:1', message: expect.stringContaining('the file is empty') }]);
    expect(problemsOf('a: &a [*a]\n')).toEqual([{ where: '1:8', message: 'alias *a refers to a node that contains it (an endless document)' }]);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 7; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const [bombed] = problemsOf(bomb.join('\n') + '\n');
    expect(bombed!.message).toContain('expands to more than');
    expect(bombed!.where).toMatch(/^5:/); // in e (11^5 values with the alias nodes), where the limit is crossed
    // The mapping and the list count too: item MAX - 2 (0-based) is the value past the limit.
    expect(problemsOf(`a: [${Array(MAX_DOCUMENT_VALUES).fill('1').join(',')}]\n`)).toEqual([{ where: `1:${5 + 2 * (MAX_DOCUMENT_VALUES - 2)}`, message: expect.stringContaining(`holds more than ${MAX_DOCUMENT_VALUES} values`) }]);
    // yaml's own guard (maxAliasCount) stands behind the exact count, at the first alias.
    expect(problemsOf(`a: &a 1\nb: [${Array(1001).fill('*a').join(', ')}]\n`)).toEqual([{ where: '2:5', message: expect.stringContaining('more than 1000 alias uses') }]);
    // Many uses of small anchors stay within yaml's own guard.
    expect(parseResult(`a: &a {x: 1}\nb: [${Array(500).fill('*a').join(', ')}]\n`, 'f.yaml').ok).toBe(true);
  });

  it('accepts a single document with a leading ---', () => {
    expect(parseYamlWithPositions('---\na: 1\n', 'f.yaml').value).toEqual({ a: 1 });
  });
});

describe('lone CR line ends', () => {
  it('count as line breaks', () => {
    const { positions } = parseYamlWithPositions('a: 1\rb:\r  c: 2\r', 'f.yaml');
    expect(at(positions, 'b.c')).toBe('3:6');
  });
});

describe('locateProblems', () => {
  it('prefixes the key path, points a missing key at its mapping and sorts by place', () => {
    const { positions } = parseYamlWithPositions('a: 1\nb:\n  c: x\n', 'f.yaml');
    const located = locateProblems([
      { path: ['b', 'c'], message: 'expected a number' },
      { path: ['b'], message: "missing required key 'd'" },
      { path: [], message: 'odd' },
      { path: ['z'], atKey: true, message: 'unknown key' },
    ], positions, 'f.yaml', 'profile: ');
    expect(located.map((p) => `${p.location.line}:${p.location.column} ${p.message}`)).toEqual([
      '1:1 profile: top level: odd',
      '1:1 profile: z: unknown key',
      "2:1 profile: b: missing required key 'd'",
      '3:6 profile: b.c: expected a number',
    ]);
  });
});

describe('locate', () => {
  it('falls back to the closest written ancestor', () => {
    const { positions } = parseYamlWithPositions('cluster:\n  stack: {}\n', 'f.yaml');
    expect(locate(positions, ['cluster', 'nodes'])).toEqual({ line: 1, column: 1 });
    expect(locate(positions, ['cluster', 'stack', 'profile'])).toEqual({ line: 2, column: 3 });
    expect(locate(positions, ['cluster', 'stack'], true)).toEqual({ line: 2, column: 3 });
    expect(positionKey(['steps', 0, 'wait'], true)).toBe('steps.0.wait#key');
  });
});
