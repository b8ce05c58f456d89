/**
 * Generates the benchmark's binlogs on a real server (the devcluster primary of a server line: MariaDB
 * by default, MySQL 9.7 for the mysqlbinlog comparison): ROW format, CRC32, the statement text before
 * each statement's row events — what a tailer reads in production. Each transaction is BEGIN, 2–5
 * annotated statements (UPDATE/INSERT/DELETE with 1–5 keys each, some touching several rows), COMMIT;
 * MariaDB logs it as GTID, then per statement ANNOTATE_ROWS + TABLE_MAP + rows events, then XID; MySQL
 * as GTID, BEGIN, per statement ROWS_QUERY + TABLE_MAP + rows events, then XID.
 *
 * Files are cached under .cache/bench/ (git-ignored) with a JSON sidecar; a file whose sidecar is
 * missing is regenerated. Deterministic SQL (seeded), so two generations differ only in timestamps (and,
 * on MySQL, the server UUID in the GTIDs).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { annotate } from '../../src/annotate/index.js';
import { DEFAULT_LINE, startCluster, type ServerLine } from '../../src/devcluster/index.js';

/** Bump when the workload changes: cached files of an older version are not reused. */
const WORKLOAD_VERSION = 2;
const TXNS_PER_ROUND_TRIP = 25;
const USERS = 20_000;

export interface BinlogTarget {
  /** File name under the cache dir. */
  name: string;
  /** Generate until the binlog file reaches this many bytes. */
  bytes: number;
  /** The server line that writes it (default mariadb-10.11). */
  line?: ServerLine;
}

export interface GeneratedBinlog {
  file: string;
  bytes: number;
  transactions: number;
  /** Distinct keys per transaction, summed: what the assembler must deliver. */
  keys: number;
  statements: number;
  serverVersion: string;
  /** The server line that wrote it (absent in sidecars written before lines existed: mariadb-10.11). */
  line?: ServerLine;
}

export function cachedBinlogPath(cacheDir: string, t: BinlogTarget): string {
  return path.join(cacheDir, `v${WORKLOAD_VERSION}-${t.name}`);
}

export function readCached(cacheDir: string, t: BinlogTarget): GeneratedBinlog | undefined {
  const file = cachedBinlogPath(cacheDir, t);
  if (!existsSync(file) || !existsSync(`${file}.json`)) return undefined;
  return JSON.parse(readFileSync(`${file}.json`, 'utf8')) as GeneratedBinlog;
}

/** Small seeded LCG: the workload must be the same on every machine. */
function lcg(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

/**
 * Every statement changes at least one row: in ROW format a statement that changes nothing is not
 * logged at all (no Annotate_rows), and the benchmark checks that every key written is found.
 */
interface State {
  nextPost: number;
  livePosts: number[];
  renames: number;
}

function transaction(rand: (n: number) => number, st: State): { sql: string[]; keys: number } {
  const keys = new Set<string>();
  const statements: string[] = [];
  const n = 2 + rand(4);
  for (let i = 0; i < n; i++) {
    const user = 1 + rand(USERS);
    const extra = Array.from({ length: rand(5) }, () => `user:${1 + rand(USERS)}:feed`);
    let sql: string;
    let stmtKeys: string[];
    const kind = rand(4);
    switch (kind === 3 && st.livePosts.length === 0 ? 1 : kind) {
      case 0:
        sql = `UPDATE users SET score = score + ${1 + rand(10)}, updated = NOW(3) WHERE id = ${user}`;
        stmtKeys = [`user:${user}`, ...extra];
        break;
      case 1: {
        const id = st.nextPost++;
        st.livePosts.push(id);
        const body = `post ${id} by ${user} `.repeat(2 + rand(6));
        sql = `INSERT INTO posts (id, user_id, title, body, created) VALUES (${id}, ${user}, 'title ${id}', '${body}', NOW())`;
        stmtKeys = [`post:${id}`, `user:${user}:posts`, ...extra.slice(0, 3)];
        break;
      }
      case 2: {
        const lo = 1 + rand(USERS - 4);
        sql = `UPDATE users SET name = CONCAT('n', ${st.renames++}, '-', id) WHERE id BETWEEN ${lo} AND ${lo + 1 + rand(3)}`;
        stmtKeys = [`users:range:${lo}`, ...extra];
        break;
      }
      default: {
        const at = rand(st.livePosts.length);
        const id = st.livePosts[at];
        st.livePosts[at] = st.livePosts[st.livePosts.length - 1]!;
        st.livePosts.pop();
        sql = `DELETE FROM posts WHERE id = ${id}`;
        stmtKeys = [`post:${id}`, ...extra.slice(0, 2)];
      }
    }
    for (const k of stmtKeys.slice(0, 5)) keys.add(k);
    statements.push(annotate(sql, stmtKeys.slice(0, 5)));
  }
  return { sql: ['BEGIN', ...statements, 'COMMIT'], keys: keys.size };
}

/**
 * Starts a devcluster of `line`, writes the workload until each target size is reached, copies the
 * files. Targets are generated one after another on the same primary, in order.
 */
export async function generateBinlogs(
  cacheDir: string,
  targets: BinlogTarget[],
  line: ServerLine = DEFAULT_LINE,
): Promise<void> {
  mkdirSync(cacheDir, { recursive: true });
  const cluster = await startCluster({ line, log: (m) => process.stderr.write(`${m}\n`) });
  const { sql } = cluster.driver;
  try {
    // The replica would replay every write on the same two cores; it is not part of this measurement.
    await cluster.query('replica', sql.stopReplica);
    await cluster.query(
      'primary',
      `CREATE DATABASE IF NOT EXISTS bench;
       CREATE TABLE bench.users (id INT PRIMARY KEY, name VARCHAR(64), email VARCHAR(128), score INT NOT NULL,
         updated DATETIME(3));
       CREATE TABLE bench.posts (id BIGINT PRIMARY KEY, user_id INT NOT NULL, title VARCHAR(200), body TEXT,
         created DATETIME)`,
    );
    const conn = await cluster.connect('primary', { database: 'bench' });
    try {
      for (let lo = 1; lo <= USERS; lo += 1000) {
        const rows = Array.from(
          { length: 1000 },
          (_, i) => `(${lo + i}, 'u${lo + i}', 'u${lo + i}@example.com', 0)`,
        );
        await conn.query(`INSERT INTO users (id, name, email, score) VALUES ${rows.join(',')}`);
      }
      const [versionRows] = await conn.query<RowDataPacket[]>('SELECT @@version AS version');
      const { version } = versionRows[0] as { version: string };
      // The driver's datadir as this host sees it (a chrooted server's @@datadir is inside its root).
      const dir = path.join(cluster.info.baseDir, 'primary', 'data');
      const rand = lcg(20240611);
      const state: State = { nextPost: 1, livePosts: [], renames: 0 };
      for (const target of targets) {
        await conn.query('FLUSH BINARY LOGS');
        const [status] = await conn.query<RowDataPacket[]>(sql.binlogStatus);
        const binlog = (status[0] as { File: string }).File;
        const gen: GeneratedBinlog = {
          file: binlog,
          bytes: 0,
          transactions: 0,
          keys: 0,
          statements: 0,
          serverVersion: version,
          line,
        };
        const started = Date.now();
        for (let round = 0; ; round++) {
          const batch = Array.from({ length: TXNS_PER_ROUND_TRIP }, () => transaction(rand, state));
          await conn.query(batch.flatMap((t) => t.sql).join(';\n'));
          gen.transactions += batch.length;
          gen.keys += batch.reduce((s, t) => s + t.keys, 0);
          gen.statements += batch.reduce((s, t) => s + t.sql.length - 2, 0);
          if (round % 20 === 19) {
            const [logs] = await conn.query<RowDataPacket[]>('SHOW BINARY LOGS');
            const size = Number(
              (logs as { Log_name: string; File_size: number }[]).find((l) => l.Log_name === binlog)
                ?.File_size ?? 0,
            );
            process.stderr.write(
              `\r  ${target.name}: ${(size / 2 ** 20).toFixed(1)} MiB, ${gen.transactions} transactions`,
            );
            if (size >= target.bytes) break;
          }
        }
        await conn.query('FLUSH BINARY LOGS');
        const dest = cachedBinlogPath(cacheDir, target);
        copyFileSync(path.join(dir, binlog), `${dest}.tmp`);
        renameSync(`${dest}.tmp`, dest);
        gen.bytes = readFileSync(dest).length;
        writeFileSync(`${dest}.json`, `${JSON.stringify(gen, null, 2)}\n`);
        process.stderr.write(
          `\n  ${target.name}: ${gen.bytes} bytes in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
        );
      }
    } finally {
      await conn.end();
    }
  } finally {
    await cluster.stop();
  }
}
