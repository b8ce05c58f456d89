/**
 * A workload for the binlog differential test, run on the devcluster primary of any server line: DDL,
 * every column type the row decoder reads (signed/unsigned integers, DECIMAL, FLOAT/DOUBLE,
 * VARCHAR/CHAR/TEXT/BLOB with utf8mb4, latin1, utf16, ucs2, gbk and binary bytes, DATETIME/TIMESTAMP/TIME
 * with fractions, DATE, YEAR, ENUM/SET, BIT, JSON), multi-statement transactions, rollbacks, statement
 * and row format, annotated statements, multi-event statements, and two events over 16 MB (a LONGBLOB
 * row; a statement-format INSERT whose text is 17 MB).
 *
 * Per flavor, what only that server has:
 *  - MariaDB: compressed events (log_bin_compress), INET6/INET4/UUID, compressed columns, GEOMETRY (which
 *    mariadb-binlog prints), VECTOR on 11.7+; a rollback that keeps a MyISAM change made next to an
 *    InnoDB one.
 *  - MySQL: real JSON documents (doubles, big integers, decimals, dates, nested containers), partial JSON
 *    updates (PARTIAL_UPDATE_ROWS), VECTOR, GEOMETRY (in a table of its own: mysqlbinlog cannot print
 *    it, the test checks it against the server), tagged GTIDs, compressed transactions
 *    (binlog_transaction_compression=ON in a session).
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

/** The flavor and server version the workload adapts to. */
export interface WorkloadServer {
  flavor: 'mariadb' | 'mysql';
  version: string;
}

/** MariaDB types beyond the common table (INET4 10.10+, UUID 10.7+: both MariaDB lines have them). */
function mariadbTypesTable(vector: boolean): string {
  return `CREATE TABLE ${DB}.mtypes (
  id INT PRIMARY KEY,
  i6 INET6, i4 INET4, uu UUID,
  vz VARCHAR(200) COMPRESSED CHARACTER SET utf8mb4, bz BLOB COMPRESSED,
  g GEOMETRY, pt POINT,
  u16 VARCHAR(20) CHARACTER SET utf16, uc CHAR(4) CHARACTER SET ucs2, gb VARCHAR(10) CHARACTER SET gbk,
  st2 SET('a','b','c','d','e','f','g','h','i','j')${vector ? ",\n  vec VECTOR(3) NOT NULL DEFAULT VEC_FromText('[0,0,0]')" : ''}
) ENGINE=InnoDB`;
}

function mariadbTypeRows(vector: boolean): string[] {
  const v = (text: string): string => (vector ? `, VEC_FromText('${text}')` : '');
  return [
    `1, '2001:db8::ff00:42:8329', '192.168.0.1', '123e4567-e89b-12d3-a456-426655440000',
     REPEAT('compress me ', 15), REPEAT(X'00FF0A5C', 100),
     ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))'), POINT(1.5, -2),
     'ü€𝄞', 'ab', '中文', 'a,j'${v('[1.5,-2,3.25]')}`,
    `2, '::', '0.0.0.0', '00000000-0000-0000-0000-000000000000',
     'short', X'', ST_GeomFromText('LINESTRING(0 0,1 1,2 0)'), POINT(0, 0),
     '', '', '', ''${v('[0,0,0]')}`,
    `3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL${vector ? ", VEC_FromText('[-1e-30,1e30,0.1]')" : ''}`,
  ];
}

/** MySQL types beyond the common table; GEOMETRY is in `geo` (see MYSQL_GEO_TABLE). */
const MYSQL_TYPES_TABLE = `CREATE TABLE ${DB}.mtypes (
  id INT PRIMARY KEY,
  js JSON, j2 JSON,
  vec VECTOR(3),
  u16 VARCHAR(20) CHARACTER SET utf16, uc CHAR(4) CHARACTER SET ucs2, gb VARCHAR(10) CHARACTER SET gbk,
  st2 SET('a','b','c','d','e','f','g','h','i','j'), tt TINYTEXT, mt MEDIUMTEXT, lt LONGTEXT,
  d65 DECIMAL(65,30), t6 TIME(6), dt0 DATETIME, ts6 TIMESTAMP(6) NULL
) ENGINE=InnoDB`;

const MYSQL_TYPE_ROWS = [
  `1, '{"a":[1,2,{"b":null}],"c":"ü","long key here":true,"k":false,"dbl":1.5,"tiny":1e-300,"huge":1e300,
      "neg":-0.1,"big":18446744073709551615,"min":-9223372036854775808,"esc":"q\\\\"b\\\\\\\\n\\\\n\\\\t\\\\u0001é",
      "empty":{},"arr":[],"nest":[[[]],{"x":{"y":[1,"2",3.25]}}]}',
   JSON_OBJECT('d', CAST('2024-02-29' AS DATE), 'dt', CAST('2024-02-29 12:34:56.789012' AS DATETIME(6)),
      't', CAST('-12:34:56.5' AS TIME(1)), 'dec', CAST(-1.50 AS DECIMAL(5,2)), 'dbl', CAST(2 AS DOUBLE),
      'ints', JSON_ARRAY(0, -1, 32767, 32768, -32769, 2147483647, 2147483648, -2147483649)),
   STRING_TO_VECTOR('[1.5,-2,3.25]'), 'ü€𝄞', 'ab', '中文', 'a,j', 'tiny', REPEAT('m', 70000),
   REPEAT('l', 300), '-12345678901234567890123456789012345.123456789012345678901234567890',
   '-838:59:59.000001', '9999-12-31 23:59:59', '2038-01-19 03:14:07.999999'`,
  `2, '"just a string"', '12345678901234567890', STRING_TO_VECTOR('[0,-0,1e-30]'), '', '', '', '', '', '', '',
   '0.000000000000000000000000000001', '00:00:00', '1000-01-01 00:00:00', '1970-01-01 00:00:01'`,
  `3, 'null', '[1, 2.5, "three", null, true]', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL`,
];

/**
 * mysqlbinlog cannot print GEOMETRY (it stops the rows event's output at the first one, NULL or not),
 * so these columns live in a table of their own, after everything it can print; the test checks our
 * decoded bytes against the server's own (SRID + WKB, what HEX() of the column shows).
 */
const MYSQL_GEO_TABLE = `CREATE TABLE ${DB}.geo (
  id INT PRIMARY KEY, label VARCHAR(20), g GEOMETRY, pt POINT, ls LINESTRING, pg POLYGON SRID 4326
) ENGINE=InnoDB`;

export const MYSQL_GEO_ROWS = [
  `1, 'shapes', ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1))'), POINT(1.5, -2),
   ST_GeomFromText('LINESTRING(0 0,10 10,20 25)'),
   ST_GeomFromText('POLYGON((0 0,0 10,10 10,10 0,0 0))', 4326)`,
  `2, 'nulls', NULL, NULL, NULL, NULL`,
];

/** MariaDB 11.7 added VECTOR. */
function mariadbHasVector(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 11 || (major === 11 && minor >= 7);
}

/**
 * Runs the workload; returns the keys of the annotated transactions in commit order. `beforeBig` runs
 * before the >16 MB transactions (the test rotates the binlogs there, so a dump crosses files).
 */
export async function runWorkload(
  cluster: ClusterControl,
  server: WorkloadServer,
  beforeBig: () => Promise<void> = async () => {},
): Promise<ExpectedKeys> {
  const mysql = server.flavor === 'mysql';
  const keys: ExpectedKeys = [];
  const conn = await cluster.connect('primary');
  try {
    await exec(conn, `SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'`); // '0000-00-00', YEAR 0
    await exec(conn, `SET SESSION time_zone = '+00:00'`); // TIMESTAMP literals mean UTC
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

    // The flavor's own types.
    if (mysql) keys.push(...(await mysqlTypes(conn)));
    else keys.push(...(await mariadbTypes(conn, mariadbHasVector(server.version))));

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
    // MySQL's multi-threaded applier (replica_parallel_workers=4, replica_preserve_commit_order=ON)
    // binlogged this non-transactional group ahead of the InnoDB transaction before it in one run: its
    // order in the replica's binlog is the applier's timing, not the primary's. The test compares the
    // replica's order with the primary's, so the replica applies what comes before first, and the
    // group itself, before anything after it (see the report on MySQL's replica order).
    if (mysql) await cluster.waitForReplicaCatchUp();
    await exec(conn, 'BEGIN');
    // MySQL with enforce_gtid_consistency=ON (the devcluster's production setting) refuses a MyISAM
    // change in a transaction that also changes InnoDB; a transaction of that one statement is allowed.
    if (!mysql) await exec(conn, `INSERT INTO ${DB}.kv VALUES ('gone2', 'x')`);
    await exec(conn, `INSERT INTO ${DB}.nt VALUES (1, 'stays') /* MEMCACHE_DIRTY nt:1 */`);
    await exec(conn, 'ROLLBACK');
    keys.push(['nt:1']);
    if (mysql) await cluster.waitForReplicaCatchUp();
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
    // MySQL: no MyISAM change inside an InnoDB transaction (enforce_gtid_consistency, see above).
    if (!mysql) await exec(conn, `INSERT INTO ${DB}.nt VALUES (2, 'stmt myisam')`);
    await exec(conn, 'COMMIT');
    keys.push(['stmt:2']);
    if (mysql) await exec(conn, `INSERT INTO ${DB}.nt VALUES (2, 'stmt myisam')`);
    await exec(
      conn,
      `ALTER TABLE ${DB}.kv COMMENT 'ddl /* not an annotation */' /* MEMCACHE_DIRTY ddl:kv */`,
    );
    keys.push(['ddl:kv']);
    await exec(conn, `SET SESSION binlog_format = 'ROW'`);

    if (mysql) keys.push(...(await mysqlCompressedAndTagged(conn)));
    else keys.push(...(await mariadbCompressedEvents(conn)));
  } finally {
    await conn.end();
  }
  await beforeBig();
  keys.push(...(await bigTransactions(cluster)));
  return keys;
}

async function mariadbTypes(conn: Connection, vector: boolean): Promise<ExpectedKeys> {
  await exec(conn, mariadbTypesTable(vector));
  const rows = mariadbTypeRows(vector);
  await exec(
    conn,
    `INSERT INTO ${DB}.mtypes VALUES ${rows.map((r) => `(${r})`).join(',')} /* MEMCACHE_DIRTY mtypes:all */`,
  );
  await exec(conn, `UPDATE ${DB}.mtypes SET vz = CONCAT(vz, '!'), i4 = '10.0.0.1' WHERE id < 3`);
  await exec(conn, `DELETE FROM ${DB}.mtypes WHERE id = 2`);
  return [['mtypes:all']];
}

async function mysqlTypes(conn: Connection): Promise<ExpectedKeys> {
  await exec(conn, MYSQL_TYPES_TABLE);
  await exec(conn, MYSQL_GEO_TABLE);
  await exec(
    conn,
    `INSERT INTO ${DB}.mtypes VALUES ${MYSQL_TYPE_ROWS.map((r) => `(${r})`).join(',')} /* MEMCACHE_DIRTY mtypes:all */`,
  );
  for (const row of MYSQL_GEO_ROWS) await exec(conn, `INSERT INTO ${DB}.geo VALUES (${row})`);
  // Full-image JSON updates, then partial ones (PARTIAL_UPDATE_ROWS: the after image holds diffs).
  await exec(
    conn,
    `UPDATE ${DB}.mtypes SET js = JSON_SET(js, '$.a[0]', 10), vec = STRING_TO_VECTOR('[9,8,7]') WHERE id = 1`,
  );
  await exec(conn, `SET SESSION binlog_row_value_options = 'PARTIAL_JSON'`);
  try {
    await exec(
      conn,
      // Only JSON_SET/JSON_REPLACE/JSON_REMOVE are logged as diffs; a JSON_SET that adds a member is
      // an INSERT diff (printed JSON_INSERT, or JSON_ARRAY_INSERT for an array element).
      `UPDATE ${DB}.mtypes SET js = JSON_SET(js, '$.dbl', 2.5, '$.c', 'changed', '$.new', JSON_OBJECT('n', 1),
           '$.arr[0]', 'x', '$.nest[1].x', JSON_ARRAY(1, 2)),
         js = JSON_REMOVE(js, '$.k', '$.tiny'), js = JSON_REPLACE(js, '$.big', 7),
         j2 = JSON_SET(j2, '$.d', CAST('2000-01-01' AS DATE))
       WHERE id = 1 /* MEMCACHE_DIRTY mtypes:partial */`,
    );
    await exec(conn, `UPDATE ${DB}.mtypes SET j2 = JSON_SET(j2, '$[1]', 3.75, '$[2]', 'it''s') WHERE id = 3`);
  } finally {
    await exec(conn, `SET SESSION binlog_row_value_options = ''`);
  }
  await exec(conn, `DELETE FROM ${DB}.mtypes WHERE id = 2`);
  return [['mtypes:all'], ['mtypes:partial']];
}

/** MariaDB compressed events (both formats), for this part only. */
async function mariadbCompressedEvents(conn: Connection): Promise<ExpectedKeys> {
  const keys: ExpectedKeys = [];
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
  return keys;
}

/** The tag of the workload's tagged GTIDs (MySQL 8.3+; root holds TRANSACTION_GTID_TAG). */
export const GTID_TAG = 'bdiff_tag';

/**
 * MySQL compressed transactions (binlog_transaction_compression=ON in this session: each transaction is
 * one TRANSACTION_PAYLOAD, its statements' Rows_query events inside), then transactions with a tagged
 * GTID (gtid_next = AUTOMATIC:<tag>), one of them compressed too.
 */
async function mysqlCompressedAndTagged(conn: Connection): Promise<ExpectedKeys> {
  const keys: ExpectedKeys = [];
  await exec(conn, 'SET SESSION binlog_transaction_compression = ON');
  try {
    await exec(conn, 'BEGIN');
    await exec(
      conn,
      `INSERT INTO ${DB}.kv VALUES ('c1', REPEAT('compress me ', 100)) /* MEMCACHE_DIRTY c:1 */`,
    );
    await exec(
      conn,
      `UPDATE ${DB}.kv SET v = REPEAT('again ', 200)
         WHERE k = 'c1' /* MEMCACHE_DIRTY
         c:1b */`,
    );
    await exec(conn, `DELETE FROM ${DB}.kv WHERE k LIKE 'k2%'`);
    await exec(conn, 'COMMIT');
    keys.push(['c:1', 'c:1b']);
    await exec(
      conn,
      `INSERT INTO ${DB}.types (${COLUMNS}) VALUES (${TYPE_ROWS[0]}) /* MEMCACHE_DIRTY c:types */`,
    );
    keys.push(['c:types']);
    await exec(conn, `SET gtid_next = 'AUTOMATIC:${GTID_TAG}'`);
    await exec(conn, `UPDATE ${DB}.kv SET v = 'tagged+compressed' WHERE k = 'c1' /* MEMCACHE_DIRTY tag:1 */`);
    keys.push(['tag:1']);
  } finally {
    await exec(conn, 'SET SESSION binlog_transaction_compression = OFF');
  }
  try {
    await exec(conn, `INSERT INTO ${DB}.kv VALUES ('t2', 'tagged') /* MEMCACHE_DIRTY tag:2 */`);
    keys.push(['tag:2']);
    await exec(conn, `CREATE TABLE ${DB}.tagged_ddl (id INT PRIMARY KEY) /* MEMCACHE_DIRTY tag:ddl */`);
    keys.push(['tag:ddl']);
  } finally {
    await exec(conn, `SET gtid_next = 'AUTOMATIC'`);
  }
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
