/**
 * The adversarial statement set against the pure extractor: exactly the expected keys, case by case, with
 * the statement's sql_mode known (QUERY events) and unknown (MariaDB Annotate_rows), lexed as MariaDB and
 * as MySQL (a case about one flavor's lexing only as that one).
 */
import { describe, expect, it } from 'vitest';
import { extractAnnotations } from '../../../src/annotate/index.js';
import { ADVERSARIAL } from './adversarial-corpus.js';

describe('adversarial statements (pure extractor)', () => {
  it('has at least 200 cases with distinct names, and a sample for the real binlog', () => {
    expect(ADVERSARIAL.length).toBeGreaterThanOrEqual(200);
    expect(new Set(ADVERSARIAL.map((c) => c.name)).size).toBe(ADVERSARIAL.length);
    expect(ADVERSARIAL.filter((c) => c.e2e).length).toBeGreaterThanOrEqual(100);
    expect(ADVERSARIAL.filter((c) => c.keys.length === 0).length).toBeGreaterThan(ADVERSARIAL.length / 2);
  });

  it.each(ADVERSARIAL.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const flavors = c.server ? [c.server] : (['mariadb', 'mysql'] as const);
    for (const flavor of flavors) {
      const mysql = flavor === 'mysql';
      expect(extractAnnotations(c.sql, { ...c.lex, mysql }).keys, flavor).toEqual(c.keys);
      expect(extractAnnotations(c.sql, { sqlModeUnknown: true, mysql }).keys, flavor).toEqual(
        c.unknownKeys ?? c.keys,
      );
    }
  });
});
