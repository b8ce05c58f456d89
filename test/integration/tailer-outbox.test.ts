/**
 * Outbox mode through the real Tailer loop: the app library inserts the keys into the outbox table in
 * the writer's transaction; the tailer configured with that table decodes the inserted rows and
 * delivers exactly those keys after the commit. Deletes from the outbox (cleanup) deliver nothing.
 */
import memjs from 'memjs';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { annotate } from '../../src/annotate/index.js';
import { outboxTableDdl, withInvalidation } from '../../src/app/index.js';
import { clusterControl } from '../../src/devcluster/index.js';
import { RecordingSink } from '../helpers/recording-sink.js';
import { startTailer } from '../helpers/tailer.js';
import { waitFor } from '../helpers/wait.js';

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
        { mode: 'outbox', outboxTable: OUTBOX },
      );
      const [rows] = await conn.query<RowDataPacket[]>('SELECT @@last_gtid AS g');
      gtid = String(rows[0]?.g);
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
