import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration suites build kernel state; run files one at a time so a
    // 2-core machine is not oversubscribed, but each file owns unique lab names
    // so they could run side by side.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
