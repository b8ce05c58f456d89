/**
 * The adversarial statement set, end to end: every case marked `e2e` is executed on the real primary (in
 * the sql_mode it needs), replicated, re-logged by the replica (MariaDB Annotate_rows, MySQL Rows_query),
 * on every server line, and read by the real
 * Tailer. Each statement's transaction must deliver exactly the keys the case expects — none at all for
 * annotation look-alikes in user data (a transaction without keys is never delivered).
 */
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clusterControl } from '../../src/devcluster/index.js';
import { ADVERSARIAL } from '../unit/app/adversarial-corpus.js';
import { connectWriter, lastGtid, startAppTailer, type AppTailer } from './app-support.js';

const info = inject('cluster');
const cluster = clusterControl(info);
let tailer: AppTailer;

beforeAll(async () => {
  await cluster.query(
    'primary',
    `CREATE DATABASE IF NOT EXISTS adv;
     CREATE TABLE adv.notes (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT CHARACTER SET utf8mb4) ENGINE=InnoDB;`,
  );
  await cluster.waitForReplicaCatchUp();
  tailer = await startAppTailer({
    replica: info.replica,
    tailerUser: info.tailerUser,
    memcached: info.memcached.replica,
  });
});
afterAll(async () => {
  await tailer?.stop();
});

describe('adversarial statements through a real binlog', () => {
  const flavor = info.server.flavor;
  // A case about one flavor's lexing (MariaDB's /*M! executable comments) is no valid SQL, or other SQL,
  // on the other flavor's server.
  const cases = ADVERSARIAL.filter((c) => c.e2e && (c.server === undefined || c.server === flavor));

  it(
    `${cases.length} statements: each transaction delivers exactly the expected keys`,
    { timeout: 120_000 },
    async () => {
      const conn = await connectWriter(cluster);
      const gtids: string[] = [];
      try {
        const [mode] = await conn.query<RowDataPacket[]>('SELECT @@sql_mode AS m');
        const defaultMode = String(mode[0]?.m);
        for (const c of cases) {
          const sqlMode = c.sqlMode ? `${defaultMode},${c.sqlMode}` : defaultMode;
          await conn.query('SET SESSION sql_mode = ?', [sqlMode]);
          const [result] = await conn.query(c.sql as string).catch((err: unknown) => {
            throw new Error(`case ${JSON.stringify(c.name)}: ${(err as Error).message}`);
          });
          gtids.push(await lastGtid(conn, result));
        }
        await conn.query('SET SESSION sql_mode = ?', [defaultMode]);
        const [barrier] = await conn.query(
          `INSERT INTO adv.notes (body) VALUES ('') /* MEMCACHE_DIRTY barrier:adv */`,
        );
        await tailer.keysOf(await lastGtid(conn, barrier));
      } finally {
        await conn.end();
      }
      expect(new Set(gtids).size).toBe(cases.length);
      const delivered = new Map(tailer.sink.transactions.map((t) => [t.gtid, t.keys]));
      const got = cases.map((c, i) => [c.name, delivered.get(gtids[i]) ?? []]);
      // MariaDB logs a ROW transaction without a BEGIN query: the tailer does not know the sql_mode. MySQL
      // logs BEGIN, with the session's sql_mode, before the Rows_query event: the tailer lexes in it.
      expect(got).toEqual(
        cases.map((c) => [c.name, flavor === 'mysql' ? c.keys : (c.unknownKeys ?? c.keys)]),
      );
    },
  );
});
