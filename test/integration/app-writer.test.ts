/**
 * The writer helper in comment mode on the real primary/replica pair of every server line: what reaches the replica's own binlog (as
 * the real Tailer reads it), and what reaches the master region's memcached. Every assertion names the
 * exact keys of the exact transaction.
 */
import memjs from 'memjs';
import mysql, { type Connection, type ResultSetHeader, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { annotate, isTombstone, withInvalidation, type InvalidationError } from '../../src/app/index.js';
import { carrierTableDdl } from '../../src/app/schema.js';
import { clusterControl } from '../../src/devcluster/index.js';
import { CommitLog, startAppTailer, type AppTailer } from './app-support.js';

const info = inject('cluster');
const cluster = clusterControl(info);
const DB = 'appw';
const quiet = { logger: { log: () => undefined } };
const endpoint = { host: info.primary.host, port: info.primary.port, ...info.root };
const home = memjs.Client.create(info.memcached.master, quiet);

let tailer: AppTailer;
let conn: Connection;
let barriers = 0;
const commits = new CommitLog();
const opts = { carrierTable: `${DB}.cachetail_carrier`, onCommit: commits.record };

/** A committed keys-only transaction; once delivered, everything committed before it was read. */
async function barrier(): Promise<string> {
  const key = `barrier:w:${++barriers}`;
  await withInvalidation(conn, (tx) => tx.dirty(key), opts);
  await tailer.keysOf(commits.last());
  return key;
}

async function name(id: number): Promise<string | undefined> {
  const [rows] = await conn.query<RowDataPacket[]>(`SELECT name FROM ${DB}.users WHERE id = ?`, [id]);
  return rows[0]?.name as string | undefined;
}

async function homeValue(key: string): Promise<string | null> {
  const { value } = await home.get(key);
  return value === null ? null : value.toString('latin1');
}

beforeAll(async () => {
  await cluster.query(
    'primary',
    `CREATE DATABASE IF NOT EXISTS ${DB};
     CREATE TABLE ${DB}.users (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL) ENGINE=InnoDB;
     INSERT INTO ${DB}.users VALUES (1, 'a'), (2, 'b'), (3, 'c');
     ${carrierTableDdl(`${DB}.cachetail_carrier`)}`,
  );
  await cluster.waitForReplicaCatchUp();
  tailer = await startAppTailer({
    replica: info.replica,
    tailerUser: info.tailerUser,
    memcached: info.memcached.replica,
  });
  conn = await cluster.connect('primary', { database: DB });
});

afterAll(async () => {
  await conn?.end();
  await tailer?.stop();
  home.close();
});

describe('withInvalidation, comment mode', () => {
  it('delivers every declared key once, in order, after commit — also keys declared after the last statement and keys of statements that changed no row', async () => {
    const before = Date.now();
    const result = await withInvalidation(
      conn,
      async (tx) => {
        await tx.query(`UPDATE users SET name = ? WHERE id = 1`, ['a1']);
        tx.dirty('user:1:name');
        await tx.execute(`UPDATE users SET name = ? WHERE id = ?`, ['nobody', 999]); // changes no row
        tx.dirty('user:999:name', 'user:1:name', 'team:7');
        return 'done';
      },
      opts,
    );
    const after = Date.now();
    expect(result).toBe('done');
    const gtid = commits.last();
    // onCommit reports the primary's GTID for it: MariaDB domain-server-seq, MySQL source_uuid:seq.
    expect(gtid).toMatch(info.server.flavor === 'mysql' ? /^[0-9a-f-]{36}:\d+$/ : /^0-1-\d+$/);
    expect(await tailer.keysOf(gtid)).toEqual(['user:1:name', 'user:999:name', 'team:7']);
    expect(tailer.sink.transactions.filter((t) => t.gtid === gtid)).toHaveLength(1);
    const ts = tailer.writerTimeOf(gtid);
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(after);
    expect(await name(1)).toBe('a1');
  });

  it('why the carrier exists: an annotation on a statement that changes no row, or on a SELECT, never reaches the binlog', async () => {
    await conn.query('BEGIN');
    await conn.query(annotate(`UPDATE users SET name = 'x' WHERE id = 999`, ['lost:update-no-row']));
    await conn.query(annotate(`SELECT name FROM users WHERE id = 2`, ['lost:select']));
    await conn.query(annotate(`UPDATE users SET name = 'b' WHERE id = 2`, ['lost:same-value'])); // unchanged
    await conn.query(`UPDATE users SET name = 'b2' WHERE id = 2`);
    await conn.query('COMMIT');
    // The same transaction through the helper: the keys arrive (and it is the barrier for the above).
    await withInvalidation(
      conn,
      async (tx) => {
        await tx.query(`UPDATE users SET name = 'x' WHERE id = 999`);
        tx.dirty('kept:update-no-row', 'kept:select');
      },
      opts,
    );
    expect(await tailer.keysOf(commits.last())).toEqual(['kept:update-no-row', 'kept:select']);
    expect(tailer.sink.keys.filter((k) => k.startsWith('lost:'))).toEqual([]);
  });

  it('works with a pool (the connection goes back: a one-connection pool serves three in a row) and execute', async () => {
    const pool = mysql.createPool({ ...endpoint, database: DB, connectionLimit: 1 });
    try {
      for (const id of [1, 2, 3]) {
        await withInvalidation(
          pool,
          async (tx) => {
            await tx.execute(`UPDATE users SET name = ? WHERE id = ?`, [`pool${id}`, id]);
            tx.dirty(`user:${id}:name`, `pool:${id}`);
          },
          opts,
        );
      }
      // One GTID per transaction, reported through the pool's connection too.
      expect(new Set(commits.gtids.slice(-3)).size).toBe(3);
      expect(await tailer.keysOf(commits.last())).toEqual(['user:3:name', 'pool:3']);
      expect(tailer.sink.transactions.filter((t) => t.keys.includes('pool:1'))).toEqual([
        { gtid: expect.any(String), keys: ['user:1:name', 'pool:1'] },
      ]);
    } finally {
      await pool.end();
    }
  });

  it('emits nothing for a transaction that rolls back, rethrows its error and leaves the local tier alone', async () => {
    await home.set('user:2:name', 'cached', {});
    const before = await name(2);
    const delivered = tailer.sink.keys.length;
    const boom = new Error('boom');
    await expect(
      withInvalidation(
        conn,
        async (tx) => {
          await tx.query(`UPDATE users SET name = 'never' WHERE id = 2`);
          tx.dirty('user:2:name', 'rolled:back');
          throw boom;
        },
        { ...opts, local: { client: home } },
      ),
    ).rejects.toBe(boom);
    expect(await name(2)).toBe(before);
    expect(await homeValue('user:2:name')).toBe('cached');
    const b = await barrier();
    // Between the rollback and the barrier's commit the tailer delivered exactly the barrier's key.
    expect(tailer.sink.keys.slice(delivered)).toEqual([b]);
  });

  it('deletes the keys from the local tier only after COMMIT', async () => {
    await home.set('user:3:name', 'old', {});
    let duringTransaction: string | null = 'unset';
    await withInvalidation(
      conn,
      async (tx) => {
        await tx.query(`UPDATE users SET name = 'c2' WHERE id = 3`);
        tx.dirty('user:3:name');
        duringTransaction = await homeValue('user:3:name');
      },
      { ...opts, local: { client: home } },
    );
    expect(duringTransaction).toBe('old');
    expect(await homeValue('user:3:name')).toBeNull();
    expect(await tailer.keysOf(commits.last())).toEqual(['user:3:name']);
  });

  it('with local hold-off, writes the tombstone at home instead: a stale add cannot land', async () => {
    await home.set('user:1:card', 'old', {});
    await withInvalidation(conn, (tx) => tx.dirty('user:1:card'), {
      ...opts,
      local: { client: home, holdOffSeconds: 5 },
    });
    expect(isTombstone((await home.get('user:1:card')).value)).toBe(true);
    expect(await home.add('user:1:card', 'old', { expires: 60 })).toBe(false);
  });

  it('reports a local tier that is down, after the commit (committed: true), or to onLocalError', async () => {
    const down = memjs.Client.create('127.0.0.1:1', { ...quiet, retries: 0, timeout: 0.5, conntimeout: 0.5 });
    try {
      const err = (await withInvalidation(conn, (tx) => tx.dirty('down:1', 'down:2'), {
        ...opts,
        local: { client: down },
      }).catch((e: unknown) => e)) as InvalidationError;
      expect(err).toMatchObject({
        code: 'INVALIDATION_LOCAL_FAILED',
        committed: true,
        keys: ['down:1', 'down:2'],
      });
      expect(await tailer.keysOf(commits.last())).toEqual(['down:1', 'down:2']);
      const seen: InvalidationError[] = [];
      await withInvalidation(conn, (tx) => tx.dirty('down:3'), {
        ...opts,
        local: { client: down },
        onLocalError: (e) => seen.push(e),
      });
      expect(seen.map((e) => [e.code, e.keys])).toEqual([['INVALIDATION_LOCAL_FAILED', ['down:3']]]);
    } finally {
      down.close();
    }
  });

  it('is not fooled by namedPlaceholders: user:42 stays user:42', async () => {
    const named = await mysql.createConnection({
      ...endpoint,
      database: DB,
      namedPlaceholders: true,
    });
    try {
      await withInvalidation(
        named,
        async (tx) => {
          await tx.query(`UPDATE users SET name = :n WHERE id = :id`, { n: 'named', id: 1 });
          tx.dirty('user:42', 'a:b:c', 'q?x');
        },
        opts,
      );
      expect(await tailer.keysOf(commits.last())).toEqual(['user:42', 'a:b:c', 'q?x']);
    } finally {
      await named.end();
    }
  });

  it('refuses a missing carrier table (and rolls back), BEGIN/COMMIT through tx, nesting, and use after the end', async () => {
    await expect(
      withInvalidation(
        conn,
        async (tx) => {
          await tx.query(`UPDATE users SET name = 'nope' WHERE id = 1`);
          tx.dirty('k');
        },
        { carrierTable: `${DB}.no_such_table` },
      ),
    ).rejects.toMatchObject({ code: 'INVALIDATION_TABLE_MISSING' });
    expect(await name(1)).toBe('named');

    await expect(withInvalidation(conn, (tx) => tx.query('COMMIT'), opts)).rejects.toMatchObject({
      code: 'INVALIDATION_TX_CONTROL',
    });
    await expect(
      withInvalidation(conn, () => withInvalidation(conn, () => Promise.resolve(), opts), opts),
    ).rejects.toMatchObject({ code: 'INVALIDATION_NESTED' });
    let leaked: Parameters<Parameters<typeof withInvalidation>[1]>[0] | undefined;
    await withInvalidation(conn, (tx) => Promise.resolve((leaked = tx)), opts);
    expect(() => leaked?.dirty('late')).toThrow(expect.objectContaining({ code: 'INVALIDATION_CLOSED' }));
    await expect(leaked?.query('SELECT 1')).rejects.toMatchObject({ code: 'INVALIDATION_CLOSED' });
    // The connection is usable afterwards (each failure rolled back): the server's status flags in the
    // OK packet say no transaction is open (SERVER_STATUS_IN_TRANS, on both flavors; MySQL has no
    // @@in_transaction).
    const [ok] = await conn.query<ResultSetHeader>('DO 0');
    expect(ok.serverStatus & 1).toBe(0);
  });

  it('rejects an invalid key at dirty(), before anything is written', async () => {
    await expect(
      withInvalidation(
        conn,
        async (tx) => {
          await tx.query(`UPDATE users SET name = 'bad-key' WHERE id = 1`);
          tx.dirty('has space');
        },
        opts,
      ),
    ).rejects.toMatchObject({ name: 'AnnotationError', code: 'ANNOTATION_INVALID_KEY' });
    expect(await name(1)).toBe('named');
  });
});
