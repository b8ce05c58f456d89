/**
 * Key safety end to end: hostile keys (and hostile row data beside them) go through the writer, the real
 * primary and replica binlogs (every server line) and the tailer, in both modes and through the plain `annotate`.
 * For every transaction the tailer must deliver exactly the declared keys, memcached must lose exactly
 * those keys — not their encoded spellings or other look-alikes — and the row data must arrive byte for
 * byte (nothing broke out of the comment or changed the SQL). Invalid keys are refused at the writer with
 * a typed error and nothing is written. Seeded: a failure replays.
 */
import memjs from 'memjs';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  AnnotationError,
  annotate,
  encodeKey,
  validateKey,
  withInvalidation,
  type InvalidationOptions,
} from '../../src/app/index.js';
import { carrierTableDdl, outboxTableDdl } from '../../src/app/schema.js';
import { clusterControl } from '../../src/devcluster/index.js';
import { Prng } from '../unit/annotate/helpers.js';
import { CommitLog, connectWriter, lastGtid, startAppTailer, type AppTailer } from './app-support.js';

const info = inject('cluster');
const cluster = clusterControl(info);
const DB = 'appk';
const regionCache = memjs.Client.create(info.memcached.replica, { logger: { log: () => undefined } });

/** Valid keys chosen to break naive quoting, comment, placeholder and percent handling. */
const NOTABLE = [
  "it's",
  'say:"hi"',
  'a*/b',
  '*/',
  '/*',
  '/*!50000x*/',
  'q?',
  '??',
  ':name',
  'user::42',
  'back\\slash',
  '\\\\\\',
  '100%',
  '%2A',
  '%%41',
  'a,b',
  'ts=1',
  'v=2',
  'MEMCACHE_DIRTY',
  '`tick`',
  '--',
  '#hash',
  ';',
  'x;DROP/**/TABLE/**/users',
  'café',
  '中文',
  '😀',
  '\ufeffbom',
  'line\u2028sep',
  'nbsp\u00a0',
  '€'.repeat(83) + 'x', // 250 bytes
  'é'.repeat(125), // 250 bytes
  'k'.repeat(250),
];

/** Invalid keys and why memcached cannot hold them. */
const INVALID = [
  '',
  'a b',
  'a\nb',
  'tab\t',
  'nul\u0000',
  'del\u007f',
  'x'.repeat(251),
  'é'.repeat(126),
  '\ud800',
];

const PIECES = [
  '*/',
  '/*',
  "'",
  '"',
  '`',
  '\\',
  '?',
  ':',
  '%',
  '%2',
  ',',
  '=',
  ';',
  '#',
  '--',
  'é',
  '😀',
  'a',
  '1',
];

function randomKey(rng: Prng): string {
  if (rng.chance(0.3)) return rng.pick(NOTABLE);
  let k = '';
  for (let n = 1 + rng.int(10); n > 0; n--) {
    const next = k + rng.pick(PIECES);
    if (Buffer.byteLength(next) > 250) break;
    k = next;
  }
  return k || 'k';
}

/** Row data a user controls, including annotation look-alikes and everything that needs escaping. */
function hostileText(rng: Prng): string {
  const bits = [
    '/* MEMCACHE_DIRTY admin:1 */',
    "'",
    '"',
    '\\',
    '*/',
    '?',
    ':id',
    '\n',
    'é',
    '😀',
    '\u0000',
    '%',
    ';',
  ];
  let s = '';
  for (let n = rng.int(8); n > 0; n--) s += rng.pick(bits);
  return s;
}

let conn: Connection;
const commits = new CommitLog();

beforeAll(async () => {
  await cluster.query(
    'primary',
    `CREATE DATABASE IF NOT EXISTS ${DB};
     CREATE TABLE ${DB}.notes (id INT PRIMARY KEY, body TEXT CHARACTER SET utf8mb4 NOT NULL) ENGINE=InnoDB;
     ${carrierTableDdl(`${DB}.cachetail_carrier`)}
     ${outboxTableDdl(`${DB}.cachetail_dirty_keys`)}`,
  );
  await cluster.waitForReplicaCatchUp();
  conn = await connectWriter(cluster, { database: DB });
  await conn.query('SET NAMES utf8mb4');
});
afterAll(async () => {
  await conn?.end();
  regionCache.close();
});

/** Caches every key and, where it differs, its percent-encoded spelling (which must survive). */
async function seed(keys: readonly string[]): Promise<string[]> {
  const decoys = keys.map(encodeKey).filter((e) => !keys.includes(e) && validateKey(e) === null);
  for (const k of [...keys, ...decoys]) await regionCache.set(k, 'cached', { expires: 600 });
  return decoys;
}

async function replicaBody(id: number): Promise<string | undefined> {
  const rows = await cluster.query<RowDataPacket[]>('replica', `SELECT body FROM ${DB}.notes WHERE id = ?`, [
    id,
  ]);
  return rows[0]?.body as string | undefined;
}

const modes: [string, InvalidationOptions, string[] | undefined][] = [
  ['comment mode', { carrierTable: `${DB}.cachetail_carrier`, onCommit: commits.record }, undefined],
  [
    'outbox mode',
    { mode: 'outbox', outboxTable: `${DB}.cachetail_dirty_keys`, onCommit: commits.record },
    [`${DB}.cachetail_dirty_keys`],
  ],
];

let nextId = 1;

describe.each(modes)('hostile keys, writer → binlog → tailer, %s', (_, writer, outboxTables) => {
  let tailer: AppTailer;
  beforeAll(async () => {
    tailer = await startAppTailer({
      replica: info.replica,
      tailerUser: info.tailerUser,
      memcached: info.memcached.replica,
      outboxTables,
    });
  });
  afterAll(async () => {
    await tailer?.stop();
  });

  it('40 transactions: exactly the declared keys are delivered and deleted; row data arrives byte for byte', async () => {
    const rng = new Prng(outboxTables ? 5150 : 4242);
    for (let round = 0; round < 40; round++) {
      const keys = Array.from({ length: 1 + rng.int(8) }, () => randomKey(rng));
      const declared = [...new Set(keys)];
      const decoys = await seed(declared);
      const id = nextId++;
      const body = hostileText(rng);
      await withInvalidation(
        conn,
        async (tx) => {
          const insert = 'INSERT INTO notes (id, body) VALUES (?, ?)';
          await (round % 2 ? tx.execute(insert, [id, body]) : tx.query(insert, [id, body]));
          tx.dirty(...keys);
        },
        writer,
      );
      expect(await tailer.keysOf(commits.last()), `round ${round}`).toEqual(declared);
      await cluster.waitForReplicaCatchUp();
      expect(await replicaBody(id)).toBe(body);
      for (const k of declared)
        expect((await regionCache.get(k)).value, `deleted ${JSON.stringify(k)}`).toBeNull();
      for (const d of decoys)
        expect((await regionCache.get(d)).value?.toString(), `kept ${d}`).toBe('cached');
    }
    expect(tailer.sink.keys).not.toContain('admin:1');
  });

  it('refuses every invalid key at dirty() with a typed error; the transaction writes nothing', async () => {
    const id = nextId++;
    for (const bad of INVALID) {
      const err = await withInvalidation(
        conn,
        async (tx) => {
          await tx.query('INSERT INTO notes (id, body) VALUES (?, ?)', [id, 'never']);
          tx.dirty('fine:1', bad);
        },
        writer,
      ).catch((e: unknown) => e);
      expect(err, JSON.stringify(bad)).toBeInstanceOf(AnnotationError);
      expect(err).toMatchObject({ code: 'ANNOTATION_INVALID_KEY', retryable: false });
    }
    const [rows] = await conn.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM notes WHERE id = ?', [id]);
    expect(Number(rows[0]?.n)).toBe(0);
    const before = tailer.sink.keys.length;
    await withInvalidation(conn, (tx) => tx.dirty('barrier:k'), writer);
    await tailer.keysOf(commits.last());
    expect(tailer.sink.keys.slice(before)).toEqual(['barrier:k']);
  });
});

describe('the plain annotate() on one statement, with ? placeholders and hostile keys', () => {
  let tailer: AppTailer;
  beforeAll(async () => {
    tailer = await startAppTailer({
      replica: info.replica,
      tailerUser: info.tailerUser,
      memcached: info.memcached.replica,
    });
  });
  afterAll(async () => {
    await tailer?.stop();
  });

  it('placeholders still bind to the right values and the keys arrive exactly, via query and execute', async () => {
    const rng = new Prng(99);
    for (let round = 0; round < 20; round++) {
      const keys = [...new Set(Array.from({ length: 1 + rng.int(5) }, () => randomKey(rng)))];
      await seed(keys);
      const id = nextId++;
      const body = hostileText(rng);
      const sql = annotate('INSERT INTO notes (id, body) VALUES (?, ?)', keys, { ts: Date.now() });
      const [result] = await (round % 2 ? conn.execute(sql, [id, body]) : conn.query(sql, [id, body]));
      expect(await tailer.keysOf(await lastGtid(conn, result)), `round ${round}`).toEqual(keys);
      await cluster.waitForReplicaCatchUp();
      expect(await replicaBody(id)).toBe(body);
      for (const k of keys) expect((await regionCache.get(k)).value).toBeNull();
    }
  });
});
