import { defineConfig } from 'vitest/config';

// Real-namespace tests share one machine: keep the file-level parallelism modest (2 cores). The
// timeouts are safety nets for a hang, not speed checks: whole suites of real cells run in a hook, on a
// machine that may be loaded.
// Slow real-world tests are named *.slow.test.ts; `npm run test:quick` leaves them out, CI runs all.
export default defineConfig({
  test: {
    include: ['harness/**/*.test.ts', 'scripts/**/*.test.ts', 'scenarios/**/*.test.ts', 'bench/**/*.test.ts', 'testing/**/*.test.ts', 'examples/*.test.ts', 'docs/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 900_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default'],
  },
});
