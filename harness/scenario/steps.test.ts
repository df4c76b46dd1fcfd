// repeat: a step holding steps, nestable, bounded; its JSON Schema is recursive through
// #/definitions/step, so editors complete the inner steps too.
import { describe, expect, it } from 'vitest';
import { parseScenario, scenarioJsonSchema } from './load.ts';
import { MAX_EXPANDED_STEPS, allSteps, expandedStepCount } from './steps.ts';
import type { StepSpec } from '../model/scenario.ts';

const HEAD = 'name: demo\ndescription: A demo.\ncluster:\n  stack: {profile: lab/bridge-portmap}\nworkload:\n  - name: web\n';
const wait = (ms: number): StepSpec => ({ kind: 'wait', params: { ms } });
const repeat = (times: number, steps: StepSpec[]): StepSpec => ({ kind: 'repeat', params: { times, steps } });

describe('repeat', () => {
  it('parses nested repeats into steps, with positions for the inner ones', () => {
    const sc = parseScenario(`${HEAD}steps:\n  - wait: { ms: 1 }\n  - repeat:\n      times: 3\n      steps:\n        - wait: { ms: 2 }\n        - repeat: { times: 2, steps: [{ delete-netns: { node: node-1, workload: web } }] }\n`, 's.yaml');
    expect(sc.steps).toEqual([wait(1), repeat(3, [wait(2), repeat(2, [{ kind: 'delete-netns', params: { node: 'node-1', workload: 'web' } }])])]);
    expect(sc.positions.get('steps.1.repeat.steps.1.repeat.steps.0.delete-netns.workload')).toEqual({ line: 13, column: 81 });
  });

  it('counts the steps a run makes, repeats unrolled, and lists every step with its key path', () => {
    const steps = [wait(1), repeat(3, [wait(2), repeat(2, [wait(3)])])];
    expect(expandedStepCount(steps)).toBe(1 + 3 * (1 + 2));
    expect(allSteps(steps).map((s) => [s.step.kind, s.at.join('.')])).toEqual([
      ['wait', 'steps.0'],
      ['repeat', 'steps.1'],
      ['wait', 'steps.1.repeat.steps.0'],
      ['repeat', 'steps.1.repeat.steps.1'],
      ['wait', 'steps.1.repeat.steps.1.repeat.steps.0'],
    ]);
  });

  it(`accepts exactly ${MAX_EXPANDED_STEPS} steps after unrolling and refuses one more, at the repeat that makes most`, () => {
    const text = (extra: number) => `${HEAD}steps:\n${'  - wait: { ms: 1 }\n'.repeat(extra)}  - repeat: { times: 999, steps: [{ wait: { ms: 1 } }] }\n`;
    expect(parseScenario(text(1), 's.yaml').steps).toHaveLength(2);
    let message = '';
    try {
      parseScenario(text(2), 's.yaml');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/s\.yaml:10:22: steps\.2\.repeat\.times: steps\.2\.repeat runs 999 steps \(999 times 1 step\); the scenario's steps expand to 1001 steps with their repeats unrolled; at most 1000 are allowed/);
  });

  it('checks the inner steps as top-level ones: parameters, references and what the runtime can do', () => {
    const bad = `${HEAD}steps:\n  - repeat:\n      times: 2\n      steps:\n        - delete-netns: { node: node-9, workload: nope }\n`;
    expect(() => parseScenario(bad, 's.yaml')).toThrow(/s\.yaml:11:33: steps\.0\.repeat\.steps\.0\.delete-netns\.node: expected a node of this cluster \(node-1\), found "node-9"/);
  });

  it('has a recursive JSON Schema: steps and repeat.steps refer to #/definitions/step, and every $ref resolves', () => {
    const schema = scenarioJsonSchema() as { definitions: Record<string, { oneOf: Record<string, any>[] }>; properties: Record<string, any> };
    expect(schema.properties.steps.items).toEqual({ $ref: '#/definitions/step' });
    const rep = schema.definitions.step!.oneOf.find((o) => o.required?.[0] === 'repeat')!;
    expect(rep.properties.repeat.properties.steps.items).toEqual({ $ref: '#/definitions/step' });
    expect(rep.properties.repeat.properties.times).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000 });
    const kinds = schema.definitions.step!.oneOf.flatMap((o) => o.required ?? []);
    expect(kinds).toEqual(expect.arrayContaining(['create-pods', 'delete-netns', 'repeat', 'hard-reboot']));
    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (k === '$ref' ? refs.push(x as string) : walk(x));
    };
    walk(schema);
    expect(refs.length).toBeGreaterThanOrEqual(2);
    for (const ref of refs) {
      const target = ref.replace(/^#\//, '').split('/').reduce<any>((o, k) => o?.[k], schema);
      expect(target, ref).toBeTypeOf('object');
    }
  });
});
