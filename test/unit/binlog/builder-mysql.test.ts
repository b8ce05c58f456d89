import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  BinlogFileBuilder,
  buildFormatDescription,
  buildHeartbeatV2,
  buildIncident,
  buildIntvar,
  buildMysqlGtid,
  buildMysqlGtidTagged,
  buildPreviousGtids,
  buildQuery,
  buildRand,
  buildRowsQuery,
  buildTableMap,
  buildTransactionPayload,
  buildUserVar,
  buildXid,
  buildRows,
  zstdStoredFrame,
} from '../../helpers/binlog/index.js';
import {
  encodeVarlenInt,
  encodeVarlenUint,
  readVarlenInt,
  readVarlenUint,
} from '../../../src/binlog/events/mysql-serialization.js';
import { Cursor } from '../../../src/binlog/cursor.js';
import { MYSQL_8_0_POST_HEADER_LENGTHS } from '../../../src/binlog/events/context.js';
import { BinlogDecoder, readBinlogFile, type BinlogEvent } from '../../../src/binlog/index.js';

const SID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';

function mysqlDecoder(): BinlogDecoder {
  const d = new BinlogDecoder({ file: 'binlog.000001' });
  d.decode(
    buildFormatDescription({ serverVersion: '8.0.45', postHeaderLengths: MYSQL_8_0_POST_HEADER_LENGTHS }),
  );
  return d;
}

function rt(bytes: Buffer): BinlogEvent {
  return mysqlDecoder().decode(bytes);
}

describe('mysql::serialization variable-length integers', () => {
  it('matches the examples of libs/mysql/serialization/readme.md', () => {
    // 65535 → "00000111 11111111 11111011" (big-endian display) → bytes fb ff 07
    expect(encodeVarlenUint(65535)).toEqual(Buffer.from([0xfb, 0xff, 0x07]));
    // signed 65535 → "00001111 11111111 11110011"; -65535 → "... 11101011"; -65536 → "... 11111011"
    expect(encodeVarlenInt(65535)).toEqual(Buffer.from([0xf3, 0xff, 0x0f]));
    expect(encodeVarlenInt(-65535)).toEqual(Buffer.from([0xeb, 0xff, 0x0f]));
    expect(encodeVarlenInt(-65536)).toEqual(Buffer.from([0xfb, 0xff, 0x0f]));
  });

  it('round-trips 1..9-byte values, signed and unsigned', () => {
    const values = [0n, 1n, 127n, 128n, 16383n, 16384n, 2n ** 56n - 1n, 2n ** 56n, 2n ** 64n - 1n];
    for (const v of values) {
      const b = encodeVarlenUint(v);
      const c = new Cursor(b);
      expect(readVarlenUint(c)).toBe(v);
      expect(c.remaining).toBe(0);
    }
    for (const v of [0n, -1n, 1n, -(2n ** 63n), 2n ** 63n - 1n, -123456789n]) {
      expect(readVarlenInt(new Cursor(encodeVarlenInt(v)))).toBe(v);
    }
    expect(encodeVarlenUint(2n ** 64n - 1n).length).toBe(9);
  });
});

describe('MySQL builders → decoder', () => {
  it('GTID with 8.0 commit timestamps, transaction length, server versions, group ticket', () => {
    const e = rt(
      buildMysqlGtid({
        sid: SID,
        gno: 42n,
        flags: 0,
        lastCommitted: 7n,
        sequenceNumber: 8n,
        immediateCommitTimestamp: 1_700_000_000_123_456n,
        originalCommitTimestamp: 1_699_999_999_000_001n,
        transactionLength: 70_000,
        immediateServerVersion: 80045,
        originalServerVersion: 80036,
        commitGroupTicket: 5n,
      }),
    );
    expect(e).toMatchObject({
      kind: 'mysql_gtid',
      tagged: false,
      gtid: `${SID}:42`,
      lastCommitted: 7n,
      sequenceNumber: 8n,
      immediateCommitTimestamp: 1_700_000_000_123_456n,
      originalCommitTimestamp: 1_699_999_999_000_001n,
      transactionLength: 70_000,
      immediateServerVersion: 80045,
      originalServerVersion: 80036,
      commitGroupTicket: 5n,
    });
    // Equal original values are not written; the decoder copies the immediate ones.
    const same = rt(
      buildMysqlGtid({
        sid: SID,
        gno: 1n,
        immediateCommitTimestamp: 9n,
        transactionLength: 100,
        immediateServerVersion: 80400,
      }),
    );
    expect(same).toMatchObject({
      originalCommitTimestamp: 9n,
      originalServerVersion: 80400,
      commitGroupTicket: undefined,
    });
    expect(same.header.eventSize).toBe(19 + 42 + 7 + 1 + 4 + 4);
  });

  it('GTID_TAGGED (8.4) with and without a tag', () => {
    const e = rt(
      buildMysqlGtidTagged({
        sid: SID,
        gno: 2n ** 40n,
        tag: 'cachetail',
        lastCommitted: 3n,
        sequenceNumber: 4n,
        immediateCommitTimestamp: 1_700_000_000_000_000n,
        transactionLength: 321,
        immediateServerVersion: 80400,
        originalServerVersion: 80045,
      }),
    );
    expect(e).toMatchObject({
      kind: 'mysql_gtid',
      tagged: true,
      anonymous: false,
      sid: SID,
      tag: 'cachetail',
      gno: 2n ** 40n,
      gtid: `${SID}:cachetail:${2n ** 40n}`,
      lastCommitted: 3n,
      sequenceNumber: 4n,
      immediateCommitTimestamp: 1_700_000_000_000_000n,
      originalCommitTimestamp: 1_700_000_000_000_000n,
      transactionLength: 321,
      immediateServerVersion: 80400,
      originalServerVersion: 80045,
    });
    expect(e.header.typeCode).toBe(42);
    expect(rt(buildMysqlGtidTagged({ sid: SID, gno: 5n }))).toMatchObject({ tag: '', gtid: `${SID}:5` });
  });

  it('PREVIOUS_GTIDS untagged and tagged', () => {
    const sids = [
      {
        uuid: SID,
        tag: undefined,
        intervals: [
          { start: 1n, end: 6n },
          { start: 7n, end: 8n },
        ],
      },
      { uuid: '00000000-0000-0000-0000-000000000001', tag: undefined, intervals: [] },
    ];
    expect(rt(buildPreviousGtids({ sids }))).toMatchObject({
      kind: 'previous_gtids',
      tagged: false,
      sids,
      // MySQL's text: a uuid without intervals holds nothing and is not shown.
      gtidSet: `${SID}:1-5:7`,
    });
    const tagged = [
      { uuid: SID, tag: undefined, intervals: [{ start: 1n, end: 3n }] },
      { uuid: SID, tag: 'blue', intervals: [{ start: 1n, end: 2n }] },
    ];
    expect(rt(buildPreviousGtids({ sids: tagged }))).toMatchObject({
      tagged: true,
      sids: tagged,
      // As mysqlbinlog and @@gtid_executed show it: the uuid once, its tags after its untagged intervals.
      gtidSet: `${SID}:1-2:blue:1`,
    });
  });

  it('INTVAR, RAND, USER_VAR (NULL and an unsigned int), INCIDENT, HEARTBEAT_V2', () => {
    expect(rt(buildIntvar({ intvarType: 2, value: 99n }))).toMatchObject({
      kind: 'intvar',
      intvarType: 2,
      value: 99n,
    });
    expect(rt(buildRand({ seed1: 1n, seed2: 2n }))).toMatchObject({ kind: 'rand', seed1: 1n, seed2: 2n });
    expect(rt(buildUserVar({ name: 'v' }))).toMatchObject({
      kind: 'user_var',
      name: 'v',
      isNull: true,
      flags: 0,
    });
    const int = Buffer.alloc(8);
    int.writeBigUInt64LE(2n ** 64n - 1n);
    expect(
      rt(buildUserVar({ name: 'u', value: { valueType: 2, charset: 63, bytes: int, flags: 1 } })),
    ).toMatchObject({
      name: 'u',
      isNull: false,
      valueType: 2,
      charset: 63,
      value: int,
      flags: 1,
    });
    expect(rt(buildIncident({ incident: 1, message: 'LOST_EVENTS' }))).toMatchObject({
      kind: 'incident',
      incident: 1,
      message: 'LOST_EVENTS',
    });
    expect(rt(buildHeartbeatV2({ file: 'binlog.000007', position: 5_000_000_000 }))).toMatchObject({
      kind: 'heartbeat',
      version: 2,
      file: 'binlog.000007',
      position: 5_000_000_000,
    });
  });

  it('TRANSACTION_PAYLOAD (zstd and none): inner events decode lazily, table maps are cached', () => {
    const inner = [
      buildQuery({ sql: 'BEGIN', db: 'app' }, { checksum: 'none' }),
      buildRowsQuery(
        { sql: '/* MEMCACHE_DIRTY user%3A7 */ UPDATE users SET n = 1 WHERE id = 7' },
        { checksum: 'none' },
      ),
      buildTableMap({ tableId: 91, db: 'app', table: 'users', columnTypes: [3, 3] }, { checksum: 'none' }),
      buildRows(
        { kind: 'update_rows', version: 2, tableId: 91, columnCount: 2, rows: Buffer.alloc(18) },
        { checksum: 'none' },
      ),
      buildXid({ xid: 12n }, { checksum: 'none' }),
    ];
    for (const compression of ['zstd', 'none'] as const) {
      const d = mysqlDecoder();
      const p = d.decode(buildTransactionPayload({ events: inner, compression }));
      expect(p).toMatchObject({
        kind: 'transaction_payload',
        compressionType: compression === 'zstd' ? 0 : 255,
        uncompressedSize: inner.reduce((n, b) => n + b.length, 0),
      });
      if (p.kind !== 'transaction_payload') return;
      const events = [...d.payloadEvents(p)];
      expect(events.map((e) => e.kind)).toEqual(['query', 'rows_query', 'table_map', 'update_rows', 'xid']);
      expect(events[1]).toMatchObject({
        sql: '/* MEMCACHE_DIRTY user%3A7 */ UPDATE users SET n = 1 WHERE id = 7',
      });
      expect(d.tableMap(91)?.table).toBe('users');
    }
  });

  it('zstd stored frames span several 128 KiB blocks', () => {
    const big = Buffer.alloc(300_000, 7);
    const d = mysqlDecoder();
    const q = buildQuery({ sql: `INSERT INTO t VALUES ('${'x'.repeat(299_000)}')` }, { checksum: 'none' });
    const p = d.decode(buildTransactionPayload({ events: [q] }));
    expect(p.kind === 'transaction_payload' && [...d.payloadEvents(p)][0]?.kind).toBe('query');
    expect(zstdStoredFrame(big).length).toBe(9 + 3 * 3 + big.length);
  });

  it('a corrupt zstd payload is MALFORMED_EVENT', () => {
    const p = buildTransactionPayload({ events: [buildXid({ xid: 1n }, { checksum: 'none' })] });
    const corrupt = Buffer.from(p);
    const magicAt = corrupt.indexOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
    corrupt[magicAt + 1] = 0;
    const fixed = buildFormatDescription({
      serverVersion: '8.0.45',
      postHeaderLengths: MYSQL_8_0_POST_HEADER_LENGTHS,
    });
    const f = new BinlogFileBuilder({ formatDescription: false });
    f.add(() => fixed);
    expect(() => [...readBinlogFile(Buffer.concat([f.toBuffer(), reCrc(corrupt)]))]).toThrow(
      expect.objectContaining({ code: 'MALFORMED_EVENT', position: 4 + fixed.length }) as Error,
    );
  });
});

/** Recomputes the CRC of an event edited in place. */
function reCrc(event: Buffer): Buffer {
  return buildRawWithCrc(event.subarray(0, event.length - 4));
}

function buildRawWithCrc(withoutCrc: Buffer): Buffer {
  const out = Buffer.alloc(withoutCrc.length + 4);
  withoutCrc.copy(out);
  out.writeUInt32LE(crc32(withoutCrc), withoutCrc.length);
  return out;
}
