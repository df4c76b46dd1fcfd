import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each cell builds real namespaces: one test file at a time is plenty on a small machine.
    fileParallelism: false,
  },
});
