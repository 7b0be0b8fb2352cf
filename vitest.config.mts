import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    pool: 'forks',
    // Child processes, databases and the collector: two cores, keep it to two files at a time.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
