/**
 * Regressions found by the decoder fuzzer (scripts/fuzz, `npm run fuzz`). Each test names the case that
 * found it (`--replay <seed>:<case>` regenerates the input) and pins the fixed behaviour.
 */
import { describe, expect, it } from 'vitest';
import {
  buildEvent,
  buildQuery,
  buildTableMap,
  buildTransactionPayload,
  buildXid,
  packedInt,
  zstdStoredFrame,
} from '../../helpers/binlog/index.js';
import { MAX_UNCOMPRESSED_BYTES } from '../../../src/binlog/constants.js';
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

/** TRANSACTION_PAYLOAD with the given header fields ([type, packed value]) around `data`. */
function payloadEvent(fields: [number, number][], data: Buffer): Buffer {
  const head = fields.map(([type, value]) => {
    const v = packedInt(value);
    return Buffer.concat([packedInt(type), packedInt(v.length), v]);
  });
  return buildEvent(40, Buffer.concat([...head, Buffer.of(0), data]));
}

function decodeError(event: Buffer): BinlogDecodeError {
  try {
    new BinlogDecoder({ file: 'binlog.000001' }).decode(event, 4);
  } catch (err) {
    if (err instanceof BinlogDecodeError) return err;
    throw err;
  }
  throw new Error('decoded without an error');
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

  // Fuzz 3:211343: an uncompressed size field of 2^31 made the decoder allocate a 2 GiB output buffer
  // before finding the zstd data bad. Declared sizes are now capped, and checked against the frame.
  describe('decompression is bounded by the declared size and a hard cap', () => {
    const frame = zstdStoredFrame(buildXid({ xid: 1n }, NONE));

    it('rejects a TRANSACTION_PAYLOAD declaring more than the cap, before decompressing', () => {
      const e = decodeError(
        payloadEvent(
          [
            [2, 0],
            [3, 2 ** 31],
            [1, frame.length],
          ],
          frame,
        ),
      );
      expect(e.code).toBe('UNSUPPORTED');
      expect(e.message).toBe(
        `UNSUPPORTED: transaction payload of ${2 ** 31} bytes uncompressed is over the ${MAX_UNCOMPRESSED_BYTES}-byte ` +
          'limit (event type 40, file binlog.000001, position 4)',
      );
    });

    it('checks the frame header sizes when the uncompressed size field is absent', () => {
      const huge = Buffer.from(frame);
      huge[4] = 0xc0; // Frame_Content_Size_flag 3 (8 bytes), no single segment: a window byte follows
      const withFcs = Buffer.concat([
        huge.subarray(0, 5),
        Buffer.of(0x58),
        Buffer.from('0000000000010000', 'hex'),
        frame.subarray(9),
      ]);
      const e = decodeError(
        payloadEvent(
          [
            [2, 0],
            [1, withFcs.length],
          ],
          withFcs,
        ),
      );
      expect(e.code).toBe('UNSUPPORTED');
      expect(e.detail).toBe(
        `transaction payload of ${2 ** 40} bytes uncompressed is over the ${MAX_UNCOMPRESSED_BYTES}-byte limit`,
      );
    });

    it('rejects a zstd frame that holds more than the uncompressed size field says', () => {
      const e = decodeError(
        payloadEvent(
          [
            [2, 0],
            [3, 10],
            [1, frame.length],
          ],
          frame,
        ),
      );
      expect(e.code).toBe('MALFORMED_EVENT');
      expect(e.detail).toBe('zstd frame holds 27 bytes, uncompressed size field says 10');
    });

    it('rejects a MariaDB compressed event declaring more than the cap', () => {
      // QUERY_COMPRESSED: post-header, no status vars, empty db + NUL, then 0x84 + 4-byte BE length.
      const post = Buffer.alloc(13);
      const sql = Buffer.from([0x84, 0xff, 0xff, 0xff, 0xff, 0x78, 0x9c, 0x03, 0x00]);
      const e = decodeError(buildEvent(165, Buffer.concat([post, Buffer.of(0), sql])));
      expect(e.code).toBe('UNSUPPORTED');
      expect(e.detail).toBe(
        `compressed payload declares ${2 ** 32 - 1} bytes, over the ${MAX_UNCOMPRESSED_BYTES}-byte limit`,
      );
    });
  });
});
