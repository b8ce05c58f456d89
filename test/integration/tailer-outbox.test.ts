/**
 * Outbox mode through the real Tailer loop, on every server line: the app library inserts the keys into
 * the outbox table in the writer's transaction; the tailer configured with that table decodes the
 * inserted rows and delivers exactly those keys after the commit. Deletes from the outbox (cleanup)
 * deliver nothing. Then the same on a pair that logs compact row images, with JSON updated in place
 * (MySQL: partial JSON events) and VECTOR columns in the outbox table.
 */
import memjs from 'memjs';
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { annotate } from '../../src/annotate/index.js';
import { outboxTableDdl, withInvalidation } from '../../src/app/index.js';
import {
  clusterControl,
  createExtraServers,
  type ExtraPair,
  type ExtraServers,
} from '../../src/devcluster/index.js';
import { eventsOfGtid } from '../helpers/binlog-events.js';
import { RecordingSink } from '../helpers/recording-sink.js';
import { startTailer } from '../helpers/tailer.js';
import { waitFor } from '../helpers/wait.js';
import { CommitLog, startAppTailer, type AppTailer } from './app-support.js';

const info = inject('cluster');
const cluster = clusterControl(info);
const OUTBOX = 'obx.cachetail_dirty_keys';
const cache = memjs.Client.create(info.memcached.replica, { logger: { log: () => undefined } });
let t: Awaited<ReturnType<typeof startTailer<RecordingSink>>>;

beforeAll(async () => {
  await cluster.query(
    'primary',
    `CREATE DATABASE IF NOT EXISTS obx; ${outboxTableDdl(OUTBOX)}
     CREATE TABLE obx.users (id INT PRIMARY KEY, name VARCHAR(64)) ENGINE=InnoDB;
     INSERT INTO obx.users VALUES (1, 'a'), (2, 'b');`,
  );
  await cluster.waitForReplicaCatchUp();
  t = await startTailer(info, (inner) => new RecordingSink(inner), { outbox: { tables: [OUTBOX] } });
});

afterAll(async () => {
  await t?.stop();
  cache.close();
});

async function barrier(name: string): Promise<void> {
  await cluster.query('primary', annotate(`INSERT INTO obx.users VALUES (?, 'x')`, [name]), [
    100 + name.length,
  ]);
  await waitFor(`barrier ${name}`, () => (t.sink.keys.includes(name) ? true : undefined));
}

describe('outbox mode through the tailer', () => {
  it('delivers the keys the writer put in the outbox, with the transaction, after its commit', async () => {
    for (const k of ['obx:user:1', 'obx:user:2']) await cache.set(k, 'stale', {});
    const conn = await cluster.connect('primary');
    let gtid = '';
    try {
      await withInvalidation(
        conn,
        async (tx) => {
          await tx.query("UPDATE obx.users SET name = 'A' WHERE id = 1");
          tx.dirty('obx:user:1');
          await tx.query("UPDATE obx.users SET name = 'B' WHERE id = 2");
          tx.dirty('obx:user:2');
        },
        { mode: 'outbox', outboxTable: OUTBOX, onCommit: (c) => (gtid = c.gtid) },
      );
    } finally {
      await conn.end();
    }
    const txn = await waitFor('the outbox transaction', () =>
      t.sink.transactions.find((x) => x.gtid === gtid),
    );
    expect(txn.keys).toEqual(['obx:user:1', 'obx:user:2']);
    // The recording sink sees a batch before memcached acknowledges it: wait for the deletes themselves.
    await waitFor('both keys deleted', async () =>
      (await cache.get('obx:user:1')).value === null && (await cache.get('obx:user:2')).value === null
        ? true
        : undefined,
    );
  });

  it('ignores deletes from the outbox table (cleanup)', async () => {
    const before = t.sink.keys.length;
    await cluster.query('primary', `DELETE FROM ${OUTBOX}`);
    await barrier('obx:barrier');
    expect(t.sink.keys.slice(before)).toEqual(['obx:barrier']);
  });
});

/**
 * Outbox rows in compact row images, beside wide columns, on a pair of its own logging
 * binlog_row_image=MINIMAL on both servers: an inserted row then logs only the columns its INSERT or
 * the server set (the key, the AUTO_INCREMENT id, created_at from its DEFAULT), and an update logs the
 * primary key and the changed columns. The outbox table has two more columns after the fixed three: a JSON document
 * that is updated in place, and a VECTOR(3).
 *  - MySQL: binlog_row_value_options=PARTIAL_JSON too, so the replica logs JSON_REPLACE/JSON_SET updates
 *    as PARTIAL_UPDATE_ROWS (SHOW BINLOG EVENTS: Update_rows_partial); VECTOR via STRING_TO_VECTOR.
 *  - MariaDB: no partial JSON (its JSON is LONGTEXT: an update logs the whole new document in an ordinary
 *    Update_rows); VECTOR via VEC_FromText from 11.7 on (mariadb-11.8); 10.11 has no VECTOR type, so
 *    there the second column is VARBINARY(12) holding the same 12 bytes.
 */
describe('compact row images, JSON updated in place and VECTOR columns in the outbox table', () => {
  const DB = 'obxw';
  const TABLE = `${DB}.cachetail_dirty_keys`;
  const mysql = info.server.flavor === 'mysql';
  const [major = 0, minor = 0] = info.server.version.split('.').map(Number);
  const hasVector = mysql || major > 11 || (major === 11 && minor >= 7);
  const vectorType = hasVector ? 'VECTOR(3)' : 'VARBINARY(12)';
  /** A 3-float vector value from its text `[1,2,3]` (10.11: the same little-endian float32 bytes). */
  const vector = (text: string): string => {
    if (mysql) return `STRING_TO_VECTOR('${text}')`;
    if (hasVector) return `VEC_FromText('${text}')`;
    const floats = (JSON.parse(text) as number[]).map((f) => {
      const b = Buffer.alloc(4);
      b.writeFloatLE(f);
      return b.toString('hex');
    });
    return `X'${floats.join('')}'`;
  };
  const compact = mysql
    ? ['--binlog-row-image=MINIMAL', '--binlog-row-value-options=PARTIAL_JSON']
    : ['--binlog-row-image=MINIMAL'];
  const commits = new CommitLog();
  const outbox = { mode: 'outbox', outboxTable: TABLE, onCommit: commits.record } as const;
  let extra: ExtraServers;
  let pair: ExtraPair;
  let tailer: AppTailer;
  let conn: Connection;

  beforeAll(async () => {
    extra = await createExtraServers({ template: info.server.template, line: info.server.line });
    pair = await extra.startPair({ name: 'obxwide', primaryOptions: compact, replicaOptions: compact });
    await pair.query(
      'primary',
      `CREATE DATABASE ${DB};
       ${outboxTableDdl(TABLE)}
       ALTER TABLE ${TABLE} ADD COLUMN meta JSON NULL, ADD COLUMN embedding ${vectorType} NULL;
       CREATE TABLE ${DB}.docs (id INT PRIMARY KEY, doc JSON NOT NULL, emb ${vectorType} NULL) ENGINE=InnoDB;
       INSERT INTO ${DB}.docs VALUES (1, '{"n": 1, "tags": ["a", "b"]}', ${vector('[1,2,3]')});`,
    );
    await pair.waitForReplicaCatchUp();
    tailer = await startAppTailer({
      replica: pair.replica,
      tailerUser: pair.tailerUser,
      memcached: info.memcached.replica,
      outboxTables: [TABLE],
    });
    conn = await pair.connect('primary');
    await conn.query(`USE ${DB}`);
  });
  afterAll(async () => {
    await conn?.end();
    await tailer?.stop();
    await extra?.stop();
  });

  it('delivers every key of the transaction: multi-row inserts with JSON and VECTOR values, in-place JSON updates of those rows between them', async () => {
    const before = Date.now();
    await withInvalidation(
      conn,
      async (tx) => {
        // Written by hand, with the wide columns set: the tailer must step over each row's JSON and
        // VECTOR values to reach the next row's key.
        await tx.query(
          `INSERT INTO cachetail_dirty_keys (cache_key, meta, embedding) VALUES
             ('wide:1', '{"n": 1, "who": "first"}', ${vector('[1,2,3]')}),
             ('wide:2', '{"n": 2, "who": "second"}', ${vector('[4.5,-1,0]')}),
             ('wide:3', NULL, ${vector('[0,0,1]')})`,
        );
        await tx.query(
          `UPDATE cachetail_dirty_keys SET meta = JSON_REPLACE(meta, '$.n', 7) WHERE meta IS NOT NULL`,
        );
        await tx.query(
          `UPDATE docs SET doc = JSON_SET(doc, '$.n', 2), emb = ${vector('[3,2,1]')} WHERE id = 1`,
        );
        await tx.query(`UPDATE docs SET doc = JSON_REMOVE(doc, '$.tags[0]') WHERE id = 1`);
        tx.dirty('wide:4'); // the library's own insert: cache_key only
      },
      outbox,
    );
    const after = Date.now();
    const gtid = commits.last();
    expect(await tailer.keysOf(gtid)).toEqual(['wide:1', 'wide:2', 'wide:3', 'wide:4']);
    expect(tailer.sink.transactions.filter((t) => t.gtid === gtid)).toHaveLength(1);
    // created_at, filled in by its DEFAULT, is in the MINIMAL image of the inserts too: the writer time.
    const ts = tailer.writerTimeOf(gtid)!;
    expect(ts).toBeGreaterThanOrEqual(before - 1_000);
    expect(ts).toBeLessThanOrEqual(after + 1_000);

    // What the replica logged: the partial JSON events are real (MySQL), ordinary updates on MariaDB.
    await pair.waitForReplicaCatchUp();
    const types = (await eventsOfGtid((sql) => pair.query('replica', sql), gtid)).map((e) =>
      e.slice(0, e.indexOf(':')),
    );
    const updates = types.filter((t) => t.startsWith('Update_rows'));
    expect(updates).toEqual(
      mysql
        ? ['Update_rows_partial', 'Update_rows_partial', 'Update_rows_partial']
        : ['Update_rows_v1', 'Update_rows_v1', 'Update_rows_v1'],
    );
    expect(types.filter((t) => t.startsWith('Write_rows'))).toHaveLength(2);
    const [row] = await pair.query(
      'replica',
      `SELECT JSON_EXTRACT(doc, '$.n') AS n FROM ${DB}.docs WHERE id = 1`,
    );
    expect(Number(row?.n)).toBe(2);
  });

  it('VECTOR and JSON updates of outbox rows and the cleanup deliver nothing; the next keys arrive exactly', async () => {
    const before = tailer.sink.keys.length;
    await conn.query(
      `UPDATE cachetail_dirty_keys SET embedding = ${vector('[9,9,9]')}, meta = JSON_SET(meta, '$.seen', 1) WHERE meta IS NOT NULL`,
    );
    await conn.query('DELETE FROM cachetail_dirty_keys');
    await withInvalidation(
      conn,
      async (tx) => {
        await tx.query(
          `INSERT INTO cachetail_dirty_keys (cache_key, embedding) VALUES ('wide:5', ${vector('[1,1,1]')}), ('wide:6', NULL)`,
        );
        tx.dirty('wide:barrier');
      },
      outbox,
    );
    expect(await tailer.keysOf(commits.last())).toEqual(['wide:5', 'wide:6', 'wide:barrier']);
    expect(tailer.sink.keys.slice(before)).toEqual(['wide:5', 'wide:6', 'wide:barrier']);
  });
});
