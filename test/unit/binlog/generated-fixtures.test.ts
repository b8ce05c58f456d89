import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { readBinlogFile, type BinlogEvent, type PositionedEvent } from '../../../src/binlog/index.js';
import { binlogFixture, describeWithBinlogFixtures } from '../../helpers/fixtures.js';

function read(name: string): PositionedEvent[] {
  return [
    ...readBinlogFile(readFileSync(binlogFixture(`generated-mariadb-10.11.19/${name}`)), { file: name }),
  ];
}

function kinds(events: PositionedEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { event } of events) out[event.kind] = (out[event.kind] ?? 0) + 1;
  return out;
}

function only<K extends BinlogEvent['kind']>(
  events: PositionedEvent[],
  kind: K,
): Extract<BinlogEvent, { kind: K }>[] {
  return events.map((e) => e.event).filter((e): e is Extract<BinlogEvent, { kind: K }> => e.kind === kind);
}

describeWithBinlogFixtures('generated MariaDB 10.11.19 binlogs: exact values', () => {
  it('primary-m1-bin.000002: event counts, GTIDs, comments in annotations and statements', () => {
    const events = read('primary-m1-bin.000002');
    expect(events.length).toBe(142);
    expect(kinds(events)).toEqual({
      format_description: 1,
      mariadb_gtid_list: 1,
      binlog_checkpoint: 2,
      mariadb_gtid: 33,
      annotate_rows: 20,
      table_map: 20,
      write_rows: 16,
      update_rows: 2,
      delete_rows: 2,
      xid: 31,
      query: 13,
      rotate: 1,
    });
    const gtids = only(events, 'mariadb_gtid');
    expect(gtids.map((g) => g.gtid)).toEqual(Array.from({ length: 33 }, (_, i) => `0-101-${i + 5}`));
    expect(gtids.every((g) => g.serverId === 101 && g.domainId === 0)).toBe(true);
    expect(only(events, 'mariadb_gtid_list')[0]?.gtids).toEqual([{ domainId: 0, serverId: 101, seqNo: 4n }]);
    expect(only(events, 'binlog_checkpoint').map((c) => c.file)).toEqual(['m1-bin.000001', 'm1-bin.000002']);

    const annotations = only(events, 'annotate_rows').map((a) => a.sql);
    expect(annotations[0]).toBe(
      "/* leading-comment-A */ INSERT INTO fx.t (id, v) VALUES (1, 'row-format') /* trailing-comment-A */",
    );
    expect(annotations[2]).toBe(
      "INSERT INTO fx.t (id, v) VALUES (3, 'versioned-comment-not-executed') /* 999999 , (999,'never') */",
    );
    // Sent without --comments: the client stripped the comment.
    expect(annotations).toContain("INSERT INTO fx.c (id, v)  VALUES (4, 'mid')");
    expect(annotations[19]).toBe(
      "/* leading-binary-PS-H */ INSERT INTO fx.t (id, v) /* comment-inside-binary-PS-H */ VALUES ('9', 'binary-protocol-ps')",
    );

    const stmt = events.find((e) => e.position === 3604)?.event;
    expect(stmt).toMatchObject({
      kind: 'query',
      threadId: 9,
      db: '',
      sql: "/* leading-comment-A */ INSERT INTO fx.s (id, v) VALUES (1, 'stmt-format') /* trailing-comment-A */",
      statusVars: {
        flags2: 0x01000000,
        sqlMode: 1411383296n,
        catalog: 'std',
        charset: { client: 33, collationConnection: 33, collationServer: 8 },
      },
      header: { serverId: 101, nextPosition: 3766, eventSize: 162 },
    });
    const ddl = events.find((e) => e.position === 3463)?.event;
    expect(ddl).toMatchObject({
      kind: 'query',
      sql: 'CREATE TABLE fx.s LIKE fx.t',
      statusVars: { xid: 37n },
    });

    expect(events.at(-1)).toMatchObject({
      position: 9126,
      event: { kind: 'rotate', nextFile: 'm1-bin.000003', position: 4, artificial: false },
    });
  });

  it('primary-m1-bin.000006: MariaDB compressed events inflate to the same rows the replica logged plain', () => {
    const primary = read('primary-m1-bin.000006');
    expect(primary.map((e) => e.event.header.typeCode).filter((t) => t >= 165)).toEqual([166, 167, 168, 165]);
    const query = only(primary, 'query')[0];
    expect(query).toMatchObject({
      compressed: true,
      threadId: 20,
      sql: "INSERT INTO fx.s (id, v) VALUES (20, /* compressed-query-comment-K */ REPEAT('compress-me-', 5))",
    });
    const write = only(primary, 'write_rows')[0];
    expect(write).toMatchObject({ compressed: true, tableId: 18, columnCount: 7 });
    expect(write?.rows.length).toBe(404);
    expect(write?.rows.includes('compress-me-'.repeat(8))).toBe(true);
    expect(write?.rows.includes('z'.repeat(300))).toBe(true);

    const replica = read('replica-m2-bin.000002');
    const plain = only(replica, 'write_rows')[0];
    expect(plain).toMatchObject({ compressed: false, header: { typeCode: 23 } });
    expect(plain?.rows.equals(write.rows)).toBe(true);
  });

  it('replica-m2-bin.000001: annotations re-logged with comments; origin server id kept', () => {
    const events = read('replica-m2-bin.000001');
    expect(events.length).toBe(160);
    expect(kinds(events)).toEqual({
      format_description: 1,
      mariadb_gtid_list: 1,
      binlog_checkpoint: 1,
      mariadb_gtid: 37,
      query: 6,
      annotate_rows: 20,
      table_map: 31,
      write_rows: 25,
      update_rows: 3,
      delete_rows: 3,
      xid: 31,
      rotate: 1,
    });
    expect(only(events, 'mariadb_gtid').every((g) => g.serverId === 101)).toBe(true);
    expect(only(events, 'annotate_rows')[0]?.sql).toBe(
      "/* leading-comment-A */ INSERT INTO fx.t (id, v) VALUES (1, 'row-format') /* trailing-comment-A */",
    );
  });

  it('primary-m1-bin.000007: a 60 KB BLOB row and FULL optional metadata are carried through', () => {
    const events = read('primary-m1-bin.000007');
    const maps = only(events, 'table_map');
    expect(maps.map((m) => m.optionalMetadataRaw.length > 0)).toEqual([true, true]);
    const big = only(events, 'write_rows')[0];
    expect(big?.rows.length).toBeGreaterThan(60_000);
  });
});
