import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.ts';
import { locate, parseYamlWithPositions, positionKey, type PositionMap } from './yaml.ts';

const at = (positions: PositionMap, key: string) => {
  const p = positions.get(key);
  return p ? `${p.line}:${p.column}` : undefined;
};

// The located problems of a failing parse.
function problemsOf(text: string): { where: string; message: string }[] {
  try {
    parseYamlWithPositions(text, 'f.yaml');
  } catch (e) {
    if (!(e instanceof InvalidInputError)) throw e;
    return e.problems.map((p) => ({ where: `${p.location.line}:${p.location.column}`, message: p.message }));
  }
  throw new Error('expected the parse to fail');
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
    expect(problemsOf('a:\n  b: 1\n    c: 2\n')).toEqual([{ where: '3:6', message: 'YAML syntax error: bad indentation of a mapping entry' }]);
    expect(problemsOf('a:\n\tb: 1\n')[0]).toEqual({ where: '2:1', message: expect.stringContaining('tab characters must not be used in indentation') });
    expect(problemsOf('a: 1\nb:\n  c: 1\n  "c": 2\n')).toEqual([{ where: '4:3', message: "duplicate key 'c': a key may appear only once in a mapping" }]);
  });

  it('refuses empty files, several documents, alias cycles and alias bombs', () => {
    expect(problemsOf('')).toEqual([{ where: '1:1', message: expect.stringContaining('the file is empty') }]);
    expect(problemsOf('# nothing but a comment\n\n')[0]!.message).toContain('the file is empty');
    expect(problemsOf('a: 1\n---\nb: 2\n')).toEqual([{ where: '2:1', message: expect.stringContaining('one YAML document, found 2') }]);
    expect(problemsOf('a: &a [*a]\n')[0]!.message).toContain('refers to a node that contains it');
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 7; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    expect(problemsOf(bomb.join('\n') + '\n')[0]!.message).toContain('expands to more than');
  });

  it('accepts a single document with a leading ---', () => {
    expect(parseYamlWithPositions('---\na: 1\n', 'f.yaml').value).toEqual({ a: 1 });
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
