import { describe, expect, it } from 'vitest';
import * as s from './dsl.ts';

const check = <T>(schema: s.Schema<T>, value: unknown) => {
  const problems: s.Problem[] = [];
  const out = schema.validate(value, ['x'], problems);
  return { out, messages: problems.map((p) => p.message) };
};

describe('schema-dsl messages', () => {
  it('phrases ranges and suggests quoting numbers meant as text', () => {
    expect(check(s.integer({ min: 1, max: 16 }), 0).messages).toEqual(['expected an integer >= 1 and <= 16, found number 0']);
    expect(check(s.integer({ min: 1 }), 'two').messages).toEqual(['expected an integer >= 1, found string "two"']);
    expect(check(s.string(), 1.1).messages).toEqual(['expected a string, found number 1.1 (put it in quotes to read it as text)']);
    expect(check(s.array(s.string(), { minItems: 2 }), 'a').messages).toEqual(['expected a list of at least 2 (each a string), found string "a"']);
  });

  it('suggests the closest key for a typo, and only for a typo', () => {
    const obj = s.object({ nodeMask: s.opt(s.integer()), podCIDR: s.opt(s.string()) });
    expect(check(obj, { nodemask: 1 }).messages[0]).toBe("unknown key 'nodemask' (did you mean 'nodeMask'?); expected one of: nodeMask, podCIDR");
    expect(check(obj, { colour: 1 }).messages[0]).toBe("unknown key 'colour'; expected one of: nodeMask, podCIDR");
    expect(s.closest('stpes', ['steps', 'name'])).toBe('steps');
    expect(s.closest('x', ['steps'])).toBeUndefined();
  });

  it('counts what a record has when it has too few entries', () => {
    expect(check(s.record(s.string(), { minProperties: 2 }), { a: 'b' }).messages).toEqual(['expected at least 2 entries, found 1']);
  });

  it('oneKey: says when nothing is registered and emits a valid JSON Schema either way', () => {
    const none = s.oneKey({}, (k) => k, { what: 'step' });
    expect(check(none, { reboot: {} }).messages).toEqual(["unknown step 'reboot'; known: none: no step kinds are registered"]);
    expect(none.jsonSchema()).toEqual({ not: {} });
    const some = s.oneKey({ gc: s.object({ force: s.opt(s.boolean()) }), wait: s.object({ ms: s.req(s.integer()) }) }, (k) => k, { what: 'step' });
    expect(check(some, { wiat: {} }).messages).toEqual(["unknown step 'wiat' (did you mean 'wait'?); known: gc, wait"]);
    expect(check(some, 'gc').out).toBe('gc');
    // Only kinds without required parameters may be bare strings.
    expect((some.jsonSchema().oneOf as Record<string, unknown>[]).at(-1)).toMatchObject({ type: 'string', enum: ['gc'] });
  });
});
