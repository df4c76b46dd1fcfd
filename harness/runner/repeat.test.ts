// A repeat runs its steps in order, `times` times, each step observed and numbered 3.2.1 (step 3,
// iteration 2, inner step 1); a step that fails inside an iteration is named by that number in the
// cell's error, its Failed: line and its timeline entry, at its own file:line:col.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScenario } from '../scenario/load.ts';
import { planCells } from './cell.ts';
import { runCells } from './run.ts';
import { failedSteps, stepDetails } from '../reporters/format.ts';
import type { CellReport } from '../model/report.ts';
import { useTempStateDir } from '../../testing/host.ts';
import { registryEnv } from '../../testing/run-env.ts';

const text = `name: repeats
description: d
cluster:
  stack: {profile: lab/bridge-portmap}
workload: [{ name: web, replicasPerNode: 1 }]
steps:
  - wait: { ms: 1 }
  - repeat:
      times: 2
      steps:
        - wait: { ms: 1 }
        - repeat: { times: 2, steps: [{ wait: { ms: 1 } }] }
  - repeat:
      times: 3
      steps:
        - delete-netns: { node: node-1, pods: [web-n1-0] }
        - delete-pods: { node: node-1, pods: [web-n1-0] }
`;

let cell: CellReport;
let restore: () => Promise<void>;
let out: string;
beforeAll(async () => {
  restore = (await useTempStateDir()).restore;
  out = await mkdtemp(path.join(os.tmpdir(), 'fl-repeat-'));
  const report = await runCells({ cells: planCells([parseScenario(text, '/virtual/repeats.yaml')]), jobs: 1, out, reporters: [], signal: new AbortController().signal, seed: 1, ...registryEnv() });
  cell = report.cells[0]!;
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
  await restore?.();
});

describe('repeat in a running cell', () => {
  it('runs the steps in order, numbered 1-based with iteration numbers, each observed after it ran', () => {
    const steps = cell.timeline.filter((e) => e.kind === 'step');
    expect(steps.map((e) => e.kind === 'step' && [e.number, e.step, e.path, e.index, e.result])).toEqual([
      ['1', 'wait', 'steps.0', 0, 'ok'],
      ['2.1.1', 'wait', 'steps.1.repeat.steps.0', 1, 'ok'],
      ['2.1.2.1.1', 'wait', 'steps.1.repeat.steps.1.repeat.steps.0', 1, 'ok'],
      ['2.1.2.2.1', 'wait', 'steps.1.repeat.steps.1.repeat.steps.0', 1, 'ok'],
      ['2.2.1', 'wait', 'steps.1.repeat.steps.0', 1, 'ok'],
      ['2.2.2.1.1', 'wait', 'steps.1.repeat.steps.1.repeat.steps.0', 1, 'ok'],
      ['2.2.2.2.1', 'wait', 'steps.1.repeat.steps.1.repeat.steps.0', 1, 'ok'],
      ['3.1.1', 'delete-netns', 'steps.2.repeat.steps.0', 2, 'ok'],
      ['3.1.2', 'delete-pods', 'steps.2.repeat.steps.1', 2, 'ok'],
      ['3.2.1', 'delete-netns', 'steps.2.repeat.steps.0', 2, 'error'],
    ]);
    const observed = cell.timeline.flatMap((e) => (e.kind === 'observation' || e.kind === 'observation-delta' ? [e.after] : []));
    expect(observed).toEqual(['boot', 'step 1: wait', 'step 2.1.1: wait', 'step 2.1.2.1.1: wait', 'step 2.1.2.2.1: wait', 'step 2.2.1: wait', 'step 2.2.2.1.1: wait', 'step 2.2.2.2.1: wait', 'step 3.1.1: delete-netns', 'step 3.1.2: delete-pods']);
  });

  it('names the failing step by its number in the error, at the inner step\'s line, and stops there', () => {
    expect(cell.outcome).toBe('error');
    expect(cell.error).toMatchObject({
      code: 'invalid-input',
      location: '/virtual/repeats.yaml:16:11',
      message: '/virtual/repeats.yaml:16:11: steps.2.repeat.steps.0.delete-netns (step 3.2.1): no pod named web-n1-0 with a sandbox on node-1 (pods: none)',
    });
    expect(failedSteps(cell)[0]).toBe('step 3.2.1 delete-netns: no pod named web-n1-0 with a sandbox on node-1 (pods: none)');
    expect(stepDetails(cell).slice(0, 3)).toEqual(['step 1 wait: waited 1 ms', 'step 2.1.1 wait: waited 1 ms', 'step 2.1.2.1.1 wait: waited 1 ms']);
  });
});
