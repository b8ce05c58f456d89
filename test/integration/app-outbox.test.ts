/**
 * Outbox mode on real servers. On the shared ROW pair: the keys of inserted outbox rows are delivered,
 * rollbacks and the cleanup's deletes deliver nothing. On a STATEMENT-format primary behind a ROW replica
 * (where the replica re-logs the statements as row events without their text): comment mode loses the
 * keys — the comment is in the primary's binlog and not in the replica's — and outbox mode delivers them.
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
import { lastGtid, startAppTailer, type AppTailer } from './app-support.js';

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
  const outbox = { mode: 'outbox', outboxTable: `${DB}.cachetail_dirty_keys` } as const;
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
    const gtid = await lastGtid(conn);
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
    await tailer.keysOf(await lastGtid(conn));
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
    await tailer.keysOf(await lastGtid(conn));
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
      const [rows] = await pool.query<RowDataPacket[]>('SELECT @@last_gtid AS g');
      expect(await tailer.keysOf(String(rows[0]?.g))).toEqual(['user:2:name', 'pool:2:x']);
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
    });
    expect(await tailer.keysOf(await lastGtid(conn))).toEqual(['mixed:comment']);
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

describe('a STATEMENT-format primary behind a ROW-format replica', () => {
  const DB = 'apps';
  let extra: ExtraServers;
  let pair: ExtraPair;
  let tailer: AppTailer;
  let conn: Connection;

  beforeAll(async () => {
    extra = await createExtraServers({ template: info.server.template, line: info.server.line });
    pair = await extra.startPair({ name: 'appstmt', primaryOptions: ['--binlog-format=STATEMENT'] });
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

  /** Query texts of the events a server logged for a GTID (SHOW BINLOG EVENTS). */
  async function loggedTexts(server: 'primary' | 'replica', gtid: string): Promise<string[]> {
    const files = await pair.query(server, 'SHOW BINARY LOGS');
    const out: string[] = [];
    for (const f of files) {
      const events = await pair.query(server, `SHOW BINLOG EVENTS IN '${String(f.Log_name)}'`);
      let inGroup = false;
      for (const e of events) {
        if (e.Event_type === 'Gtid') inGroup = String(e.Info).includes(gtid);
        if (inGroup) out.push(`${String(e.Event_type)}: ${String(e.Info)}`);
      }
    }
    return out;
  }

  it('comment mode loses the keys: the comment is in the primary binlog, not in the replica’s', async () => {
    await withInvalidation(
      conn,
      async (tx) => {
        await tx.query(`UPDATE users SET name = 'c' WHERE id = 1`);
        tx.dirty('stmt:comment');
      },
      { carrierTable: `${DB}.cachetail_carrier` },
    );
    const lost = await lastGtid(conn);
    await withInvalidation(conn, (tx) => tx.dirty('barrier:stmt'), {
      mode: 'outbox',
      outboxTable: `${DB}.cachetail_dirty_keys`,
    });
    expect(await tailer.keysOf(await lastGtid(conn))).toEqual(['barrier:stmt']);
    expect(tailer.sink.keys).toEqual(['barrier:stmt']);
    await pair.waitForReplicaCatchUp();
    expect(
      (await loggedTexts('primary', lost)).filter((t) => t.includes('MEMCACHE_DIRTY stmt:comment')),
    ).toHaveLength(1);
    const replica = await loggedTexts('replica', lost);
    expect(replica.some((t) => t.startsWith('Update_rows') || t.startsWith('Write_rows'))).toBe(true);
    expect(replica.filter((t) => t.includes('MEMCACHE_DIRTY'))).toEqual([]);
  });

  it('outbox mode delivers them, exactly', async () => {
    await withInvalidation(
      conn,
      async (tx) => {
        await tx.query(`UPDATE users SET name = 'o' WHERE id = 2`);
        tx.dirty('stmt:outbox:1', 'stmt:outbox:é', "stmt:'*/");
      },
      { mode: 'outbox', outboxTable: `${DB}.cachetail_dirty_keys` },
    );
    expect(await tailer.keysOf(await lastGtid(conn))).toEqual(['stmt:outbox:1', 'stmt:outbox:é', "stmt:'*/"]);
  });
});
