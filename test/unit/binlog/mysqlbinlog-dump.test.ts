/**
 * The mysqlbinlog -vv parser on a small captured dump: `captured/mysql-9.7.4-bin.000003` was written by
 * a MySQL 9.7.4 devcluster primary (GTIDs, Rows_query, a multi-line statement, a partial JSON update,
 * a GEOMETRY column, a compressed transaction, a tagged GTID, statement-format RAND and USER_VAR), and
 * `….mysqlbinlog.txt` is `mysqlbinlog -vv --base64-output=decode-rows` of it from the same root. Then
 * our decoder against that dump, as the live differential test does on every line.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BinlogDecoder } from '../../../src/binlog/decoder.js';
import { readBinlogFile } from '../../../src/binlog/file.js';
import { compareWithDump, type DecodedEvent } from '../../integration/binlog-diff-compare.js';
import { jsonDiffMismatch, jsonDocumentMismatch } from '../../integration/binlog-dump-json.js';
import { parseMysqlbinlogDump } from './mysqlbinlog-dump.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'captured');
const binlog = readFileSync(path.join(dir, 'mysql-9.7.4-bin.000003'));
const text = readFileSync(path.join(dir, 'mysql-9.7.4-bin.000003.mysqlbinlog.txt')).toString('latin1');
const UUID = '9c247729-f280-11f1-940f-02fc00000001';

describe('parseMysqlbinlogDump (mysqlbinlog 9.7.4 -vv)', () => {
  const dump = parseMysqlbinlogDump(text);

  it('finds every event, each with its `# at`, and the end of the log', () => {
    expect(dump.complete).toBe(true);
    expect(dump.exitCode).toBe(0);
    expect(dump.events).toHaveLength(56);
    expect(dump.at).toHaveLength(56);
    expect(dump.events.filter((e) => e.typeCodes.length === 0)).toEqual([]);
    expect(dump.events[0]).toMatchObject({ typeCodes: [15], endLogPos: 127, serverId: 1, crc: 0x23e23bd2 });
    expect(dump.events.at(-1)).toMatchObject({
      typeCodes: [4],
      rotate: { nextFile: 'mysql-bin.000004', position: 4 },
    });
  });

  it('reads the GTIDs from their GTID_NEXT lines, tagged ones as GTID_TAGGED, and the previous set', () => {
    expect(dump.events[1]).toMatchObject({ typeCodes: [35], previousGtids: `${UUID}:1-20:mytag:1` });
    const gtids = dump.events.filter((e) => e.gtid !== undefined);
    expect(gtids.map((e) => e.gtid)).toEqual([
      ...Array.from({ length: 8 }, (_, i) => `${UUID}:${21 + i}`),
      `${UUID}:fxtag:1`,
      `${UUID}:29`,
    ]);
    expect(gtids.map((e) => e.typeCodes.join('/'))).toEqual([
      ...Array<string>(8).fill('33/42'),
      '42',
      '33/42',
    ]);
  });

  it('queries with and without the XID of a DDL; Rows_query texts with their line breaks', () => {
    const queries = dump.events.filter((e) => e.query);
    expect(queries[0]?.query).toMatchObject({
      threadId: 17,
      errorCode: 0,
      xid: 70n,
      sql: 'CREATE DATABASE fx',
    });
    expect(queries[2]?.query).toMatchObject({ xid: 0n, sql: 'BEGIN' });
    const rowsQueries = dump.events.filter((e) => e.rowsQuery !== undefined).map((e) => e.rowsQuery);
    expect(rowsQueries).toHaveLength(7);
    expect(rowsQueries[1]).toBe("INSERT INTO fx.t (id, s) VALUES (2, 'multi\nline\n\n\nstatement')");
    // Backslashes are printed doubled (see binlog-diff-compare.ts rowsQueryText).
    expect(rowsQueries[0]).toContain("'it''s \\\\\\\\ a\\\\nb'");
  });

  it('rows events by their name and flags, partial updates as PARTIAL_UPDATE_ROWS', () => {
    const rows = dump.events.filter((e) => e.rows);
    expect(rows.map((e) => e.typeCodes.join('/'))).toEqual([
      '23/30',
      '23/30',
      '39',
      '23/30',
      '25/32',
      '23/30',
      '24/31',
    ]);
    expect(rows.every((e) => e.rows?.stmtEnd === true && e.rows.tableId === 114)).toBe(true);
    expect(dump.events.filter((e) => e.tableMap).map((e) => e.tableMap)).toContainEqual({
      db: 'fx',
      table: 't',
      tableId: 114,
    });
  });

  it('a transaction payload, then its inner events at the payload end', () => {
    const i = dump.events.findIndex((e) => e.payload);
    expect(dump.events[i]).toMatchObject({
      typeCodes: [40],
      endLogPos: 3310,
      payload: { payloadSize: 212, compression: 'ZSTD', uncompressedSize: 275 },
    });
    expect(dump.events[i]?.inPayload).toBeUndefined();
    const inner = dump.events.slice(i + 1, i + 6);
    expect(inner.map((e) => e.typeCodes[0])).toEqual([2, 29, 19, 23, 16]);
    expect(inner.every((e) => e.inPayload === true && e.endLogPos === 3310)).toBe(true);
    expect(dump.at.slice(i + 1, i + 6)).toEqual([3310, 3310, 3310, 3310, 3310]);
    expect(dump.events[i + 6]?.inPayload).toBeUndefined();
  });

  it('statement context events whose `# at` lines come first (Rand, User_var)', () => {
    expect(dump.events.find((e) => e.rand)?.rand).toEqual({ seed1: 535578402n, seed2: 821906079n });
    expect(dump.events.find((e) => e.userVar)?.userVar).toEqual({ name: 'v', isNull: false });
  });
});

describe('our decoder against the captured mysqlbinlog dump', () => {
  it('agrees on every event; the GEOMETRY column ends every printed row', () => {
    const decoder = new BinlogDecoder({ file: 'mysql-bin.000003' });
    const ours: DecodedEvent[] = [];
    for (const { position, event } of readBinlogFile(binlog, { decoder })) {
      ours.push({ position, event });
      if (event.kind === 'transaction_payload') {
        const end = position + event.header.eventSize;
        for (const inner of decoder.payloadEvents(event))
          ours.push({ position, event: inner, payloadEnd: end });
      }
    }
    const r = compareWithDump('mysql-bin.000003', ours, parseMysqlbinlogDump(text), 'mysql');
    expect(r.mismatches).toEqual([]);
    expect(r.compared).toMatchObject({
      events: 56,
      gtids: 10,
      annotations: 7,
      rowsEvents: 7,
      innerEvents: 5,
    });
    // Seven rows events on a table whose 7th column is GEOMETRY: mysqlbinlog stops each at @7.
    expect(r.gaps.map((g) => [g.row, g.column, g.type])).toEqual(Array(7).fill([1, 7, 255]));
  });
});

describe('MySQL JSON as mysqlbinlog prints it', () => {
  it('documents: by meaning, keys in order, DECIMAL text, scalar strings unquoted', () => {
    expect(
      jsonDocumentMismatch({ d: 1.5, k: [1, 2.5, 'x'] }, `'{"d": 1.5, "k": [1, 2.5, "x"]}'`),
    ).toBeUndefined();
    expect(jsonDocumentMismatch({ k: 1, d: 1.5 }, `'{"d": 1.5, "k": 1}'`)).toMatch(/keys/);
    expect(jsonDocumentMismatch({ dbl: 2, dec: '1.50' }, `'{"dbl": 2.0, "dec": 1.50}'`)).toBeUndefined();
    expect(jsonDocumentMismatch({ dec: '1.5' }, `'{"dec": 1.50}'`)).toMatch(/1\.50/);
    expect(jsonDocumentMismatch(18446744073709551615n, `'18446744073709551615'`)).toBeUndefined();
    expect(jsonDocumentMismatch('just a string', `'just a string'`)).toBeUndefined();
    expect(jsonDocumentMismatch({ s: 'a"b\\c\n' }, `'{"s": "a\\\\"b\\\\\\\\c\\\\n"}'`)).toBeUndefined();
  });

  it('partial updates: nested calls, one per line, values by meaning', () => {
    const printed =
      "JSON_REMOVE(\n###      JSON_INSERT(\n###      JSON_REPLACE(@12, '$.n', 5),\n###      '$.new', 'x'),\n###      '$.m')";
    const diffs = [
      { operation: 'replace' as const, path: '$.n', value: 5 },
      { operation: 'insert' as const, path: '$.new', value: 'x' },
      { operation: 'remove' as const, path: '$.m' },
    ];
    expect(jsonDiffMismatch(diffs, 12, printed)).toBeUndefined();
    expect(jsonDiffMismatch([{ ...diffs[0], value: 6 }, diffs[1], diffs[2]], 12, printed)).toMatch(
      /replace \$\.n/,
    );
    const two = "JSON_REPLACE(@3, '$[1]', 3.75,\n###      '$[2]', 'it\\'s')";
    expect(
      jsonDiffMismatch(
        [
          { operation: 'replace', path: '$[1]', value: 3.75 },
          { operation: 'replace', path: '$[2]', value: "it's" },
        ],
        3,
        two,
      ),
    ).toBeUndefined();
    expect(
      jsonDiffMismatch(
        [{ operation: 'insert', path: '$.o', value: { n: 1 } }],
        4,
        `JSON_INSERT(@4, '$.o', CAST('{"n": 1}' AS JSON))`,
      ),
    ).toBeUndefined();
  });
});
