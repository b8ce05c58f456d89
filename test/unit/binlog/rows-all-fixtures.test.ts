/**
 * Every rows event of every public binlog decodes into row images (TRANSACTION_PAYLOAD contents
 * included), and the MySQL JSON fixture decodes to the values its source repository expects.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect, it } from 'vitest';
import {
  BinlogDecodeError,
  BinlogDecoder,
  readBinlogFile,
  type BinlogEvent,
  type ColumnValue,
  type RowChange,
} from '../../../src/binlog/index.js';
import { binlogFixture, binlogFixturesDir, describeWithBinlogFixtures } from '../../helpers/fixtures.js';

/** Binary binlogs: every file next to a `.mariadb-binlog.txt` dump. */
function binlogs(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.mariadb-binlog\.txt(\.gz)?$/.test(e.name)) {
        out.push(path.relative(binlogFixturesDir, full).replace(/\.mariadb-binlog\.txt(\.gz)?$/, ''));
      }
    }
  };
  walk(binlogFixturesDir);
  return out.sort();
}

/** Row changes per rows event, in file order; decoding stops quietly where the file itself is broken. */
function decodeFile(name: string): RowChange[][] {
  const raw = readFileSync(binlogFixture(name));
  const bytes = name.endsWith('.gz') ? gunzipSync(raw) : raw;
  const decoder = new BinlogDecoder({ file: name });
  const out: RowChange[][] = [];
  const onEvent = (event: BinlogEvent): void => {
    if (event.kind === 'transaction_payload')
      for (const inner of decoder.payloadEvents(event)) onEvent(inner);
    else if (event.kind === 'write_rows' || event.kind === 'update_rows' || event.kind === 'delete_rows') {
      out.push(decoder.decodeRows(event));
    }
  };
  try {
    for (const { event } of readBinlogFile(bytes, { file: name, decoder })) onEvent(event);
  } catch (err) {
    // The deliberately truncated/corrupt fixtures end in an event-level error (fixtures.test.ts pins
    // which); a row-level error would name a table and row, which must never happen here.
    if (!(err instanceof BinlogDecodeError) || /\brow \d+/.test(err.message)) throw err;
  }
  return out;
}

describeWithBinlogFixtures('row images of every public binlog', () => {
  it('decodes every rows event without error', () => {
    const totals: Record<string, number> = {};
    let events = 0;
    let rows = 0;
    for (const name of binlogs()) {
      const decoded = decodeFile(name);
      events += decoded.length;
      rows += decoded.reduce((n, changes) => n + changes.length, 0);
      if (decoded.length > 0) totals[name] = decoded.length;
    }
    // Counted once and pinned: a reader that silently skipped events would change them.
    expect({ events, rows, files: Object.keys(totals).length }).toEqual({
      events: 1615,
      rows: 47556,
      files: 34,
    });
  });

  it('rust_mysql_common/json-opaque.binlog: MySQL 9.0 JSON with opaque DATE/DATETIME/TIME/DECIMAL/BLOB values', () => {
    // Expected values from rust_mysql_common's own test of this file (src/binlog/mod.rs): the last
    // column of each row, MySQL's JSON text for opaque values, DECIMAL as exact text.
    const json = decodeFile('rust_mysql_common/json-opaque.binlog').map((changes) => {
      const last: ColumnValue = changes[0].after!.at(-1);
      return last !== null && typeof last === 'object' && 'kind' in last && last.kind === 'json'
        ? last.value
        : last;
    });
    expect(json).toEqual([
      { a: 'base64:type15:VQ==' },
      { b: '2012-03-18' },
      { c: '2012-03-18 11:30:45.000000' },
      { c: '87:31:46.654321' },
      { d: '123.456' },
      { e: '9.00' },
      { e: [0, 1, true, false] },
      { e: null },
    ]);
  });
});
