/** docs/errors.md is exactly what `npm run docs:errors` generates from the registry today. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS_DOC_PATH, renderErrorsDoc } from '../../../scripts/docs-errors.js';
import { ERROR_CODES } from '../../../src/errors/codes.js';

describe('error code reference', () => {
  it('is up to date with src/errors/codes.ts (run `npm run docs:errors` and commit the result)', () => {
    expect(readFileSync(ERRORS_DOC_PATH, 'utf8')).toBe(renderErrorsDoc());
  });

  it('has one row per code, saying whether it is retryable', () => {
    const rows = renderErrorsDoc()
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) => line.split(' | ').slice(0, 2));
    expect(rows).toEqual(
      Object.entries(ERROR_CODES)
        .sort(([, a], [, b]) => areaOrder(a.area) - areaOrder(b.area))
        .map(([code, info]) => [
          `| \`${code}\``,
          info.retryable === 'depends' ? 'depends' : info.retryable ? 'yes' : 'no',
        ]),
    );
  });
});

function areaOrder(area: string): number {
  return [
    'general',
    'config',
    'replication',
    'binlog',
    'gtid',
    'tailer',
    'memcached',
    'kafka',
    'app',
    'http',
    'devcluster',
  ].indexOf(area);
}
