import { defineConfig } from 'vitest/config';
import { describeMatrix, serverMatrix } from './test/matrix.js';

// Unit tests run once with no server. Integration tests run once per database server line (test/matrix.ts:
// CACHETAIL_SERVER_LINES picks lines; unset, every line this machine can run): each line is a project
// whose global setup starts that line's primary + replica pair and memcached tiers (Kafka lazily), shared
// by its files. Files run one after another: they share those servers and the machine has two cores.
const matrix = serverMatrix();
// The config is evaluated again in every worker; say it once, in the process that started the run.
if (process.env.CACHETAIL_MATRIX_SHOWN !== '1') {
  console.log(describeMatrix(matrix));
  process.env.CACHETAIL_MATRIX_SHOWN = '1';
}

export default defineConfig({
  test: {
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // One child process for every unit file (each still gets fresh modules): with a child per file,
          // vitest 3's tinypool sometimes relays a message to a child it has just ended and the run dies
          // on "Channel closed" (ERR_IPC_CHANNEL_CLOSED, vitest-dev/vitest#8201; ~1 run in 10 here).
          poolOptions: { forks: { singleFork: true } },
        },
      },
      ...matrix.lines.map((line) => ({
        extends: true as const,
        test: {
          name: line,
          include: (matrix.files.get(line) ?? []).map((f) => `test/integration/${f}`),
          globalSetup: ['test/helpers/global-setup.ts'],
          provide: { serverLine: line },
        },
      })),
    ],
  },
});
