/** docs/config-reference.md is exactly what `npm run docs:config` generates from the schemas today. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REFERENCE_PATH, renderConfigReference } from '../../../scripts/docs-config.js';

describe('configuration reference', () => {
  it('is up to date with the config schemas (run `npm run docs:config` and commit the result)', () => {
    expect(readFileSync(REFERENCE_PATH, 'utf8')).toBe(renderConfigReference());
  });

  it('documents every environment variable each loader reads', () => {
    const text = renderConfigReference();
    for (const name of [
      'CACHETAIL_SOURCE_PASSWORD_FILE',
      'CACHETAIL_COOKIE_KEYS_FILE',
      'CACHETAIL_TAILERS_STATUS_URLS',
    ]) {
      expect(text).toContain(`\`${name}\``);
    }
  });
});
