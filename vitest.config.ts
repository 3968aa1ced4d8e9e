// Test runner settings: tests sit beside the code (x.test.ts) and cross-module flows in test/.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{gateway,drivers,sync,wallet,test}/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
