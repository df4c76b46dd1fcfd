// benchJobs runs the four-cell libcni-empty-cache-del matrix twice through the runner; the figures it
// returns are what `npm run bench` prints. (The speedup itself depends on the machine: not asserted.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchJobs, type BenchJobsResult } from './jobs.ts';
import { useTempStateDir } from '../testing/host.ts';
import { networkSkipReason, titled } from '../testing/network.ts';

const offline = await networkSkipReason('benchJobs', ['1.1.1', 'sid']);

describe.skipIf(offline)(titled('benchJobs', offline), () => {
  let state: { restore: () => Promise<void> };
  let r: BenchJobsResult;
  const progress: string[] = [];
  beforeAll(async () => {
    state = await useTempStateDir();
    r = await benchJobs({ noWarmup: true, onProgress: (m) => progress.push(m) });
  });
  afterAll(async () => state?.restore());

  it('times both runs of the four cells, each ending as expected', () => {
    expect(r.cells).toBe(4);
    expect(r.asExpected).toBe(true);
    expect(r.jobs1Ms).toBeGreaterThan(0);
    expect(r.jobs2Ms).toBeGreaterThan(0);
    expect(r.speedup).toBeCloseTo(r.jobs1Ms / r.jobs2Ms, 1);
    expect(progress).toEqual([expect.stringMatching(/^jobs1: 4 cells, --jobs 1: \d+ ms$/), expect.stringMatching(/^jobs2: 4 cells, --jobs 2: \d+ ms$/)]);
  });
});
