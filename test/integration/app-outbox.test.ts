/**
 * Outbox mode on real servers, on every server line. On the shared ROW pair: the keys of inserted
 * outbox rows are delivered, rollbacks and the cleanup's deletes deliver nothing. On deployments where
 * the replica re-logs the rows without the statement text (a STATEMENT-format primary behind a ROW
 * replica on MariaDB; a replica that does not re-log statement text on both flavors): comment mode loses
 * the keys — the comment is in the primary's binlog and not in the replica's — and outbox mode delivers
 * them. On MySQL a STATEMENT primary is no such deployment: its replica keeps the text (Rows_query).
 */
import mysql, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanupOutbox, withInvalidation } from '../../src/app/index.js';
import { outboxCommand } from '../../src/commands/outbox.js';
import { carrierTableDdl, outboxTableDdl } from '../../src/app/schema.js';
import {
  clusterControl,
  createExtraServers,
  type ExtraPair,
  type ExtraServers,
} from '../../src/devcluster/index.js';
import { eventsOfGtid } from '../helpers/binlog-events.js';
import { CommitLog, startAppTailer, type AppTailer } from './app-support.js';

const info = inject('cluster');
const cluster = clusterControl(info);

const schema = (db: string) =>
  `CREATE DATABASE IF NOT EXISTS ${db};
   CREATE TABLE ${db}.users (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL) ENGINE=InnoDB;
   INSERT INTO ${db}.users VALUES (1, 'a'), (2, 'b');
   ${carrierTableDdl(`${db}.cachetail_carrier`)}
   ${outboxTableDdl(`${db}.cachetail_dirty_keys`)}`;

describe('outbox mode on a ROW-format pair', () => {
  const DB = 'appo';
  const commits = new CommitLog();
  const outbox = {
    mode: 'outbox',
    outboxTable: `${DB}.cachetail_dirty_keys`,
    onCommit: commits.record,
  } as const;
  let tailer: AppTailer;
  let conn: Connection;

  beforeAll(async () => {
    await cluster.query('primary', schema(DB));
    await cluster.waitForReplicaCatchUp();
    tailer = await startAppTailer({
      replica: info.replica,
      tailerUser: info.tailerUser,
      memcached: info.memcached.replica,
      outboxTables: [`${DB}.cachetail_dirty_keys`],
    });
    conn = await cluster.connect('primary', { database: DB });
  });
  afterAll(async () => {
    await conn?.end();
    await tailer?.stop();
  });

  it('delivers exactly the declared keys, with the row time as writer time', async () => {
    const before = Date.now();
    await withInvalidation(
      conn,
      async (tx) => {
        await tx.execute('UPDATE users SET name = ? WHERE id = ?', ['o1', 1]);
        tx.dirty('user:1:name', 'user:1:é', 'user:1:name', "o'*/x");
      },
      outbox,
    );
    const after = Date.now();
    const gtid = commits.last();
    expect(await tailer.keysOf(gtid)).toEqual(['user:1:name', 'user:1:é', "o'*/x"]);
    const ts = tailer.writerTimeOf(gtid)!;
    expect(ts).toBeGreaterThanOrEqual(before - 1_000);
    expect(ts).toBeLessThanOrEqual(after + 1_000);
  });

  it('delivers nothing for a rollback, nor for the cleanup deleting the rows (bounded batches)', async () => {
    await expect(
      withInvalidation(
        conn,
        async (tx) => {
          tx.dirty('outbox:rolled-back');
          await tx.query('UPDATE users SET name = 1/0 WHERE id = 2'); // strict mode: an error
        },
        outbox,
      ),
    ).rejects.toThrow('Division by 0');
    for (let i = 0; i < 3; i++)
      await withInvalidation(conn, (tx) => tx.dirty(`o:${i}:a`, `o:${i}:b`), outbox);
    await tailer.keysOf(commits.last());
    const [[count]] = await conn.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM cachetail_dirty_keys');
    expect(Number(count?.n)).toBe(3 + 6); // the first test's 3 rows, then these 6; none from the rollback
    const delivered = tailer.sink.keys.length;

    const result = await cleanupOutbox(conn, {
      table: `${DB}.cachetail_dirty_keys`,
      olderThanSeconds: 0,
      batchRows: 4,
    });
    expect(result).toEqual({ table: `${DB}.cachetail_dirty_keys`, deleted: 9, batches: 3, truncated: false });
    const [[left]] = await conn.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM cachetail_dirty_keys');
    expect(Number(left?.n)).toBe(0);

    await withInvalidation(conn, (tx) => tx.dirty('barrier:o:1'), outbox);
    await tailer.keysOf(commits.last());
    expect(tailer.sink.keys.slice(delivered)).toEqual(['barrier:o:1']);
    expect(tailer.sink.keys).not.toContain('outbox:rolled-back');
  });

  it('keeps young rows and stops at maxBatches', async () => {
    for (let i = 0; i < 5; i++) await withInvalidation(conn, (tx) => tx.dirty(`young:${i}`), outbox);
    expect(
      await cleanupOutbox(conn, { table: `${DB}.cachetail_dirty_keys`, olderThanSeconds: 3600 }),
    ).toMatchObject({
      deleted: 0,
    });
    expect(
      await cleanupOutbox(conn, {
        table: `${DB}.cachetail_dirty_keys`,
        olderThanSeconds: 0,
        batchRows: 2,
        maxBatches: 1,
      }),
    ).toMatchObject({ deleted: 2, batches: 1, truncated: true });
  });

  it('works through a pool, with the named-placeholder option on', async () => {
    const pool = mysql.createPool({
      host: info.primary.host,
      port: info.primary.port,
      ...info.root,
      database: DB,
      connectionLimit: 1,
      namedPlaceholders: true,
    });
    try {
      for (const id of [1, 2]) {
        await withInvalidation(
          pool,
          async (tx) => {
            await tx.execute('UPDATE users SET name = :name WHERE id = :id', { name: `pool${id}`, id });
            tx.dirty(`user:${id}:name`, `pool:${id}:x`);
          },
          outbox,
        );
      }
      expect(await tailer.keysOf(commits.last())).toEqual(['user:2:name', 'pool:2:x']);
      expect(tailer.sink.transactions.filter((t) => t.keys.includes('pool:1:x')).map((t) => t.keys)).toEqual([
        ['user:1:name', 'pool:1:x'],
      ]);
    } finally {
      await pool.end();
    }
  });

  it('comment mode and outbox mode feed the same tailer', async () => {
    await withInvalidation(conn, (tx) => tx.dirty('mixed:comment'), {
      carrierTable: `${DB}.cachetail_carrier`,
      onCommit: commits.record,
    });
    expect(await tailer.keysOf(commits.last())).toEqual(['mixed:comment']);
  });

  it('cachetail outbox cleanup: the command deletes old outbox and carrier rows', async () => {
    let out = '';
    let err = '';
    const args = ['cleanup', '--host', info.primary.host, '--port', String(info.primary.port)];
    args.push('--user', info.root.user, '--database', DB, '--carrier-table', 'cachetail_carrier');
    args.push('--older-than', '0', '--batch', '2', '--pause-ms', '0');
    const code = await outboxCommand(args, {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      env: { CACHETAIL_DB_PASSWORD: info.root.password },
    });
    expect([code, err]).toEqual([0, '']);
    // young:1..4 (the barrier and young:0 went earlier) and the pool test's 4 rows, 2 per batch; one
    // carrier row (this file's own connection, from the comment-mode test).
    expect(out).toBe(
      'cachetail_dirty_keys: deleted 8 rows in 4 batches\ncachetail_carrier: deleted 1 row in 1 batch\n',
    );
    const [[left]] = await conn.query<RowDataPacket[]>(
      'SELECT (SELECT COUNT(*) FROM cachetail_dirty_keys) + (SELECT COUNT(*) FROM cachetail_carrier) AS n',
    );
    expect(Number(left?.n)).toBe(0);
  });
});

/** The events a server of `pair` logged for a GTID (SHOW BINLOG EVENTS). */
const loggedTexts = (pair: ExtraPair, server: 'primary' | 'replica', gtid: string) =>
  eventsOfGtid((sql) => pair.query(server, sql), gtid);

const mysqlLine = info.server.flavor === 'mysql';

/**
 * A deployment where the comment may not reach the replica's binlog (an extra pair): what comment mode
 * delivers, what each server logged, and outbox mode delivering the keys either way.
 */
function deployment(
  title: string,
  name: string,
  setup: { primaryOptions?: string[]; replicaOptions?: string[]; commentSurvives: boolean },
): void {
  describe(title, () => {
    const DB = 'apps';
    const commits = new CommitLog();
    const survives = setup.commentSurvives;
    let extra: ExtraServers;
    let pair: ExtraPair;
    let tailer: AppTailer;
    let conn: Connection;

    beforeAll(async () => {
      extra = await createExtraServers({ template: info.server.template, line: info.server.line });
      pair = await extra.startPair({
        name,
        primaryOptions: setup.primaryOptions,
        replicaOptions: setup.replicaOptions,
      });
      await pair.query('primary', schema(DB));
      await pair.waitForReplicaCatchUp();
      tailer = await startAppTailer({
        replica: pair.replica,
        tailerUser: pair.tailerUser,
        memcached: info.memcached.replica,
        outboxTables: [`${DB}.cachetail_dirty_keys`],
      });
      conn = await pair.connect('primary');
      await conn.query(`USE ${DB}`);
    });
    afterAll(async () => {
      await conn?.end();
      await tailer?.stop();
      await extra?.stop();
    });

    it(`comment mode ${survives ? 'delivers' : 'loses'} the keys: the comment is in the primary binlog, ${survives ? 'and' : 'not'} in the replica’s`, async () => {
      await withInvalidation(
        conn,
        async (tx) => {
          await tx.query(`UPDATE users SET name = 'c' WHERE id = 1`);
          tx.dirty('stmt:comment');
        },
        { carrierTable: `${DB}.cachetail_carrier`, onCommit: commits.record },
      );
      const commented = commits.last();
      await withInvalidation(conn, (tx) => tx.dirty('barrier:stmt'), {
        mode: 'outbox',
        outboxTable: `${DB}.cachetail_dirty_keys`,
        onCommit: commits.record,
      });
      expect(await tailer.keysOf(commits.last())).toEqual(['barrier:stmt']);
      expect(tailer.sink.keys).toEqual(survives ? ['stmt:comment', 'barrier:stmt'] : ['barrier:stmt']);
      await pair.waitForReplicaCatchUp();
      expect(
        (await loggedTexts(pair, 'primary', commented)).filter((t) =>
          t.includes('MEMCACHE_DIRTY stmt:comment'),
        ),
      ).toHaveLength(1);
      const replica = await loggedTexts(pair, 'replica', commented);
      expect(replica.some((t) => t.startsWith('Update_rows') || t.startsWith('Write_rows'))).toBe(true);
      expect(replica.filter((t) => t.includes('MEMCACHE_DIRTY stmt:comment'))).toHaveLength(survives ? 1 : 0);
    });

    it('outbox mode delivers them, exactly', async () => {
      await withInvalidation(
        conn,
        async (tx) => {
          await tx.query(`UPDATE users SET name = 'o' WHERE id = 2`);
          tx.dirty('stmt:outbox:1', 'stmt:outbox:é', "stmt:'*/");
        },
        { mode: 'outbox', outboxTable: `${DB}.cachetail_dirty_keys`, onCommit: commits.record },
      );
      expect(await tailer.keysOf(commits.last())).toEqual(['stmt:outbox:1', 'stmt:outbox:é', "stmt:'*/"]);
    });
  });
}

// A STATEMENT-format primary behind a ROW-format replica: MariaDB's replica re-logs the statements as
// row events without their text, so the comment is lost; MySQL's applier writes the statement it applied
// as a Rows_query event before its rows (binlog_rows_query_log_events=ON on the replica), so the comment
// survives there.
deployment('a STATEMENT-format primary behind a ROW-format replica', 'appstmt', {
  primaryOptions: ['--binlog-format=STATEMENT'],
  commentSurvives: mysqlLine,
});

// A ROW replica that does not re-log the statement text it received: MariaDB
// replicate_annotate_row_events=OFF (no Annotate_rows), MySQL binlog_rows_query_log_events=OFF (no
// Rows_query). The comment is lost on both; outbox mode is the way out.
deployment('a ROW-format replica that does not re-log statement text', 'appnotext', {
  replicaOptions: [mysqlLine ? '--binlog-rows-query-log-events=OFF' : '--replicate-annotate-row-events=OFF'],
  commentSurvives: false,
});
