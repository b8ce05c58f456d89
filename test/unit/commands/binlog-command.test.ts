import { readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BinlogFileBuilder,
  buildAnnotateRows,
  buildMariadbGtid,
  buildRows,
  buildTableMap,
  buildXid,
} from '../../helpers/binlog/index.js';
import { annotatedBinlogFile, removeTempFiles, runBinlog, tempPath, TS } from './binlog-helpers.js';

afterAll(removeTempFiles);

const T = '2023-11-14 22:13:20';

/** Every line `cachetail binlog` prints for the annotated file (F = its path). */
function expectedText(F: string): string[] {
  return [
    `# file "${F}"`,
    `# at 4 end_log_pos 256 server_id 1 ${T} FORMAT_DESCRIPTION binlog_version 4 server_version "10.11.19-MariaDB-log" checksum crc32`,
    `# at 256 end_log_pos 299 server_id 1 ${T} MARIA_GTID_LIST [0-1-9]`,
    `# at 299 end_log_pos 341 server_id 1 ${T} MARIA_GTID 0-1-10 trans allow_parallel`,
    `# at 341 end_log_pos 451 server_id 1 ${T} MARIA_ANNOTATE_ROWS sql "UPDATE users SET name = 'Monkey' WHERE id = 1 /* MEMCACHE_DIRTY user:1,user%3Aname:1 */"`,
    `# at 451 end_log_pos 501 server_id 1 ${T} TABLE_MAP table_id 5 \`app\`.\`users\` columns 2`,
    `# at 501 end_log_pos 558 server_id 1 ${T} UPDATE_ROWS_V1 table_id 5 \`app\`.\`users\` rows 1 STMT_END`,
    `# at 558 end_log_pos 589 server_id 1 ${T} XID xid 77`,
    `#> transaction gtid 0-1-10 start 299 commit 558 end_log_pos 589 keys 2: user:1 user:name:1`,
    `# at 589 end_log_pos 631 server_id 1 ${T} MARIA_GTID 0-1-11 standalone`,
    `# at 631 end_log_pos 765 server_id 1 ${T} QUERY thread_id 1 exec_time 0 error_code 0 db "app" sql "ALTER TABLE users ADD COLUMN x INT /* MEMCACHE_DIRTY schema:users */"`,
    `#> transaction gtid 0-1-11 start 589 commit 631 end_log_pos 765 keys 1: schema:users`,
    `# at 765 end_log_pos 807 server_id 1 ${T} MARIA_GTID 0-1-12 trans allow_parallel`,
    `# at 807 end_log_pos 878 server_id 1 ${T} QUERY thread_id 1 exec_time 0 error_code 0 db "app" sql "BEGIN"`,
    `# at 878 end_log_pos 1054 server_id 1 ${T} QUERY thread_id 1 exec_time 0 error_code 0 db "app" sql "INSERT INTO notes VALUES ('/* MEMCACHE_DIRTY admin:1 */') /* MEMCACHE_DIRTY ok:3,bad%zz */ -- MEMCACHE_DIRTY x"`,
    `# at 1054 end_log_pos 1085 server_id 1 ${T} XID xid 78`,
    `#> transaction gtid 0-1-12 start 765 commit 1054 end_log_pos 1085 keys 1: ok:3 rejected 2`,
    `#>   rejected bad-escape at 81 "bad%zz": bad % escape at index 3`,
    `#>   rejected line-comment at 91 "-- MEMCACHE_DIRTY x": annotations must be block comments; a line comment is ignored`,
    `# at 1085 end_log_pos 1127 server_id 1 ${T} MARIA_GTID 0-1-13 trans allow_parallel`,
    `# at 1127 end_log_pos 1180 server_id 1 ${T} MARIA_ANNOTATE_ROWS sql "DELETE FROM users WHERE id = 2"`,
    `# at 1180 end_log_pos 1230 server_id 1 ${T} TABLE_MAP table_id 5 \`app\`.\`users\` columns 2`,
    `# at 1230 end_log_pos 1272 server_id 1 ${T} DELETE_ROWS_V1 table_id 5 \`app\`.\`users\` rows 1 STMT_END`,
    `# at 1272 end_log_pos 1303 server_id 1 ${T} XID xid 79`,
    `#> transaction gtid 0-1-13 start 1085 commit 1272 end_log_pos 1303 keys 0`,
    `# at 1303 end_log_pos 1350 server_id 1 ${T} ROTATE next_file "mysql-bin.000002" position 4`,
    `# summary file "${F}" events 19 end_position 1350 checksum crc32 transactions 4 with_keys 3 keys 4 rejected 2`,
  ];
}

describe('cachetail binlog: text output', () => {
  it('prints every event, each transaction with its keys and rejected annotations, and a summary', async () => {
    const { file } = annotatedBinlogFile();
    const r = await runBinlog([file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.lines).toEqual(expectedText(file));
  });

  it('--keys-only prints only the transactions that carry annotations', async () => {
    const { file } = annotatedBinlogFile();
    const r = await runBinlog(['--keys-only', file]);
    expect(r.code).toBe(0);
    expect(r.lines).toEqual(
      expectedText(file)
        .filter((l) => l.startsWith('#>') || l.startsWith('# summary'))
        .filter((l) => !l.includes('0-1-13')),
    );
  });

  it('reads stdin (-), gzipped or not, arriving a few bytes at a time', async () => {
    const { bytes, file } = annotatedBinlogFile();
    const want = expectedText('-');
    const trickle = (b: Buffer) =>
      Readable.from(Array.from({ length: Math.ceil(b.length / 7) }, (_, i) => b.subarray(i * 7, i * 7 + 7)));
    expect((await runBinlog(['-'], trickle(bytes))).lines).toEqual(want);
    expect((await runBinlog(['-'], trickle(gzipSync(bytes)))).lines).toEqual(want);
    const gz = `${file}.gz`;
    writeFileSync(gz, gzipSync(readFileSync(file)));
    const r = await runBinlog([gz]);
    expect(r.lines).toEqual(expectedText(gz));
  });

  it('--start-position seeks past the FORMAT_DESCRIPTION; --stop-position ends before an event', async () => {
    const { file } = annotatedBinlogFile();
    const all = expectedText(file);
    const r = await runBinlog(['--start-position', '589', '--stop-position', '1085', file]);
    expect(r.code).toBe(0);
    expect(r.lines.slice(0, -1)).toEqual([all[0], all[1], ...all.slice(9, 19)]);
    expect(r.lines.at(-1)).toBe(
      `# summary file "${file}" events 7 end_position 1085 checksum crc32 transactions 2 with_keys 2 keys 2 rejected 2`,
    );
    // The same through a stream that cannot seek (gzip): events before the start are read, not shown.
    const gz = `${file}.gz`;
    writeFileSync(gz, gzipSync(readFileSync(file)));
    const g = await runBinlog(['--start-position', '589', '--stop-position', '1085', gz]);
    expect(g.lines).toEqual(r.lines.map((l) => l.replaceAll(file, gz)));
  });

  it('a stop position inside a transaction reports it as incomplete, with the keys read so far', async () => {
    const { file } = annotatedBinlogFile();
    const r = await runBinlog(['--keys-only', '--stop-position', '1054', file]);
    expect(r.lines).toContain(
      '#> transaction gtid 0-1-12 start 765 commit - end_log_pos 1054 incomplete keys 1: ok:3 rejected 2',
    );
  });
});

describe('cachetail binlog: row values', () => {
  it('-v prints one line per row after its rows event', async () => {
    const { file } = annotatedBinlogFile();
    const r = await runBinlog(['-v', file]);
    expect(r.code).toBe(0);
    const want = expectedText(file);
    want.splice(7, 0, '#   row 1 before: @1=1 @2="Jason" after: @1=1 @2="Monkey"');
    want.splice(24, 0, '#   row 1 before: @1=2 @2="Bob"');
    expect(r.lines).toEqual(want);
  });

  it('a rows event without its table map (start inside a statement) is shown without rows', async () => {
    const { file } = annotatedBinlogFile();
    const r = await runBinlog(['--start-position', '501', '--stop-position', '558', file]);
    expect(r.lines[2]).toBe(
      `# at 501 end_log_pos 558 server_id 1 ${T} UPDATE_ROWS_V1 table_id 5 (no table map) row_bytes 23 STMT_END`,
    );
  });

  it('rows that do not decode: the error on the line, the run goes on, exit status 1', async () => {
    const b = new BinlogFileBuilder({ serverId: 1, timestamp: TS });
    b.add((o) => buildTableMap({ tableId: 9, db: 'd', table: 't', columnTypes: [3] }, o));
    // An INT needs 4 bytes; the image has 2.
    b.add((o) => buildRows({ kind: 'write_rows', tableId: 9, columnCount: 1, rows: Buffer.of(0, 1, 2) }, o));
    b.add((o) => buildXid({ xid: 5n }, o));
    const file = tempPath('mysql-bin.000006');
    writeFileSync(file, b.toBuffer());
    const r = await runBinlog([file]);
    expect(r.code).toBe(1);
    // The decoder's own wording between the code and the place is not this test's business.
    expect(r.lines[3]).toMatch(
      /^# at 297 end_log_pos 333 server_id 1 2023-11-14 22:13:20 WRITE_ROWS_V1 table_id 9 `d`\.`t` row_bytes 3 STMT_END row_error "MALFORMED_EVENT: .* \(d\.t row 1, column 1 \(type 3\)\)"$/,
    );
    expect(r.lines[4]).toContain(' XID xid 5');
    expect(r.lines.at(-1)).toMatch(/ row_errors 1$/);
    const j = await runBinlog(['--json', file]);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.lines[2] ?? '')).toMatchObject({
      rowError: expect.stringContaining('MALFORMED_EVENT'),
    });
  });
});

describe("cachetail binlog: the writer's commit time", () => {
  it('shows the earliest ts= of a transaction as writer_ts', async () => {
    const b = new BinlogFileBuilder({ serverId: 1, timestamp: TS });
    b.add((o) => buildMariadbGtid({ seqNo: 1n }, o));
    b.add((o) =>
      buildAnnotateRows({ sql: 'UPDATE t SET a = 1 /* MEMCACHE_DIRTY a:1 ts=1700000000456 */' }, o),
    );
    b.add((o) =>
      buildAnnotateRows({ sql: 'UPDATE t SET a = 2 /* MEMCACHE_DIRTY a:2 ts=1700000000123 */' }, o),
    );
    b.add((o) => buildXid({ xid: 1n }, o));
    const file = tempPath('mysql-bin.000005');
    writeFileSync(file, b.toBuffer());
    const r = await runBinlog(['--keys-only', file]);
    expect(r.lines[0]).toBe(
      '#> transaction gtid 0-1-1 start 256 commit 464 end_log_pos 495 writer_ts 2023-11-14T22:13:20.123Z keys 2: a:1 a:2',
    );
    const j = await runBinlog(['--keys-only', '--json', file]);
    expect(JSON.parse(j.lines[0] ?? '')).toMatchObject({
      writerTimeMs: 1700000000123,
      commitTimeMs: TS * 1000,
    });
  });
});

describe('cachetail binlog: JSON output', () => {
  it('one valid JSON object per line; bigints as strings, bytes as hex; keys per transaction', async () => {
    const { file } = annotatedBinlogFile();
    const r = await runBinlog(['--json', file]);
    expect(r.code).toBe(0);
    const objs = r.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs.filter((o) => o.type === 'event')).toHaveLength(19);
    const kind = (k: string) => objs.find((o) => (o.event as { kind?: string } | undefined)?.kind === k);
    expect(kind('xid')).toMatchObject({
      position: 558,
      event: { xid: '77', header: { nextPosition: 589 } },
    });
    expect(kind('update_rows')).toMatchObject({
      eventType: 'UPDATE_ROWS_V1',
      table: { db: 'app', table: 'users' },
      rowCount: 1,
      rowChanges: [{ before: [1, 'Jason'], after: [1, 'Monkey'] }],
      event: { columnsPresent: 'ff', tableId: 5 },
    });
    // Decoded values replace the raw row image.
    expect(kind('update_rows')?.event).not.toHaveProperty('rows');
    expect(kind('rotate')).toMatchObject({
      position: 1303,
      event: { position: 4, nextFile: 'mysql-bin.000002' },
    });
    expect(
      objs
        .filter((o) => o.type === 'transaction')
        .map((o) => [o.gtid, o.keys, o.commitPosition, o.endLogPos]),
    ).toEqual([
      ['0-1-10', ['user:1', 'user:name:1'], 558, 589],
      ['0-1-11', ['schema:users'], 631, 765],
      ['0-1-12', ['ok:3'], 1054, 1085],
      ['0-1-13', [], 1272, 1303],
    ]);
    expect(objs.find((o) => o.type === 'transaction' && o.gtid === '0-1-12')?.rejected).toEqual([
      { reason: 'bad-escape', offset: 81, text: 'bad%zz', detail: 'bad % escape at index 3' },
      {
        reason: 'line-comment',
        offset: 91,
        text: '-- MEMCACHE_DIRTY x',
        detail: 'annotations must be block comments; a line comment is ignored',
      },
    ]);
    expect(objs.at(-1)).toEqual({
      type: 'summary',
      file,
      events: 19,
      transactions: 4,
      transactionsWithKeys: 3,
      keys: 4,
      rejected: 2,
      checksum: 'crc32',
      endPosition: 1350,
      rowErrors: 0,
    });
  });
});

describe('cachetail binlog: errors and verification', () => {
  it('a flipped byte: the typed error with file and position on stderr, exit 1; output up to there', async () => {
    const { bytes } = annotatedBinlogFile();
    const bad = Buffer.from(bytes);
    bad[900] ^= 0xff; // inside the QUERY at 878
    const file = tempPath('mysql-bin.000009');
    writeFileSync(file, bad);
    const r = await runBinlog([file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `cachetail binlog: ${file}: CHECKSUM_MISMATCH: stored CRC32 0x${bad.readUInt32LE(1050).toString(16).padStart(8, '0')}, computed ` +
        `${/computed (0x[0-9a-f]{8})/.exec(r.stderr)?.[1]} (event type 2, file ${file}, position 878)\n`,
    );
    // Output stops at the last good event; the transaction it opened is shown as incomplete.
    expect(r.lines.at(-2)).toContain('# at 807 ');
    expect(r.lines.at(-1)).toBe(
      '#> transaction gtid 0-1-12 start 765 commit - end_log_pos 878 incomplete keys 0',
    );

    const j = await runBinlog(['--json', file]);
    expect(JSON.parse(j.lines.at(-1) ?? '')).toMatchObject({
      type: 'error',
      code: 'CHECKSUM_MISMATCH',
      position: 878,
      typeCode: 2,
      file,
    });

    const v = await runBinlog(['--verify-only', file, annotatedBinlogFile().file]);
    expect(v.code).toBe(1);
    expect(v.lines[0]).toMatch(new RegExp(`^${file}: FAILED CHECKSUM_MISMATCH: .* position 878\\)$`));
    expect(v.lines[1]).toMatch(/: OK events 19 checksum crc32 end_position 1350$/);
  });

  it('--verify-only exits 0 for good files; a truncated file and a missing file exit 1', async () => {
    const { file, bytes } = annotatedBinlogFile();
    expect((await runBinlog(['--verify-only', file])).code).toBe(0);
    const cut = tempPath('mysql-bin.000003');
    writeFileSync(cut, bytes.subarray(0, 1110));
    const r = await runBinlog([cut]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `TRUNCATED: event_size 42 but only 25 bytes left in the file (event type 162, file ${cut}, position 1085)`,
    );
    // The transaction before the cut was printed with its keys.
    expect(r.lines).toContain(
      '#> transaction gtid 0-1-12 start 765 commit 1054 end_log_pos 1085 keys 1: ok:3 rejected 2',
    );
    const missing = await runBinlog([`${cut}.nope`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/ENOENT.*\[ENOENT\]\n$/);
  });

  it('usage errors exit 2', async () => {
    expect((await runBinlog([])).code).toBe(2);
    expect((await runBinlog(['--start-position', 'x', 'f'])).stderr).toContain(
      '--start-position must be a non-negative integer',
    );
    expect((await runBinlog(['--keys-only', '--verify-only', 'f'])).code).toBe(2);
    expect((await runBinlog(['--bogus', 'f'])).code).toBe(2);
    expect((await runBinlog(['--help'])).stdout).toContain('usage: cachetail binlog');
  });
});
