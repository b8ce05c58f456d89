import { defineConfig } from 'vitest/config';

// One shared set of real servers (MariaDB pair, memcached tiers; Kafka lazily) is started by the global
// setup and reused by every test file. Files run one after another: they share those servers and the
// machine has two cores.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
