/**
 * Builder-made seed events: one or more of every event type the decoder knows (and some it does not),
 * so the fuzzer reaches layouts the public fixtures lack (tagged GTIDs, HEARTBEAT_V2, USER_VAR,
 * INCIDENT, MariaDB compressed events, payloads with every inner type) and statement texts that carry
 * real annotations (no fixture has one) — the part a cache invalidator cannot get wrong.
 */
import { deflateSync } from 'node:zlib';
import { annotate, formatAnnotation } from '../../src/annotate/index.js';
import {
  BinlogFileBuilder,
  buildAnnotateRows,
  buildBinlogCheckpoint,
  buildEvent,
  buildFormatDescription,
  buildHeartbeat,
  buildHeartbeatV2,
  buildIncident,
  buildIntvar,
  buildMariadbGtid,
  buildMariadbGtidList,
  buildMysqlGtid,
  buildMysqlGtidTagged,
  buildPreviousGtids,
  buildQuery,
  buildRand,
  buildRotate,
  buildRows,
  buildRowsQuery,
  buildStop,
  buildTableMap,
  buildTransactionPayload,
  buildUserVar,
  buildXid,
  packedInt,
  type EventOptions,
} from '../../test/helpers/binlog/index.js';
import { EventFlag, EventType } from '../../src/binlog/constants.js';
import { MYSQL_8_0_POST_HEADER_LENGTHS } from '../../src/binlog/events/context.js';
import { ColumnType } from '../../src/binlog/events/table-map.js';

export interface BuiltSeed {
  name: string;
  /** Events decoded (unmutated) before the target: the FDE, and the TABLE_MAP a rows event needs. */
  prelude: Buffer[];
  event: Buffer;
}

export interface BuiltStream {
  name: string;
  bytes: Buffer;
}

const SID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const NONE: EventOptions = { checksum: 'none' };

/** MySQL 8.0's post-header table, extended by GTID_TAGGED (42) as 8.4 writes it. */
const MYSQL_8_4_LENGTHS = Uint8Array.from([...MYSQL_8_0_POST_HEADER_LENGTHS, 0]);

export const MARIADB_FDE = buildFormatDescription();
export const MARIADB_FDE_NO_CRC = buildFormatDescription({ checksum: 'none' });
export const MYSQL_FDE = buildFormatDescription({
  serverVersion: '8.4.3',
  postHeaderLengths: MYSQL_8_4_LENGTHS,
});

/** Statement texts: annotated ones (escaped keys, several annotations) and look-alikes that must not count. */
export const ANNOTATED_SQL: readonly string[] = [
  annotate("UPDATE users SET name = 'x' WHERE id = 1", ['user:1']),
  annotate('INSERT INTO t VALUES (1, 2)', ['a', 'b:2', 'e,f', 'g*/h', 'ü:ß', 'k%20', "q'uote", 'x?y=z']),
  `DELETE FROM t WHERE id = 7 ${formatAnnotation(['t:7'], { ts: 1_700_000_000_000 })}`,
  `UPDATE t SET v = '/* MEMCACHE_DIRTY fake:1 */' WHERE id = 2 /* MEMCACHE_DIRTY real:2 */`,
  `INSERT INTO t VALUES ("--", '\\'') /*!50000 MEMCACHE_DIRTY exec:3 */ -- MEMCACHE_DIRTY line:4`,
  `UPDATE t SET a = 1 /* MEMCACHE_DIRTY k:${'x'.repeat(240)},k2 */ /* MEMCACHE_DIRTY dup,dup */`,
  `UPDATE t SET a = 'unterminated /* MEMCACHE_DIRTY never:1 */`,
  `/* MEMCACHE_DIRTY v=2 future:1 extra=field */ UPDATE t SET a = 2`,
];

/** A 5.5 FDE: no checksum_alg byte and no CRC (the builder always writes both). */
function oldFormatDescription(): Buffer {
  const lengths = MYSQL_8_0_POST_HEADER_LENGTHS.subarray(0, 27);
  const body = Buffer.alloc(2 + 50 + 4 + 1 + lengths.length);
  body.writeUInt16LE(4, 0);
  body.write('5.5.27-log', 2, 'latin1');
  body[56] = 19;
  body.set(lengths, 57);
  return buildEvent(EventType.FORMAT_DESCRIPTION, body, NONE);
}

function tableMapFor(tableId: number, opts: EventOptions = {}): Buffer {
  // id INT, k VARCHAR(255), v BLOB, t DATETIME2(3), d DECIMAL(10,2), e ENUM, s SET, b BIT(10), j JSON
  const types = [3, ColumnType.VARCHAR, ColumnType.BLOB, ColumnType.DATETIME2, ColumnType.NEWDECIMAL];
  types.push(ColumnType.STRING, ColumnType.STRING, ColumnType.BIT, ColumnType.JSON, 8, 1, 2, 9);
  const meta = Buffer.from([
    ...[0xff, 0x00], // VARCHAR 255
    2, // BLOB length bytes
    3, // DATETIME2 fsp
    10,
    2, // DECIMAL precision, scale
    ColumnType.ENUM,
    1,
    ColumnType.SET,
    1,
    2,
    1, // BIT: 2 bits + 1 byte
    4, // JSON length bytes
  ]);
  const tlv = (type: number, value: Buffer): Buffer =>
    Buffer.concat([Buffer.of(type), packedInt(value.length), value]);
  const str = (s: string): Buffer => Buffer.concat([packedInt(s.length), Buffer.from(s)]);
  const optional = Buffer.concat([
    tlv(1, Buffer.from([0b01000000, 0])),
    tlv(2, Buffer.from([45, 1, 63])),
    tlv(3, Buffer.from([45, 63, 45])),
    tlv(4, Buffer.concat(['id', 'k', 'v', 't', 'd', 'e', 's', 'b', 'j', 'l', 'y', 'm', 'n'].map(str))),
    tlv(5, Buffer.concat([packedInt(2), str('a'), str('b')])),
    tlv(6, Buffer.concat([packedInt(3), str('x'), str('y'), str('z')])),
    tlv(7, Buffer.from([1])),
    tlv(8, Buffer.from([0])),
    tlv(9, Buffer.from([0, 0, 1, 10])),
    tlv(10, Buffer.from([45])),
    tlv(11, Buffer.from([45, 45])),
    tlv(12, Buffer.from([0xff, 0xf8])),
    tlv(13, Buffer.from([3])),
    tlv(99, Buffer.from('future')),
  ]);
  return buildTableMap(
    {
      tableId,
      db: 'app',
      table: 'cachetail_dirty_keys',
      columnTypes: types,
      columnMetaRaw: meta,
      optionalMetadataRaw: optional,
    },
    opts,
  );
}

/** One row image for tableMapFor's columns: NULL bitmap, then id, k, v, t, d, e, s, b, j; 4 NULLs. */
function rowImage(id: number, key: string): Buffer {
  const k = Buffer.from(key);
  const id4 = Buffer.alloc(4);
  id4.writeInt32LE(id);
  const datetime = Buffer.from([0x99, 0xb2, 0x7a, 0x9b, 0x20, 0x00, 0x10]);
  const decimal = Buffer.from([0x80, 0x00, 0x00, 0x01, 0x02]);
  const json = Buffer.concat([Buffer.from([4, 0, 0, 0]), Buffer.from([4, 1, 0, 0])]);
  return Buffer.concat([
    Buffer.from([0x00, 0x1e]),
    id4,
    Buffer.of(k.length),
    k,
    Buffer.from([3, 0]),
    Buffer.from('abc'),
    datetime,
    decimal,
    Buffer.of(1),
    Buffer.of(2),
    Buffer.from([0x01, 0xff]),
    json,
  ]);
}

function rowsFor(
  version: 1 | 2,
  kind: 'write_rows' | 'update_rows' | 'delete_rows',
  compressed = false,
): Buffer {
  const image = Buffer.concat([
    rowImage(1, 'user:1'),
    ...(kind === 'update_rows' ? [rowImage(1, 'user:2')] : []),
  ]);
  const extra = version === 2 ? Buffer.from([0, 2, 1, 0xaa]) : undefined;
  return buildRows({
    kind,
    version,
    compressed,
    tableId: 42,
    columnCount: 13,
    rows: image,
    extraData: extra,
  });
}

function mysqlGtid(gno: bigint, opts: EventOptions = {}): Buffer {
  return buildMysqlGtid(
    {
      sid: SID,
      gno,
      lastCommitted: gno - 1n,
      sequenceNumber: gno,
      immediateCommitTimestamp: 1_700_000_000_000_000n,
      originalCommitTimestamp: 1_699_999_999_000_000n,
      transactionLength: 812,
      immediateServerVersion: 80403,
      originalServerVersion: 80040,
      commitGroupTicket: 7n,
    },
    opts,
  );
}

function innerTransaction(): Buffer[] {
  return [
    buildQuery({ sql: 'BEGIN' }, NONE),
    buildRowsQuery({ sql: ANNOTATED_SQL[1] }, NONE),
    tableMapFor(42, NONE),
    buildRows({ kind: 'write_rows', version: 2, tableId: 42, columnCount: 13, rows: rowImage(5, 'k') }, NONE),
    buildXid({ xid: 77n }, NONE),
  ];
}

export function builderSeeds(): BuiltSeed[] {
  const maria = (name: string, event: Buffer, prelude: Buffer[] = [MARIADB_FDE]): BuiltSeed => ({
    name,
    prelude,
    event,
  });
  const mysql = (name: string, event: Buffer, prelude: Buffer[] = [MYSQL_FDE]): BuiltSeed => ({
    name,
    prelude,
    event,
  });
  const seeds: BuiltSeed[] = [
    maria('fde-mariadb', MARIADB_FDE, []),
    maria('fde-mariadb-nocrc', MARIADB_FDE_NO_CRC, []),
    mysql('fde-mysql', MYSQL_FDE, []),
    maria('fde-5.5', oldFormatDescription(), []),
    maria('rotate', buildRotate({ position: 4, nextFile: 'mysql-bin.000002' })),
    maria('rotate-fake', buildRotate({ nextFile: 'mysql-bin.000009' }, { flags: EventFlag.ARTIFICIAL }), []),
    maria('stop', buildStop()),
    maria('xid', buildXid({ xid: 12345n })),
    maria('begin', buildQuery({ sql: 'BEGIN' })),
    maria('commit', buildQuery({ sql: 'COMMIT', db: 'app' })),
    maria(
      'query-all-status',
      buildQuery({
        sql: ANNOTATED_SQL[0],
        db: 'app',
        statusVars: {
          flags2: 0x4000,
          sqlMode: 0x1000000n | 0x4n,
          catalog: 'std',
          autoIncrementIncrement: 2,
          autoIncrementOffset: 1,
          charset: { client: 45, collationConnection: 45, collationServer: 8 },
          timeZone: 'SYSTEM',
          lcTimeNames: 0,
          charsetDatabase: 45,
          tableMapForUpdate: 1n,
          masterDataWritten: 0,
          invoker: { user: 'root', host: 'localhost' },
          updatedDbNames: ['app', 'other'],
          microseconds: 123456,
          explicitDefaultsForTimestamp: 1,
          ddlLoggedWithXid: 9n,
          defaultCollationForUtf8mb4: 255,
          sqlRequirePrimaryKey: 0,
          defaultTableEncryption: 0,
          hrnow: 5,
          xid: 77n,
          gtidFlags3: 4,
          startAlterSeqNo: 3n,
          characterSetCollations: Buffer.from([45, 0, 46, 0]),
        },
      }),
    ),
    maria('query-compressed', buildQuery({ sql: ANNOTATED_SQL[2], db: 'app', compressed: true })),
    maria('intvar', buildIntvar({ intvarType: 2, value: 10n })),
    maria('rand', buildRand({ seed1: 1n, seed2: 2n })),
    maria(
      'user-var',
      buildUserVar({
        name: 'v',
        value: { valueType: 0, charset: 33, bytes: Buffer.from('hello'), flags: 1 },
      }),
    ),
    maria('user-var-null', buildUserVar({ name: 'nothing' })),
    maria('incident', buildIncident({ incident: 1, message: 'LOST_EVENTS' })),
    maria('heartbeat', buildHeartbeat({ file: 'mysql-bin.000001' })),
    mysql('heartbeat-v2', buildHeartbeatV2({ file: 'binlog.000003', position: 2 ** 33 })),
    maria('mariadb-gtid', buildMariadbGtid({ seqNo: 7n, domainId: 1, commitId: 99n }, { serverId: 101 })),
    maria('mariadb-gtid-standalone', buildMariadbGtid({ seqNo: 8n, standalone: true })),
    maria(
      'mariadb-gtid-xa',
      buildMariadbGtid({
        seqNo: 9n,
        flags2: 0x40,
        xid: { formatId: 1, gtrid: Buffer.from('g1'), bqual: Buffer.from('b') },
      }),
    ),
    maria(
      'gtid-list',
      buildMariadbGtidList({
        gtids: [
          { domainId: 0, serverId: 1, seqNo: 5n },
          { domainId: 2, serverId: 3, seqNo: 1n },
        ],
      }),
    ),
    maria('checkpoint', buildBinlogCheckpoint({ file: 'mysql-bin.000001' })),
    mysql('mysql-gtid', mysqlGtid(5n)),
    mysql('mysql-gtid-5.7', buildMysqlGtid({ sid: SID, gno: 3n, lastCommitted: 1n, sequenceNumber: 2n })),
    mysql('anonymous-gtid', buildMysqlGtid({ anonymous: true, gno: 0n })),
    mysql(
      'gtid-tagged',
      buildMysqlGtidTagged({
        sid: SID,
        gno: 11n,
        tag: 'blue',
        immediateCommitTimestamp: 5n,
        originalCommitTimestamp: 4n,
        commitGroupTicket: 3n,
      }),
    ),
    mysql(
      'previous-gtids',
      buildPreviousGtids({
        sids: [
          {
            uuid: SID,
            tag: undefined,
            intervals: [
              { start: 1n, end: 6n },
              { start: 7n, end: 8n },
            ],
          },
        ],
      }),
    ),
    mysql(
      'previous-gtids-tagged',
      buildPreviousGtids({ sids: [{ uuid: SID, tag: 'red', intervals: [{ start: 1n, end: 3n }] }] }),
    ),
    mysql('rows-query', buildRowsQuery({ sql: ANNOTATED_SQL[3] })),
    mysql('payload-zstd', buildTransactionPayload({ events: innerTransaction() })),
    mysql('payload-none', buildTransactionPayload({ events: innerTransaction(), compression: 'none' })),
    maria('table-map', tableMapFor(42)),
    mysql('table-map-mysql', tableMapFor(42)),
    mysql(
      'partial-update-rows',
      buildEvent(EventType.PARTIAL_UPDATE_ROWS, Buffer.from([42, 0, 0, 0, 0, 0, 1, 0, 2, 0, 13, 0xff, 0xff])),
    ),
    maria('unknown-100', buildEvent(100, Buffer.from('aurora padding'), { flags: EventFlag.IGNORABLE })),
    maria('start-encryption', buildEvent(EventType.MARIA_START_ENCRYPTION, Buffer.alloc(17, 1))),
  ];
  for (const sql of ANNOTATED_SQL)
    seeds.push(maria(`annotate-rows-${seeds.length}`, buildAnnotateRows({ sql })));
  for (const kind of ['write_rows', 'update_rows', 'delete_rows'] as const) {
    seeds.push(maria(`${kind}-v1`, rowsFor(1, kind), [MARIADB_FDE, tableMapFor(42)]));
    seeds.push(maria(`${kind}-v1-compressed`, rowsFor(1, kind, true), [MARIADB_FDE, tableMapFor(42)]));
    seeds.push(maria(`${kind}-v2-compressed`, rowsFor(2, kind, true), [MARIADB_FDE, tableMapFor(42)]));
    seeds.push(mysql(`${kind}-v2`, rowsFor(2, kind), [MYSQL_FDE, tableMapFor(42)]));
  }
  return seeds;
}

/** Whole small binlogs with annotated transactions, for the stream (multi-event) cases. */
export function builderStreams(): BuiltStream[] {
  const mariadb = new BinlogFileBuilder({ serverId: 101 });
  mariadb.add((o) => buildMariadbGtidList({ gtids: [{ domainId: 0, serverId: 101, seqNo: 1n }] }, o));
  for (let i = 0; i < 6; i++) {
    const sql = ANNOTATED_SQL[i % ANNOTATED_SQL.length];
    mariadb.add((o) => buildMariadbGtid({ seqNo: BigInt(i + 2) }, o));
    mariadb.add((o) => buildQuery({ sql: 'BEGIN' }, o));
    mariadb.add((o) => buildAnnotateRows({ sql }, o));
    mariadb.add((o) => tableMapFor(42, o));
    mariadb.add(() => rowsFor(1, i % 2 === 0 ? 'write_rows' : 'update_rows', i === 3));
    mariadb.add((o) => buildXid({ xid: BigInt(i) }, o));
  }
  mariadb.add((o) => buildMariadbGtid({ seqNo: 20n, standalone: true }, o));
  mariadb.add((o) => buildQuery({ sql: ANNOTATED_SQL[0], compressed: true }, o));
  mariadb.add((o) => buildRotate({ nextFile: 'mysql-bin.000002' }, o));

  const mysql = new BinlogFileBuilder({ formatDescription: false });
  mysql.add((o) =>
    buildFormatDescription({ serverVersion: '8.4.3', postHeaderLengths: MYSQL_8_4_LENGTHS }, o),
  );
  mysql.add((o) => buildPreviousGtids({ sids: [] }, o));
  for (let i = 1; i < 5; i++) {
    mysql.add((o) => mysqlGtid(BigInt(i), o));
    if (i % 2 === 0) {
      mysql.add((o) => buildTransactionPayload({ events: innerTransaction() }, o));
      continue;
    }
    mysql.add((o) => buildQuery({ sql: 'BEGIN' }, o));
    mysql.add((o) => buildRowsQuery({ sql: ANNOTATED_SQL[(i + 3) % ANNOTATED_SQL.length] }, o));
    mysql.add((o) => tableMapFor(42, o));
    mysql.add(() => rowsFor(2, 'delete_rows'));
    mysql.add((o) => buildXid({ xid: BigInt(i) }, o));
  }
  mysql.add((o) => buildStop(o));
  return [
    { name: 'builder:mariadb-annotated', bytes: mariadb.toBuffer() },
    { name: 'builder:mysql-annotated', bytes: mysql.toBuffer() },
  ];
}

/** deflate for rebuilding MariaDB compressed events around mutated content. */
export const deflate = (b: Buffer): Buffer => deflateSync(b);
