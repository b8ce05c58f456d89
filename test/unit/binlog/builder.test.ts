import { describe, expect, it } from 'vitest';
import {
  BinlogFileBuilder,
  buildEvent,
  buildAnnotateRows,
  buildBinlogCheckpoint,
  buildFormatDescription,
  buildHeartbeat,
  buildMariadbGtid,
  buildMariadbGtidList,
  buildMysqlGtid,
  buildQuery,
  buildRotate,
  buildRows,
  buildRowsQuery,
  buildStop,
  buildTableMap,
  buildXid,
} from '../../helpers/binlog/index.js';
import { BinlogDecoder, EventFlag, readBinlogFile, type BinlogEvent } from '../../../src/binlog/index.js';

/** A decoder that has seen a MariaDB 10.11 FDE with the given checksum setting. */
function decoderAfterFde(checksum: 'crc32' | 'none' = 'crc32'): BinlogDecoder {
  const d = new BinlogDecoder({ file: 'm1-bin.000001' });
  d.decode(buildFormatDescription({ checksum }), 4);
  return d;
}

function roundTrip(bytes: Buffer, checksum: 'crc32' | 'none' = 'crc32'): BinlogEvent {
  return decoderAfterFde(checksum).decode(bytes, 256);
}

describe('builder → decoder round trips', () => {
  it('FORMAT_DESCRIPTION (MariaDB 10.11 post-header lengths, CRC32, IN_USE flag)', () => {
    const d = new BinlogDecoder();
    const e = d.decode(
      buildFormatDescription(
        { serverVersion: '10.11.19-MariaDB-log', createTimestamp: 1_700_000_000 },
        { flags: EventFlag.BINLOG_IN_USE, timestamp: 1_700_000_000, serverId: 101, nextPosition: 256 },
      ),
      4,
    );
    expect(e.kind).toBe('format_description');
    if (e.kind !== 'format_description') return;
    expect(e.header).toEqual({
      timestamp: 1_700_000_000,
      typeCode: 15,
      serverId: 101,
      eventSize: 252,
      nextPosition: 256,
      flags: 1,
    });
    expect(e.binlogVersion).toBe(4);
    expect(e.serverVersion).toBe('10.11.19-MariaDB-log');
    expect(e.createTimestamp).toBe(1_700_000_000);
    expect(e.headerLength).toBe(19);
    expect(e.postHeaderLengths.length).toBe(171);
    expect(e.postHeaderLengths[162 - 1]).toBe(19);
    expect(e.checksum).toBe('crc32');
    expect(e.mariadb).toBe(true);
    expect(d.checksum).toBe('crc32');
  });

  it('FORMAT_DESCRIPTION with checksum NONE switches the decoder to no CRC', () => {
    const d = new BinlogDecoder();
    const e = d.decode(buildFormatDescription({ checksum: 'none' }));
    expect(e.kind === 'format_description' && e.checksum).toBe('none');
    expect(d.checksum).toBe('none');
    const x = d.decode(buildXid({ xid: 7n }, { checksum: 'none' }));
    expect(x.kind === 'xid' && x.xid).toBe(7n);
  });

  it('ROTATE (real and fake)', () => {
    const real = roundTrip(buildRotate({ position: 4, nextFile: 'm1-bin.000002' }, { nextPosition: 9170 }));
    expect(real).toMatchObject({ kind: 'rotate', position: 4, nextFile: 'm1-bin.000002', artificial: false });
    const fake = new BinlogDecoder({ checksumBeforeFde: 'none' }).decode(
      buildRotate(
        { position: 4, nextFile: 'm1-bin.000009' },
        { checksum: 'none', flags: EventFlag.ARTIFICIAL },
      ),
    );
    expect(fake).toMatchObject({ kind: 'rotate', position: 4, nextFile: 'm1-bin.000009', artificial: true });
  });

  it('QUERY with status vars, db and comments kept', () => {
    const sql = "/* MEMCACHE_DIRTY user%3A1,user%3A2 */ UPDATE t SET v = 'x' WHERE id = 1";
    const e = roundTrip(
      buildQuery(
        {
          threadId: 42,
          execTime: 3,
          errorCode: 0,
          db: 'app',
          sql,
          statusVars: {
            flags2: 0x4000,
            sqlMode: 1411383296n,
            catalog: 'std',
            autoIncrementIncrement: 2,
            autoIncrementOffset: 1,
            charset: { client: 33, collationConnection: 33, collationServer: 8 },
            timeZone: 'UTC',
            lcTimeNames: 0,
            charsetDatabase: 45,
            invoker: { user: 'root', host: 'localhost' },
            updatedDbNames: ['app', 'other'],
            microseconds: 123456,
            explicitDefaultsForTimestamp: 1,
            ddlLoggedWithXid: 99n,
            defaultCollationForUtf8mb4: 255,
            sqlRequirePrimaryKey: 0,
            defaultTableEncryption: 0,
            hrnow: 654321,
            xid: 37n,
            gtidFlags3: 4,
            startAlterSeqNo: 12n,
          },
        },
        { serverId: 101, timestamp: 1_795_241_926 },
      ),
    );
    expect(e).toEqual({
      kind: 'query',
      header: expect.objectContaining({ typeCode: 2, serverId: 101, timestamp: 1_795_241_926 }) as unknown,
      threadId: 42,
      execTime: 3,
      errorCode: 0,
      db: 'app',
      sql,
      compressed: false,
      statusVars: {
        flags2: 0x4000,
        sqlMode: 1411383296n,
        catalog: 'std',
        autoIncrementIncrement: 2,
        autoIncrementOffset: 1,
        charset: { client: 33, collationConnection: 33, collationServer: 8 },
        timeZone: 'UTC',
        lcTimeNames: 0,
        charsetDatabase: 45,
        invoker: { user: 'root', host: 'localhost' },
        updatedDbNames: ['app', 'other'],
        microseconds: 123456,
        explicitDefaultsForTimestamp: 1,
        ddlLoggedWithXid: 99n,
        defaultCollationForUtf8mb4: 255,
        sqlRequirePrimaryKey: 0,
        defaultTableEncryption: 0,
        hrnow: 654321,
        xid: 37n,
        gtidFlags3: 4,
        startAlterSeqNo: 12n,
      },
    });
  });

  it('QUERY status vars: an unknown key stops the block, the SQL text is still found', () => {
    // flags2, then key 99 (unknown, undefined length), then bytes that must not be read as vars.
    const status = Buffer.from([0, 1, 0, 0, 0, 99, 1, 2, 3, 4]);
    const e = roundTrip(buildQuery({ sql: 'BEGIN', db: 'x', statusVars: status }));
    expect(e).toMatchObject({
      kind: 'query',
      sql: 'BEGIN',
      db: 'x',
      statusVars: { flags2: 1, unknownKey: 99 },
    });
  });

  it('QUERY status vars in a non-ascending order (0, 1, 6, 4) and too many db names', () => {
    const e = roundTrip(
      buildQuery({
        sql: 'COMMIT',
        statusVars: { flags2: 0, sqlMode: 0n, catalog: 'std', updatedDbNames: null },
      }),
    );
    expect(e).toMatchObject({ statusVars: { flags2: 0, sqlMode: 0n, catalog: 'std', updatedDbNames: null } });
  });

  it('MariaDB QUERY_COMPRESSED', () => {
    const sql = `INSERT INTO t VALUES ${'(1),'.repeat(200)}(2)`;
    const e = roundTrip(buildQuery({ sql, db: 'fx', compressed: true }));
    expect(e).toMatchObject({ kind: 'query', sql, db: 'fx', compressed: true });
    expect(e.header.typeCode).toBe(165);
  });

  it('XID', () => {
    expect(roundTrip(buildXid({ xid: 8359244358505296900n }))).toMatchObject({
      kind: 'xid',
      xid: 8359244358505296900n,
    });
  });

  it('MariaDB GTID: transactional, standalone, group commit id, XA', () => {
    const t = roundTrip(buildMariadbGtid({ seqNo: 5n, domainId: 0 }, { serverId: 101 }));
    expect(t).toMatchObject({
      kind: 'mariadb_gtid',
      gtid: '0-101-5',
      domainId: 0,
      serverId: 101,
      seqNo: 5n,
      flags2: 0x0c,
      standalone: false,
      commitId: undefined,
      xid: undefined,
      flagsExtra: 0,
    });
    expect(t.header.eventSize).toBe(42);
    const s = roundTrip(
      buildMariadbGtid({ seqNo: 2n ** 63n, domainId: 7, standalone: true }, { serverId: 3 }),
    );
    expect(s).toMatchObject({ gtid: `7-3-${2n ** 63n}`, standalone: true, flags2: 1 });
    const c = roundTrip(buildMariadbGtid({ seqNo: 9n, domainId: 1, commitId: 1234n }, { serverId: 2 }));
    expect(c).toMatchObject({ gtid: '1-2-9', commitId: 1234n, flags2: 0x0e });
    const xa = roundTrip(
      buildMariadbGtid(
        { seqNo: 10n, flags2: 0x40, xid: { formatId: 1, gtrid: Buffer.from('g1'), bqual: Buffer.from('b') } },
        { serverId: 2 },
      ),
    );
    expect(xa).toMatchObject({
      flags2: 0x40,
      xid: { formatId: 1, gtrid: Buffer.from('g1'), bqual: Buffer.from('b') },
    });
  });

  it('MariaDB GTID_LIST and BINLOG_CHECKPOINT', () => {
    const gtids = [
      { domainId: 0, serverId: 101, seqNo: 4n },
      { domainId: 1, serverId: 102, seqNo: 77n },
    ];
    expect(roundTrip(buildMariadbGtidList({ gtids, flags: 1 }))).toMatchObject({
      kind: 'mariadb_gtid_list',
      flags: 1,
      gtids,
    });
    expect(roundTrip(buildBinlogCheckpoint({ file: 'm1-bin.000001' }))).toMatchObject({
      kind: 'binlog_checkpoint',
      file: 'm1-bin.000001',
    });
  });

  it('ANNOTATE_ROWS and ROWS_QUERY (length byte ignored for a 300-byte statement)', () => {
    const sql = `/* MEMCACHE_DIRTY k1 */ INSERT INTO t VALUES ('${'x'.repeat(300)}')`;
    expect(roundTrip(buildAnnotateRows({ sql }))).toMatchObject({ kind: 'annotate_rows', sql });
    expect(roundTrip(buildRowsQuery({ sql }))).toMatchObject({ kind: 'rows_query', sql });
  });

  it('TABLE_MAP with metadata and null bitmap; cached by table id', () => {
    const d = decoderAfterFde();
    // INT, VARCHAR(100), LONGBLOB, DATETIME2(6), TIMESTAMP2(3), DECIMAL(12,4), BLOB
    const meta = Buffer.from([0x64, 0x00, 0x04, 0x06, 0x03, 0x0c, 0x04, 0x02]);
    const e = d.decode(
      buildTableMap({
        tableId: 18,
        db: 'fx',
        table: 't',
        columnTypes: [3, 15, 252, 18, 17, 246, 252],
        columnMetaRaw: meta,
        nullBitmap: Buffer.from([0x7e]),
      }),
    );
    expect(e).toMatchObject({
      kind: 'table_map',
      tableId: 18,
      flags: 1,
      db: 'fx',
      table: 't',
      columnCount: 7,
      columnTypes: Buffer.from([3, 15, 252, 18, 17, 246, 252]),
      columnMetaRaw: meta,
      columnMeta: [0, 100, 4, 6, 3, 3076, 2],
      nullBitmap: Buffer.from([0x7e]),
      optionalMetadataRaw: Buffer.alloc(0),
    });
    expect(d.tableMap(18)).toBe(e);
  });

  it('rows events v1, v2 and MariaDB compressed', () => {
    const rows = Buffer.from('fe01000000036f6e65', 'hex');
    for (const kind of ['write_rows', 'update_rows', 'delete_rows'] as const) {
      for (const version of [1, 2] as const) {
        for (const compressed of [false, true]) {
          const e = roundTrip(
            buildRows({ kind, version, compressed, tableId: 2 ** 40, columnCount: 2, rows }),
          );
          expect(e).toMatchObject({
            kind,
            version,
            compressed,
            tableId: 2 ** 40,
            flags: 1,
            stmtEnd: true,
            columnCount: 2,
            columnsPresent: Buffer.from([0xff]),
            ...(kind === 'update_rows' ? { columnsPresentAfter: Buffer.from([0xff]) } : {}),
            rows,
          });
          expect('columnsPresentAfter' in e).toBe(kind === 'update_rows');
        }
      }
    }
    const v2 = roundTrip(
      buildRows({
        kind: 'write_rows',
        version: 2,
        tableId: 1,
        flags: 0,
        extraData: Buffer.from([1, 2, 0, 3]),
        columnCount: 9,
        rows,
      }),
    );
    expect(v2).toMatchObject({
      stmtEnd: false,
      extraData: Buffer.from([1, 2, 0, 3]),
      columnsPresent: Buffer.from([0xff, 0xff]),
    });
  });

  it('HEARTBEAT, STOP, MySQL GTID and ANONYMOUS_GTID', () => {
    expect(roundTrip(buildHeartbeat({ file: 'm1-bin.000003' }, { nextPosition: 1234 }))).toMatchObject({
      kind: 'heartbeat',
      file: 'm1-bin.000003',
      header: { nextPosition: 1234, typeCode: 27 },
    });
    expect(roundTrip(buildStop())).toMatchObject({ kind: 'stop' });
    const sid = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
    expect(roundTrip(buildMysqlGtid({ sid, gno: 23n, lastCommitted: 5n, sequenceNumber: 6n }))).toMatchObject(
      {
        kind: 'mysql_gtid',
        anonymous: false,
        sid,
        gno: 23n,
        gtid: `${sid}:23`,
        lastCommitted: 5n,
        sequenceNumber: 6n,
      },
    );
    expect(roundTrip(buildMysqlGtid({ anonymous: true, gno: 0n }))).toMatchObject({
      kind: 'mysql_gtid',
      anonymous: true,
      gtid: 'ANONYMOUS',
    });
  });

  it('unknown types decode as unknown with their body', () => {
    const d = decoderAfterFde();
    const e = d.decode(buildEvent(100, Buffer.from('padding'), { flags: EventFlag.IGNORABLE }));
    expect(e).toMatchObject({ kind: 'unknown', typeCode: 100, body: Buffer.from('padding') });
  });

  it('BinlogFileBuilder writes a file readBinlogFile reads back with positions', () => {
    const f = new BinlogFileBuilder({ serverId: 101, timestamp: 1_795_241_926 })
      .add((o) => buildMariadbGtidList({ gtids: [] }, o))
      .add((o) => buildMariadbGtid({ seqNo: 5n }, o))
      .add((o) => buildAnnotateRows({ sql: '/* MEMCACHE_DIRTY a */ INSERT INTO t VALUES (1)' }, o))
      .add((o) => buildTableMap({ tableId: 18, db: 'fx', table: 't', columnTypes: [3] }, o))
      .add((o) =>
        buildRows({ kind: 'write_rows', tableId: 18, columnCount: 1, rows: Buffer.from([0, 1, 0, 0, 0]) }, o),
      )
      .add((o) => buildXid({ xid: 22n }, o))
      .add((o) => buildRotate({ nextFile: 'm1-bin.000002' }, o));
    const got = [...readBinlogFile(f.toBuffer(), { file: 'm1-bin.000001' })];
    expect(got.map((g) => [g.position, g.event.kind, g.event.header.nextPosition])).toEqual(
      f.events.map((e, i) => [
        e.position,
        [
          'format_description',
          'mariadb_gtid_list',
          'mariadb_gtid',
          'annotate_rows',
          'table_map',
          'write_rows',
          'xid',
          'rotate',
        ][i],
        e.position + e.bytes.length,
      ]),
    );
    expect(got[0].position).toBe(4);
    expect(f.nextPosition).toBe(f.toBuffer().length);
  });

  it('events over 16 MB (reassembled by the connection) decode like any other', () => {
    const sql = `/* MEMCACHE_DIRTY big */ INSERT INTO t VALUES ('${'y'.repeat(17 * 1024 * 1024)}')`;
    const f = new BinlogFileBuilder()
      .add((o) => buildAnnotateRows({ sql }, o))
      .add((o) => buildXid({ xid: 1n }, o));
    const events = [...readBinlogFile(f.toBuffer())];
    expect(events.map((e) => e.event.kind)).toEqual(['format_description', 'annotate_rows', 'xid']);
    const a = events[1]?.event;
    expect(a?.kind === 'annotate_rows' && a.sql.length).toBe(sql.length);
    expect(a?.header.eventSize).toBe(19 + sql.length + 4);
  });
});
