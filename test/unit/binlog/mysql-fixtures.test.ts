import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import {
  BinlogDecoder,
  readBinlogFile,
  type BinlogEvent,
  type PositionedEvent,
} from '../../../src/binlog/index.js';
import { binlogFixture, describeWithBinlogFixtures } from '../../helpers/fixtures.js';

function read(name: string, decoder = new BinlogDecoder()): PositionedEvent[] {
  return [...readBinlogFile(readFileSync(binlogFixture(name)), { decoder })];
}

function kindsOf(events: BinlogEvent[]): string[] {
  return events.map((e) => e.kind);
}

describeWithBinlogFixtures('MySQL binlog fixtures: exact values', () => {
  it('zalora gtid-fixtures/mysql-bin.01 (5.7.32) agrees with MySQL mysqlbinlog output', () => {
    // plaintext-mysql-bin.01 is MySQL's own mysqlbinlog output for this file.
    const text = readFileSync(
      binlogFixture('zalora-binlog-parser/gtid-fixtures/plaintext-mysql-bin.01'),
      'utf8',
    );
    const lines = text.split('\n');
    const expected: { endLogPos: number; lastCommitted: bigint; sequenceNumber: bigint; gtid: string }[] = [];
    let previousGtids: string | undefined;
    lines.forEach((line, i) => {
      const g = /end_log_pos (\d+) .*\tGTID\tlast_committed=(\d+)\tsequence_number=(\d+)/.exec(line);
      if (g) {
        // rbr_only=yes adds a SET TRANSACTION ISOLATION LEVEL line before GTID_NEXT.
        const next = lines
          .slice(i + 1, i + 3)
          .map((l) => /^SET @@SESSION\.GTID_NEXT= '(.*)'\/\*!\*\/;$/.exec(l))
          .find((m) => m !== null);
        expected.push({
          endLogPos: Number(g[1]),
          lastCommitted: BigInt(g[2]),
          sequenceNumber: BigInt(g[3]),
          gtid: next?.[1] ?? '?',
        });
      }
      if (line.endsWith('\tPrevious-GTIDs')) previousGtids = lines[i + 1]?.replace(/^# /, '');
    });
    expect(expected.length).toBe(17);
    expect(previousGtids).toBe('10440e47-3885-11eb-ac5b-0242ac110002:1-5');

    const events = read('zalora-binlog-parser/gtid-fixtures/mysql-bin.01').map((e) => e.event);
    const gtids = events.filter((e) => e.kind === 'mysql_gtid');
    expect(
      gtids.map((g) => ({
        endLogPos: g.header.nextPosition,
        lastCommitted: g.lastCommitted,
        sequenceNumber: g.sequenceNumber,
        gtid: g.gtid,
      })),
    ).toEqual(expected);
    const prev = events.find((e) => e.kind === 'previous_gtids');
    expect(prev?.gtidSet).toBe(previousGtids);
    expect(prev?.sids).toEqual([
      { uuid: '10440e47-3885-11eb-ac5b-0242ac110002', tag: undefined, intervals: [{ start: 1n, end: 6n }] },
    ]);
  });

  it('mysql-bin.compressed (8.0.28): TRANSACTION_PAYLOAD inflates to QUERY, TABLE_MAP, UPDATE_ROWS, XID', () => {
    const decoder = new BinlogDecoder();
    const events = read('osheroff-mysql-binlog-connector-java/mysql-bin.compressed', decoder);
    const gtid = events[2]?.event;
    expect(gtid).toMatchObject({
      kind: 'mysql_gtid',
      anonymous: true,
      gtid: 'ANONYMOUS',
      lastCommitted: 0n,
      sequenceNumber: 1n,
      immediateCommitTimestamp: 1646406641223033n,
      originalCommitTimestamp: 1646406641223033n,
      transactionLength: 567,
      immediateServerVersion: 80028,
      originalServerVersion: 80028,
    });
    const payload = events[3]?.event;
    expect(payload).toMatchObject({
      kind: 'transaction_payload',
      compressionType: 0,
      compressedSize: 451,
      uncompressedSize: 960,
    });
    if (payload?.kind !== 'transaction_payload') return;
    const inner = [...decoder.payloadEvents(payload)];
    expect(kindsOf(inner)).toEqual(['query', 'table_map', 'update_rows', 'xid']);
    expect(inner[0]).toMatchObject({ sql: 'BEGIN', threadId: 12 });
    expect(inner[1]).toMatchObject({ db: 'demo', table: 'movies', tableId: 84, columnCount: 11 });
    expect(inner[3]).toMatchObject({ xid: 31n });
    expect(decoder.tableMap(84)).toBe(inner[1]);
  });

  it('apecloud mysql-bin.000057 (8.0.31): ROWS_QUERY texts inside compressed transactions', () => {
    const decoder = new BinlogDecoder();
    const events = read('apecloud-mysql-binlog-connector-rust/mysql-bin.000057', decoder);
    const inner = events
      .map((e) => e.event)
      .filter((e) => e.kind === 'transaction_payload')
      .flatMap((p) => [...decoder.payloadEvents(p)]);
    expect(kindsOf(inner)).toEqual([
      'query',
      'rows_query',
      'table_map',
      'write_rows',
      'xid',
      'query',
      'rows_query',
      'table_map',
      'update_rows',
      'rows_query',
      'table_map',
      'write_rows',
      'xid',
    ]);
    const texts = inner.flatMap((e) => (e.kind === 'rows_query' ? [e.sql] : []));
    expect(texts[0]).toBe('insert into b values(1)');
    expect(texts[1]).toBe(
      "update test_table_3 set enum_field='large', set_field='c', \nproduct_item_2='product_3_value' where product_id=55555",
    );
    // 246 bytes: longer than the ROWS_QUERY length byte could say for a 255+ statement; read to the end.
    expect(Buffer.byteLength(texts[2])).toBe(246);
    const prev = events[1]?.event;
    expect(prev?.kind === 'previous_gtids' && prev.gtidSet).toBe('76f3e7be-6720-11ed-9cad-0242ac110002:1-10');
  });

  it('percona 8.0.45: GTIDs with server versions and commit timestamps', () => {
    const events = read('percona-binlog-server/data_80045_gtid/binlog.000002').map((e) => e.event);
    const gtids = events.filter((e) => e.kind === 'mysql_gtid');
    expect(gtids.map((g) => g.gtid)).toEqual([
      '396e294c-1ca4-11f1-9ae7-00155da79c6b:5',
      '396e294c-1ca4-11f1-9ae7-00155da79c6b:6',
    ]);
    expect(gtids.every((g) => g.immediateServerVersion === 80045 && g.originalServerVersion === 80045)).toBe(
      true,
    );
    for (const g of gtids) {
      // The commit timestamp (µs) and the event's header timestamp (s) describe the same commit.
      expect(Number(g.immediateCommitTimestamp! / 1_000_000n)).toBe(g.header.timestamp);
    }
    const prev = events.find((e) => e.kind === 'previous_gtids');
    expect(prev?.kind === 'previous_gtids' && prev.gtidSet).toBe('396e294c-1ca4-11f1-9ae7-00155da79c6b:1-4');
  });

  it('statement-context events: INTVAR, RAND, USER_VAR (ver_trunk_row_v2.001, 5.6.4)', () => {
    const events = read('rust_mysql_common/ver_trunk_row_v2.001').map((e) => e.event);
    expect(events.find((e) => e.kind === 'user_var')).toMatchObject({
      name: 'x',
      isNull: false,
      valueType: 2,
      charset: 33,
      value: Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]),
      flags: 0,
    });
    expect(events.find((e) => e.kind === 'rand')).toMatchObject({ seed1: 93575718n, seed2: 859635654n });
    expect(events.find((e) => e.kind === 'intvar')).toMatchObject({ intvarType: 1, value: 0n });
  });

  it('INCIDENT with an out-of-range incident number (bug40482) decodes instead of crashing', () => {
    const events = read('rust_mysql_common/bug40482-bin.000001').map((e) => e.event);
    expect(events[1]).toMatchObject({ kind: 'incident', incident: 66, message: '' });
  });

  it('TABLE_MAP optional metadata: MariaDB FULL (primary-m1-bin.000007) and MySQL invisible columns', () => {
    const maria = read('generated-mariadb-10.11.19/primary-m1-bin.000007')
      .map((e) => e.event)
      .find((e) => e.kind === 'table_map');
    expect(maria?.optionalMetadata).toMatchObject({
      columnNames: ['id', 'v', 'j', 'd', 'ts', 'n', 'b'],
      primaryKey: [{ column: 0, prefix: 0 }],
    });
    // id INT and n DECIMAL are the numeric columns; both signed.
    expect(maria?.optionalMetadata.signednessBits?.slice(0, 2)).toEqual([false, false]);

    const mysql = read('rust_mysql_common/binlog-invisible-columns.000001')
      .map((e) => e.event)
      .find((e) => e.kind === 'table_map');
    expect(mysql?.optionalMetadata.columnNames).toEqual(['f1', 'f2', 'f3', 'f4', 'f5', 'f6']);
    expect(mysql?.optionalMetadata.columnVisibility?.length).toBe(6);
  });
});
