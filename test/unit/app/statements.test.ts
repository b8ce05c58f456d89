/**
 * The writer's statements for hostile keys: whatever the key, the carrier's text is the fixed SQL plus one
 * comment from which the tailer's extractor reads back exactly the keys; the outbox INSERT holds exactly
 * their bytes. Seeded, so a failure replays.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { extractAnnotations, scanSql } from '../../../src/annotate/index.js';
import { schemaSql, tableName } from '../../../src/app/schema.js';
import {
  carrierStatements,
  checkKey,
  isTransactionControl,
  outboxStatements,
} from '../../../src/app/statements.js';
import { Prng } from '../annotate/helpers.js';

const PIECES = [
  'user',
  ':',
  '42',
  '*/',
  '/*',
  '*',
  '/',
  ',',
  '%',
  '%25',
  '%2',
  '=',
  'ts=1',
  '?',
  ':name',
  "'",
  '"',
  '`',
  '\\',
  '#',
  '--',
  ';',
  'MEMCACHE_DIRTY',
  '/*!',
  '*/DROP/**/TABLE/**/x;/*',
  'é',
  '中',
  '😀',
  '\ufeff',
  '\u00a0',
  '\u2028',
];

/** A random valid key (1–250 UTF-8 bytes, no ASCII space/control) built from hostile pieces. */
function hostileKey(rng: Prng): string {
  let key = '';
  const parts = 1 + rng.int(12);
  for (let i = 0; i < parts; i++) {
    const next = key + rng.pick(PIECES);
    if (Buffer.byteLength(next) > 250) break;
    key = next;
  }
  if (rng.chance(0.05)) key = '€'.repeat(83) + 'x'; // exactly 250 bytes
  return key || 'k';
}

const TABLE = tableName('app.cachetail_carrier');

describe('carrier statements', () => {
  it('carry exactly the keys, for 2,000 sets of hostile keys, and nothing else reads as SQL', () => {
    const rng = new Prng(20_241_121);
    for (let round = 0; round < 2_000; round++) {
      const keys = [...new Set(Array.from({ length: 1 + rng.int(6) }, () => hostileKey(rng)))].map(checkKey);
      const ts = rng.int(2 ** 31) * 1000;
      const [sql, ...more] = carrierStatements(TABLE, keys, ts);
      expect(more).toEqual([]);
      const got = extractAnnotations(sql);
      expect(got.keys).toEqual(keys);
      expect(got.rejected).toEqual([]);
      expect(got.annotations.map((a) => a.ts)).toEqual([ts]);
      // The table's two identifiers, then one comment to the very end; the code before it is the fixed statement, byte for byte.
      const regions: [string, number, number][] = [];
      scanSql(sql, {}, (kind, start, end) => regions.push([kind, start, end]));
      expect(regions).toEqual([
        ['identifier', 12, 17],
        ['identifier', 18, 37],
        ['comment', sql.indexOf('/*'), sql.length],
      ]);
      expect(sql.slice(0, sql.indexOf('/*'))).toBe(
        'INSERT INTO `app`.`cachetail_carrier` (conn_id, n) VALUES (CONNECTION_ID(), 1) ON DUPLICATE KEY UPDATE n = n + 1 ',
      );
      // No byte that client-side placeholder substitution or quoting could act on.
      expect(sql.slice(sql.indexOf('/*'))).not.toMatch(/[?'"`\\]/);
    }
  });

  it('outbox rows hold exactly the UTF-8 bytes of each key', () => {
    const rng = new Prng(7);
    const keys = Array.from({ length: 300 }, () => hostileKey(rng));
    const [sql] = outboxStatements(tableName('cachetail_dirty_keys'), keys);
    const literals = [...sql.matchAll(/X'([0-9a-f]*)'/g)].map((m) =>
      Buffer.from(m[1], 'hex').toString('utf8'),
    );
    expect(literals).toEqual(keys);
    expect(sql.replace(/X'[0-9a-f]*'/g, '')).toMatch(
      /^INSERT INTO `cachetail_dirty_keys` \(cache_key\) VALUES (\(\),?)+$/,
    );
  });
});

describe('isTransactionControl', () => {
  it('spots statements that would end the helper’s transaction, not look-alikes', () => {
    const yes = [
      'BEGIN',
      'begin work',
      'COMMIT',
      'commit',
      'ROLLBACK TO SAVEPOINT x',
      'START TRANSACTION',
      'XA START "a"',
    ];
    const no = [
      'SELECT 1',
      'UPDATE t SET begin = 1',
      'SAVEPOINT a',
      'INSERT INTO commits VALUES (1)',
      '/*! BEGIN */ SELECT 1',
    ];
    expect(yes.map(isTransactionControl)).toEqual(yes.map(() => true));
    expect(no.map(isTransactionControl)).toEqual(no.map(() => false));
  });
});

describe('schema', () => {
  it('sql/cachetail-app.sql is exactly what schema.ts generates', () => {
    expect(readFileSync(new URL('../../../sql/cachetail-app.sql', import.meta.url), 'utf8')).toBe(
      schemaSql(),
    );
  });
});
