import { defineConfig } from 'vitest/config';

// Real-namespace tests share one machine: keep the file-level parallelism modest (2 cores).
// Slow real-world tests are named *.slow.test.ts; `npm run test:quick` leaves them out, CI runs all.
export default defineConfig({
  test: {
    include: ['harness/**/*.test.ts', 'scripts/**/*.test.ts', 'scenarios/**/*.test.ts', 'bench/**/*.test.ts', 'testing/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default'],
  },
});
