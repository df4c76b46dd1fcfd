// ip-headroom's `min` can never exceed what a range holds: refused at validation where the stack
// profile tells the range, else when the running cell shows it, as the cell's error at the check.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../scenario/load.ts';
import { planCells } from '../runner/cell.ts';
import { runCells } from '../runner/run.ts';
import { runExitCode } from '../runner/outcome.ts';
import { useTempStateDir } from '../../testing/host.ts';
import { registryEnv } from '../../testing/run-env.ts';

const text = (min: number) => `name: headroom
description: d
cluster:
  nodeMask: 28
  stack: {profile: lab/bridge-portmap}
workload: [{ name: web, replicasPerNode: 1 }]
assertions:
  - ip-headroom: { min: ${min} }
`;

describe('ip-headroom min', () => {
  it('is refused at validation above the range the profile gives (13 on a /28)', () => {
    expect(() => parseScenario(text(13), '/virtual/h.yaml')).not.toThrow();
    expect(() => parseScenario(text(14), '/virtual/h.yaml')).toThrow('/virtual/h.yaml:8:25: assertions.0.ip-headroom.min: expected at most 13');
  });

  it('that only the running cell shows too big ends the cell as an input error at the assertion (exit 2)', async () => {
    const state = await useTempStateDir();
    const out = await mkdtemp(path.join(os.tmpdir(), 'fl-headroom-'));
    try {
      const scenario = parseScenario(text(1), '/virtual/h.yaml');
      // As if validation could not know the range (a profile it could not read).
      scenario.assertions[0]!.params.min = 14;
      const report = await runCells({ cells: planCells([scenario]), jobs: 1, out, reporters: [], signal: new AbortController().signal, seed: 1, ...registryEnv() });
      const cell = report.cells[0]!;
      expect(cell.outcome).toBe('error');
      expect(cell.error).toEqual({
        code: 'invalid-input',
        source: 'harness',
        location: '/virtual/h.yaml:8:5',
        message: '/virtual/h.yaml:8:5: assertions.0.ip-headroom: min 14 is more than the 13 addresses host-local can hand out in node-1/lab-net: the check could never pass',
      });
      expect(runExitCode(report.cells)).toBe(2);
    } finally {
      await rm(out, { recursive: true, force: true });
      await state.restore();
    }
  });
});
