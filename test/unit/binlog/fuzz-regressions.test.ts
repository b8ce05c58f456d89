/**
 * Regressions found by the decoder fuzzer (scripts/fuzz, `npm run fuzz`). Each test names the case that
 * found it (`--replay <seed>:<case>` regenerates the input) and pins the fixed behaviour.
 */
import { describe, expect, it } from 'vitest';
import {
  buildQuery,
  buildTableMap,
  buildTransactionPayload,
  buildXid,
  packedInt,
} from '../../../src/binlog/builder.js';
import { BinlogDecodeError, BinlogDecoder, type BinlogEvent } from '../../../src/binlog/index.js';

const NONE = { checksum: 'none' } as const;

function decodePayload(
  inner: Buffer[],
  position: number | undefined,
): { events: BinlogEvent[]; error: unknown } {
  const decoder = new BinlogDecoder({ file: 'binlog.000007' });
  const payload = decoder.decode(buildTransactionPayload({ events: inner }), position);
  const events: BinlogEvent[] = [];
  try {
    if (payload.kind !== 'transaction_payload') throw new Error(`decoded ${payload.kind}`);
    for (const ev of decoder.payloadEvents(payload)) events.push(ev);
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

describe('fuzz regressions', () => {
  // Fuzz 1:264, 1:3083 and 18 more: errors inside a TRANSACTION_PAYLOAD said neither where the payload
  // event was nor where in it the bad inner event started.
  describe('errors in the events of a TRANSACTION_PAYLOAD name the payload event', () => {
    const begin = buildQuery({ sql: 'BEGIN' }, NONE);
    const xid = buildXid({ xid: 5n }, NONE);

    it('for an inner event cut short', () => {
      const cut = Buffer.from(xid.subarray(0, xid.length - 3));
      const { events, error } = decodePayload([begin, cut], 4096);
      expect(events.map((e) => e.kind)).toEqual(['query']);
      expect(error).toBeInstanceOf(BinlogDecodeError);
      const e = error as BinlogDecodeError;
      expect(e.code).toBe('TRUNCATED');
      expect(e.position).toBe(4096);
      expect(e.file).toBe('binlog.000007');
      expect(e.typeCode).toBe(16);
      expect(e.message).toBe(
        `TRUNCATED: in transaction payload at offset ${begin.length}: event_size 27 but only 24 bytes available ` +
          '(event type 16, file binlog.000007, position 4096)',
      );
    });

    it('for a payload that ends inside an event header', () => {
      const { error } = decodePayload([begin, Buffer.alloc(7)], 120);
      expect(error).toBeInstanceOf(BinlogDecodeError);
      expect((error as Error).message).toBe(
        `MALFORMED_EVENT: in transaction payload at offset ${begin.length}: 7 bytes left, less than an event ` +
          'header (event type 40, file binlog.000007, position 120)',
      );
    });

    it('without a position when the payload event was decoded without one', () => {
      const { error } = decodePayload([begin, Buffer.alloc(7)], undefined);
      expect((error as BinlogDecodeError).position).toBeUndefined();
      expect((error as Error).message).toMatch(/\(event type 40, file binlog\.000007\)$/);
    });
  });

  // Fuzz 2:14208: a TABLE_MAP for one column whose SIGNEDNESS TLV claimed 250 bytes decoded into 2,000
  // booleans — 64 bytes of memory per byte of event. Bits are now capped at the column count (whole bytes).
  it('keeps no more signedness bits than the table has columns (rounded up to a byte)', () => {
    const tlv = Buffer.concat([Buffer.of(1), packedInt(250), Buffer.alloc(250, 0xff)]);
    const map = buildTableMap({
      tableId: 1,
      db: 'd',
      table: 't',
      columnTypes: [8],
      optionalMetadataRaw: tlv,
    });
    const ev = new BinlogDecoder().decode(map);
    expect(ev.kind === 'table_map' && ev.optionalMetadata.signednessBits).toEqual(Array(8).fill(true));
  });
});
