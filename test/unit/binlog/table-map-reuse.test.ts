import { describe, expect, it } from 'vitest';
import { buildFormatDescription, buildRows, buildTableMap } from '../../helpers/binlog/index.js';
import { decodeTableMap } from '../../../src/binlog/events/table-map.js';
import { DEFAULT_BODY_CONTEXT } from '../../../src/binlog/events/context.js';
import { Cursor } from '../../../src/binlog/cursor.js';
import { decodeHeader } from '../../../src/binlog/header.js';
import { BinlogDecoder, type TableMapEvent } from '../../../src/binlog/index.js';

// The decoder reuses the fields of the last TABLE_MAP decoded for a table id when the next one has the
// same body bytes. Each answer must equal what decoding the event on its own gives.
const fields = { tableId: 18, db: 'bench', table: 'users', columnTypes: [3, 15, 15, 3, 18] };
const meta = Buffer.from([0x40, 0x00, 0x80, 0x00, 0x03]);

function fresh(event: Buffer): TableMapEvent {
  return decodeTableMap(new Cursor(event, 19, event.length - 4), decodeHeader(event), DEFAULT_BODY_CONTEXT);
}

describe('TABLE_MAP decoded once per distinct body', () => {
  it('gives each event its own header and the fields a fresh decode gives', () => {
    const d = new BinlogDecoder();
    d.decode(buildFormatDescription(), 4);
    const events = [
      buildTableMap({ ...fields, columnMetaRaw: meta }, { timestamp: 1, nextPosition: 100 }),
      buildTableMap({ ...fields, columnMetaRaw: meta }, { timestamp: 2, nextPosition: 200 }),
      // Same table id, a column more: decoded anew.
      buildTableMap(
        { ...fields, columnTypes: [...fields.columnTypes, 3], columnMetaRaw: meta },
        { timestamp: 3, nextPosition: 300 },
      ),
      buildTableMap({ ...fields, tableId: 19, columnMetaRaw: meta }, { timestamp: 4, nextPosition: 400 }),
      buildTableMap({ ...fields, columnMetaRaw: meta }, { timestamp: 5, nextPosition: 500 }),
    ];
    for (const event of events) {
      const got = d.decode(event, 4) as TableMapEvent;
      expect(got).toEqual(fresh(event));
      expect(d.tableMap(got.tableId)).toBe(got);
    }
    expect(d.tableMap(18)?.columnCount).toBe(5);
    expect(d.tableMap(18)?.header.timestamp).toBe(5);
  });

  it('decodes rows events with the reused TABLE_MAP', () => {
    const d = new BinlogDecoder();
    d.decode(buildFormatDescription(), 4);
    const map = { tableId: 7, db: 'd', table: 't', columnTypes: [3] };
    d.decode(buildTableMap(map), 4);
    d.decode(buildTableMap(map), 4);
    const rows = d.decode(
      buildRows({ kind: 'write_rows', tableId: 7, columnCount: 1, rows: Buffer.from([0, 42, 0, 0, 0]) }),
      4,
    );
    if (rows.kind !== 'write_rows') throw new Error(rows.kind);
    expect(d.decodeRows(rows)).toEqual([{ after: [42] }]);
  });

  it('forgets the bodies at a new FORMAT_DESCRIPTION', () => {
    const d = new BinlogDecoder();
    d.decode(buildFormatDescription(), 4);
    d.decode(buildTableMap({ ...fields, columnMetaRaw: meta }), 4);
    d.decode(buildFormatDescription(), 4);
    expect(d.tableMap(18)).toBeUndefined();
    const again = buildTableMap({ ...fields, columnMetaRaw: meta }, { timestamp: 9 });
    expect(d.decode(again, 4)).toEqual(fresh(again));
  });
});
