import { describe, expect, it } from 'vitest';
import { FaultlineError } from '../errors.ts';
import { cellId, expandMatrix, parseOnly, placeholders, selectCells, substitute } from './matrix.ts';
import type { ScenarioDoc } from '../model/scenario.ts';

const scenario = (over: Partial<ScenarioDoc> = {}) => ({
  name: 'leak',
  matrix: { harvester: ['v1.4.1', 'v1.4.2', 'v1.4.3'], runtime: ['libcni-1.1', 'libcni-1.2'] },
  expect: [
    { when: { harvester: 'v1.4.2' }, outcome: 'fail' as const, failing: ['no-leaked-reservations'], reason: 'stage file typo' },
    { when: { harvester: 'v1.4.1', runtime: 'libcni-1.2' }, outcome: 'error' as const },
  ],
  cluster: { backend: 'local' as const, nodes: 1, podCIDR: '10.52.0.0/16', nodeMask: 24, stack: { profile: 'harvester/${harvester}', runtime: '${runtime}', cni: '1.1.1' } },
  ...over,
});

describe('expandMatrix', () => {
  it('takes the cartesian product in dimension order, the last dimension fastest', () => {
    const cells = expandMatrix(scenario());
    expect(cells.map((c) => c.id)).toEqual([
      'leak[harvester=v1.4.1,runtime=libcni-1.1]',
      'leak[harvester=v1.4.1,runtime=libcni-1.2]',
      'leak[harvester=v1.4.2,runtime=libcni-1.1]',
      'leak[harvester=v1.4.2,runtime=libcni-1.2]',
      'leak[harvester=v1.4.3,runtime=libcni-1.1]',
      'leak[harvester=v1.4.3,runtime=libcni-1.2]',
    ]);
    expect(cells[3]!.values).toEqual({ harvester: 'v1.4.2', runtime: 'libcni-1.2' });
  });

  it('fills placeholders in the stack and leaves other fields alone', () => {
    const cell = expandMatrix(scenario())[2]!;
    expect(cell.stack).toEqual({ profile: 'harvester/v1.4.2', runtime: 'libcni-1.1', cni: '1.1.1' });
  });

  it('attaches the matching expectation, pass by default', () => {
    const byId = new Map(expandMatrix(scenario()).map((c) => [c.id, c.expectation]));
    expect(byId.get('leak[harvester=v1.4.2,runtime=libcni-1.1]')).toEqual({ outcome: 'fail', failing: ['no-leaked-reservations'], reason: 'stage file typo', index: 0 });
    expect(byId.get('leak[harvester=v1.4.1,runtime=libcni-1.2]')).toEqual({ outcome: 'error', failing: [], index: 1 });
    expect(byId.get('leak[harvester=v1.4.1,runtime=libcni-1.1]')).toEqual({ outcome: 'pass', failing: [] });
  });

  it('gives one cell named like the scenario when there is no matrix', () => {
    const cells = expandMatrix(scenario({ matrix: {}, expect: [{ outcome: 'fail', failing: ['x'] }] }));
    expect(cells).toHaveLength(1);
    expect(cells[0]!.id).toBe('leak');
    expect(cells[0]!.values).toEqual({});
    expect(cells[0]!.expectation.outcome).toBe('fail');
  });
});

describe('placeholders', () => {
  it('finds and fills ${dim}, leaving unknown names as written', () => {
    expect(placeholders('a/${x}-${y}')).toEqual(['x', 'y']);
    expect(substitute('a/${x}-${y}', { x: '1' })).toBe('a/1-${y}');
    expect(cellId('s', { a: '1', b: '2' })).toBe('s[a=1,b=2]');
  });
});

describe('--only', () => {
  const sc = scenario();
  const cells = expandMatrix(sc);

  it('keeps cells matching every dimension named; repeating a dimension widens it', () => {
    expect(selectCells(sc, cells, ['harvester=v1.4.2']).map((c) => c.id)).toEqual(['leak[harvester=v1.4.2,runtime=libcni-1.1]', 'leak[harvester=v1.4.2,runtime=libcni-1.2]']);
    expect(selectCells(sc, cells, ['harvester=v1.4.2', 'runtime=libcni-1.2']).map((c) => c.id)).toEqual(['leak[harvester=v1.4.2,runtime=libcni-1.2]']);
    expect(selectCells(sc, cells, ['harvester=v1.4.1', 'harvester=v1.4.3', 'runtime=libcni-1.1'])).toHaveLength(2);
    expect(selectCells(sc, cells, [])).toHaveLength(6);
  });

  it('names the flag when the dimension or the value does not exist', () => {
    const err = (only: string[]) => {
      try {
        selectCells(sc, cells, only);
      } catch (e) {
        expect(e).toBeInstanceOf(FaultlineError);
        expect((e as FaultlineError).code).toBe('usage');
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(err(['harvestr=v1.4.2'])).toBe("--only harvestr=v1.4.2: scenario 'leak' has no matrix dimension 'harvestr'; dimensions: harvester, runtime");
    expect(err(['harvester=v1.4.9'])).toBe("--only harvester=v1.4.9: dimension 'harvester' of scenario 'leak' has no value 'v1.4.9'; values: v1.4.1, v1.4.2, v1.4.3");
    expect(() => parseOnly(['harvester'])).toThrow(/--only harvester: expected dimension=value/);
  });
});
