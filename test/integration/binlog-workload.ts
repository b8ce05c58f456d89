/**
 * A workload for the binlog differential test, run on the devcluster primary: DDL, every column type
 * the row decoder reads (signed/unsigned integers, DECIMAL, FLOAT/DOUBLE, VARCHAR/CHAR/TEXT/BLOB with
 * utf8mb4 and binary bytes, DATETIME/TIMESTAMP/TIME with fractions, DATE, YEAR, ENUM/SET, BIT, JSON),
 * multi-statement transactions, rollbacks (InnoDB: nothing logged; MyISAM mixed in: logged anyway),
 * statement and row format, MariaDB compressed events, annotated statements, multi-event statements,
 * and two events over 16 MB (a LONGBLOB row; a statement-format INSERT whose text is 17 MB).
 */
import type { Connection } from 'mysql2/promise';
import type { ClusterControl } from '../../src/devcluster/index.js';

export const DB = 'bdiff';
/** Bigger than one 16 MB protocol packet (0xFFFFFF bytes), so the event arrives in two or more. */
export const BIG_BYTES = 17 * 1024 * 1024 + 321;
const MAX_PACKET = 96 * 1024 * 1024;

/** Keys each annotated transaction carries, in commit order, as the tailer must find them. */
export type ExpectedKeys = string[][];

const TYPES_TABLE = `CREATE TABLE ${DB}.types (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED,
  mi MEDIUMINT, mu MEDIUMINT UNSIGNED, ii INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED,
  de DECIMAL(20,6), dn DECIMAL(5,0), dz DECIMAL(30,15),
  fl FLOAT, db DOUBLE,
  vc VARCHAR(100) CHARACTER SET utf8mb4, vl VARCHAR(400) CHARACTER SET utf8mb4,
  ch CHAR(10) CHARACTER SET utf8mb4, cl CHAR(20) CHARACTER SET latin1,
  cb BINARY(4), vb VARBINARY(64),
  tx TEXT CHARACTER SET utf8mb4, bl BLOB, tb TINYBLOB, mb MEDIUMBLOB,
  dt DATETIME(6), d0 DATETIME, ts TIMESTAMP(3) NULL DEFAULT NULL, t0 TIMESTAMP NULL DEFAULT NULL,
  tm TIME(4), tz TIME, da DATE, yr YEAR,
  en ENUM('a','b','c'), st SET('x','y','z'),
  bt BIT(13), b1 BIT(1), b64 BIT(64),
  js JSON
) ENGINE=InnoDB`;

const COLUMNS =
  'ti,tu,si,su,mi,mu,ii,iu,bi,bu,de,dn,dz,fl,db,vc,vl,ch,cl,cb,vb,tx,bl,tb,mb,dt,d0,ts,t0,tm,tz,da,yr,en,st,bt,b1,b64,js';

/** Rows of extreme and ordinary values (SQL literals, in COLUMNS order). */
const TYPE_ROWS = [
  `-128,255,-32768,65535,-8388608,16777215,-2147483648,4294967295,-9223372036854775808,18446744073709551615,
   -99999999999999.999999,-99999,-123456789012345.123456789012345,-3.5e38,-1.7976931348623157e308,
   'ascii', REPEAT('ü', 300), 'ch', 'latin1 é', X'00FF7F80', X'000102FEFF',
   '😀 emoji 🍣 utf8mb4', X'DEADBEEF00', X'00', REPEAT(X'00FF', 100),
   '1000-01-01 00:00:00.000000', '9999-12-31 23:59:59', '1970-01-01 00:00:01.000', '2038-01-19 03:14:07',
   '-838:59:59.0000', '838:59:59', '1000-01-01', 1901,
   'a', '', b'0000000000000', b'0', b'1111111111111111111111111111111111111111111111111111111111111111',
   '{"a":[1,2,{"b":null}],"c":"ü"}'`,
  `127,0,32767,0,8388607,0,2147483647,0,9223372036854775807,0,
   99999999999999.999999,99999,0.000000000000001,1.5,2.2250738585072014e-308,
   '', '', '', '', X'', X'',
   '', X'', X'', X'',
   '2024-02-29 12:34:56.789012', '2024-02-29 12:34:56', '2024-02-29 12:34:56.789', '2024-02-29 12:34:56',
   '-00:00:00.0001', '-12:00:01', '2024-02-29', 2155,
   'c', 'x,y,z', b'1010101010101', b'1', b'0',
   '[]'`,
  `0,1,-1,1,-1,1,-1,1,-1,1,
   -0.000001,0,-0.5,-0.0,3.141592653589793,
   'quote '' and \\\\ backslash', 'line\\nbreak\\ttab', 'ÄÖÜ', 'x', X'41424344', X'FF',
   CONCAT('/* MEMCACHE_DIRTY decoy:1 */ ', REPEAT('t', 1000)), X'0D0A1A', X'FF', REPEAT(X'AB', 70000),
   '2000-01-01 00:00:00.5', '2000-01-01 00:00:00', NULL, NULL,
   '00:00:00.5', '00:00:00', '0000-00-00', 0,
   'b', 'y', b'1', b'0', b'1',
   'null'`,
  `NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,
   NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL`,
];

async function exec(conn: Connection, sql: string): Promise<void> {
  await conn.query(sql);
}

/**
 * Runs the workload; returns the keys of the annotated transactions in commit order. `beforeBig` runs
 * before the >16 MB transactions (the test rotates the binlogs there, so a dump crosses files).
 */
export async function runWorkload(
  cluster: ClusterControl,
  beforeBig: () => Promise<void> = async () => {},
): Promise<ExpectedKeys> {
  const keys: ExpectedKeys = [];
  const conn = await cluster.connect('primary');
  try {
    await exec(conn, `SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'`); // '0000-00-00', YEAR 0
    await exec(conn, `DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}`);
    await exec(conn, TYPES_TABLE);
    await exec(conn, `CREATE TABLE ${DB}.big (id INT PRIMARY KEY, payload LONGBLOB) ENGINE=InnoDB`);
    await exec(conn, `CREATE TABLE ${DB}.kv (k VARCHAR(64) PRIMARY KEY, v TEXT) ENGINE=InnoDB`);
    await exec(conn, `CREATE TABLE ${DB}.nt (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=MyISAM`);

    // Row format (the server default here): one statement per row, then one multi-row statement.
    for (const row of TYPE_ROWS) {
      await exec(conn, `INSERT INTO ${DB}.types (${COLUMNS}) VALUES (${row}) /* MEMCACHE_DIRTY types:row */`);
      keys.push(['types:row']);
    }
    await exec(
      conn,
      `INSERT INTO ${DB}.types (${COLUMNS}) VALUES ${TYPE_ROWS.map((r) => `(${r})`).join(',')}`,
    );
    await exec(
      conn,
      `UPDATE ${DB}.types SET vc = CONCAT('upd-', id), js = JSON_OBJECT('id', id) WHERE id % 2 = 0`,
    );
    await exec(conn, `DELETE FROM ${DB}.types WHERE id = 3`);

    // Many rows in one statement: several rows events (8 KB each by default), STMT_END on the last.
    const many = Array.from({ length: 600 }, (_, i) => `('k${i}', REPEAT('v', ${i % 50}))`).join(',');
    await exec(conn, `INSERT INTO ${DB}.kv VALUES ${many} /* MEMCACHE_DIRTY kv:bulk */`);
    keys.push(['kv:bulk']);

    // A multi-statement transaction with annotations on several statements.
    await exec(conn, 'BEGIN');
    await exec(conn, `INSERT INTO ${DB}.kv VALUES ('user:1', 'Jason') /* MEMCACHE_DIRTY user:1 */`);
    await exec(
      conn,
      `UPDATE ${DB}.kv SET v = 'Monkey' WHERE k = 'user:1' /* MEMCACHE_DIRTY user:1,user%3Aname:1 */`,
    );
    await exec(conn, `DELETE FROM ${DB}.kv WHERE k LIKE 'k1%' /* MEMCACHE_DIRTY kv:k1 */`);
    await exec(conn, 'COMMIT');
    keys.push(['user:1', 'user:name:1', 'kv:k1']);

    // Rollbacks: InnoDB only (nothing reaches the binlog), then with a MyISAM change that stays.
    await exec(conn, 'BEGIN');
    await exec(conn, `INSERT INTO ${DB}.kv VALUES ('gone', 'x') /* MEMCACHE_DIRTY never:1 */`);
    await exec(conn, 'ROLLBACK');
    await exec(conn, 'BEGIN');
    await exec(conn, `INSERT INTO ${DB}.kv VALUES ('gone2', 'x')`);
    await exec(conn, `INSERT INTO ${DB}.nt VALUES (1, 'stays') /* MEMCACHE_DIRTY nt:1 */`);
    await exec(conn, 'ROLLBACK');
    keys.push(['nt:1']);
    await exec(conn, 'BEGIN');
    await exec(conn, `INSERT INTO ${DB}.kv VALUES ('sp1', 'kept') /* MEMCACHE_DIRTY sp:1 */`);
    await exec(conn, 'SAVEPOINT s1');
    await exec(conn, `INSERT INTO ${DB}.kv VALUES ('sp2', 'undone')`);
    await exec(conn, 'ROLLBACK TO SAVEPOINT s1');
    await exec(conn, 'COMMIT');
    keys.push(['sp:1']);

    // Statement format: INTVAR (auto-increment), RAND, USER_VAR context events, annotations in QUERY.
    await exec(conn, `SET SESSION binlog_format = 'STATEMENT'`);
    await exec(conn, `INSERT INTO ${DB}.types (vc) VALUES ('stmt-auto-inc') /* MEMCACHE_DIRTY stmt:1 */`);
    keys.push(['stmt:1']);
    await exec(conn, `SET @who = 'user-var ü', @n = 42, @nothing = NULL`);
    await exec(conn, 'BEGIN');
    await exec(conn, `INSERT INTO ${DB}.kv VALUES (@who, CONCAT(@n, @nothing)) /* MEMCACHE_DIRTY stmt:2 */`);
    await exec(conn, `UPDATE ${DB}.kv SET v = RAND() WHERE k = 'k5'`);
    await exec(conn, `INSERT INTO ${DB}.nt VALUES (2, 'stmt myisam')`);
    await exec(conn, 'COMMIT');
    keys.push(['stmt:2']);
    await exec(
      conn,
      `ALTER TABLE ${DB}.kv COMMENT 'ddl /* not an annotation */' /* MEMCACHE_DIRTY ddl:kv */`,
    );
    keys.push(['ddl:kv']);
    await exec(conn, `SET SESSION binlog_format = 'ROW'`);

    // MariaDB compressed events (both formats), for this part only.
    await exec(conn, 'SET GLOBAL log_bin_compress = ON');
    try {
      await exec(
        conn,
        `INSERT INTO ${DB}.kv VALUES ('c1', REPEAT('compress me ', 100)) /* MEMCACHE_DIRTY c:1 */`,
      );
      keys.push(['c:1']);
      await exec(conn, `UPDATE ${DB}.kv SET v = REPEAT('again ', 200) WHERE k = 'c1'`);
      await exec(conn, `DELETE FROM ${DB}.kv WHERE k = 'c1'`);
      await exec(conn, `SET SESSION binlog_format = 'STATEMENT'`);
      await exec(conn, `INSERT INTO ${DB}.kv VALUES ('c2', '${'q'.repeat(600)}') /* MEMCACHE_DIRTY c:2 */`);
      keys.push(['c:2']);
      await exec(conn, `SET SESSION binlog_format = 'ROW'`);
    } finally {
      await exec(conn, 'SET GLOBAL log_bin_compress = OFF');
    }
  } finally {
    await conn.end();
  }
  await beforeBig();
  keys.push(...(await bigTransactions(cluster)));
  return keys;
}

/**
 * Events over 16 MB need max_allowed_packet above them on both servers (the session value is read
 * from the global at connect, so a new connection is opened after raising it).
 */
async function bigTransactions(cluster: ClusterControl): Promise<ExpectedKeys> {
  const conn = await cluster.connect('primary');
  try {
    // A 17 MB row built server-side: a small statement, a >16 MB Write_rows event, binary bytes in it.
    await exec(
      conn,
      `INSERT INTO ${DB}.big VALUES (1, CONCAT(REPEAT(CONCAT('0123456789abcdef', UNHEX('00FF0A')), ${Math.floor(BIG_BYTES / 19)}), 'end')) /* MEMCACHE_DIRTY big:1 */`,
    );
    // A 17 MB statement text: a >16 MB QUERY event on the primary (statement format), re-logged by the
    // row-format replica as a >16 MB Write_rows event.
    await exec(conn, `SET SESSION binlog_format = 'STATEMENT'`);
    await exec(
      conn,
      `INSERT INTO ${DB}.big VALUES (2, '${'s'.repeat(BIG_BYTES)}') /* MEMCACHE_DIRTY big:2 */`,
    );
  } finally {
    await conn.end();
  }
  return [['big:1'], ['big:2']];
}

/** Raises max_allowed_packet on both servers; returns a function that restores the old values. */
export async function raiseMaxAllowedPacket(cluster: ClusterControl): Promise<() => Promise<void>> {
  const old: Record<'primary' | 'replica', number> = { primary: 0, replica: 0 };
  for (const server of ['primary', 'replica'] as const) {
    const [row] = await cluster.query(server, 'SELECT @@GLOBAL.max_allowed_packet AS v');
    old[server] = Number(row?.v);
    await cluster.query(server, `SET GLOBAL max_allowed_packet = ${MAX_PACKET}`);
  }
  return async () => {
    for (const server of ['primary', 'replica'] as const)
      await cluster.query(server, `SET GLOBAL max_allowed_packet = ${old[server]}`);
  };
}
