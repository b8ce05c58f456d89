import { describe, expect, it } from 'vitest';
import {
  BinlogFileBuilder,
  buildFormatDescription,
  buildQuery,
  buildRotate,
  buildXid,
} from '../../helpers/binlog/index.js';
import { BinlogDecodeError, BinlogDecoder, readBinlogFile } from '../../../src/binlog/index.js';

function catchError(fn: () => unknown): BinlogDecodeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BinlogDecodeError);
    return err as BinlogDecodeError;
  }
  throw new Error('expected a BinlogDecodeError');
}

function decoderAfterFde(checksum: 'crc32' | 'none' = 'crc32'): BinlogDecoder {
  const d = new BinlogDecoder({ file: 'm1-bin.000004' });
  d.decode(buildFormatDescription({ checksum }), 4);
  return d;
}

describe('decode errors', () => {
  it('CHECKSUM_MISMATCH for a flipped body byte, with file, position and type', () => {
    const bytes = buildXid({ xid: 1n });
    bytes[20] ^= 0x01;
    const e = catchError(() => decoderAfterFde().decode(bytes, 1234));
    expect({
      code: e.code,
      file: e.file,
      position: e.position,
      typeCode: e.typeCode,
      retryable: e.retryable,
    }).toEqual({
      code: 'CHECKSUM_MISMATCH',
      file: 'm1-bin.000004',
      position: 1234,
      typeCode: 16,
      retryable: false,
    });
    expect(e.message).toMatch(
      /^CHECKSUM_MISMATCH: stored CRC32 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8} \(event type 16, file m1-bin\.000004, position 1234\)$/,
    );
  });

  it('CHECKSUM_MISMATCH for a corrupted FDE; the IN_USE flag alone does not break its CRC', () => {
    const fde = buildFormatDescription({}, { flags: 1 });
    expect(() => new BinlogDecoder().decode(fde)).not.toThrow();
    fde[17] = 0; // flags changed after the CRC was computed (with IN_USE cleared) — still valid
    expect(() => new BinlogDecoder().decode(fde)).not.toThrow();
    fde[30] ^= 0xff;
    expect(catchError(() => new BinlogDecoder().decode(fde, 4)).code).toBe('CHECKSUM_MISMATCH');
  });

  it('TRUNCATED for fewer bytes than a header or than event_size', () => {
    const d = decoderAfterFde();
    expect(catchError(() => d.decode(Buffer.alloc(10), 99))).toMatchObject({
      code: 'TRUNCATED',
      position: 99,
    });
    const xid = buildXid({ xid: 1n });
    expect(catchError(() => d.decode(xid.subarray(0, xid.length - 1), 50))).toMatchObject({
      code: 'TRUNCATED',
      position: 50,
      typeCode: 16,
    });
  });

  it('BAD_EVENT_LENGTH for event_size < 19 or more bytes than event_size', () => {
    const d = decoderAfterFde();
    const xid = buildXid({ xid: 1n });
    const small = Buffer.from(xid);
    small.writeUInt32LE(10, 9);
    expect(catchError(() => d.decode(small)).code).toBe('BAD_EVENT_LENGTH');
    expect(catchError(() => d.decode(Buffer.concat([xid, Buffer.alloc(1)]))).code).toBe('BAD_EVENT_LENGTH');
  });

  it('MALFORMED_EVENT when a length inside the body points past it', () => {
    const q = buildQuery({ sql: 'BEGIN', db: 'x' }, { checksum: 'none' });
    q[19 + 8] = 200; // db_len
    expect(catchError(() => decoderAfterFde('none').decode(q, 7))).toMatchObject({
      code: 'MALFORMED_EVENT',
      position: 7,
      typeCode: 2,
    });
  });

  it('readBinlogFile: BAD_MAGIC, truncated tail after the whole events', () => {
    expect(catchError(() => [...readBinlogFile(Buffer.from('nope'), { file: 'x' })])).toMatchObject({
      code: 'BAD_MAGIC',
      file: 'x',
      position: 0,
    });
    const f = new BinlogFileBuilder().add((o) => buildXid({ xid: 3n }, o)).toBuffer();
    const seen: string[] = [];
    const e = catchError(() => {
      for (const { event } of readBinlogFile(f.subarray(0, f.length - 5), { file: 'm1-bin.000001' })) {
        seen.push(event.kind);
      }
    });
    expect(seen).toEqual(['format_description']);
    expect(e).toMatchObject({ code: 'TRUNCATED', file: 'm1-bin.000001', position: 256 });
    expect(e.message).toContain('file m1-bin.000001, position 256');
  });
});

describe('checksum before the first FDE', () => {
  const withCrc = buildRotate({ nextFile: 'm1-bin.000002' }, { checksum: 'crc32', flags: 0x20 });
  const withoutCrc = buildRotate({ nextFile: 'm1-bin.000002' }, { checksum: 'none', flags: 0x20 });

  it('detect (default) recognises both forms of the fake ROTATE', () => {
    expect(new BinlogDecoder().decode(withCrc)).toMatchObject({ nextFile: 'm1-bin.000002' });
    expect(new BinlogDecoder().decode(withoutCrc)).toMatchObject({ nextFile: 'm1-bin.000002' });
  });

  it('explicit none / crc32', () => {
    expect(new BinlogDecoder({ checksumBeforeFde: 'none' }).decode(withoutCrc)).toMatchObject({
      nextFile: 'm1-bin.000002',
    });
    expect(new BinlogDecoder({ checksumBeforeFde: 'crc32' }).decode(withCrc)).toMatchObject({
      nextFile: 'm1-bin.000002',
    });
    expect(catchError(() => new BinlogDecoder({ checksumBeforeFde: 'crc32' }).decode(withoutCrc)).code).toBe(
      'CHECKSUM_MISMATCH',
    );
  });

  it('a stream: fake ROTATE without CRC, FDE with CRC32, events with CRC32; ROTATE updates the file', () => {
    const d = new BinlogDecoder({ checksumBeforeFde: 'none' });
    d.decode(withoutCrc);
    expect(d.file).toBe('m1-bin.000002');
    expect(d.checksum).toBe('none');
    d.decode(buildFormatDescription({ checksum: 'crc32' }));
    expect(d.checksum).toBe('crc32');
    expect(d.decode(buildXid({ xid: 9n }))).toMatchObject({ kind: 'xid', xid: 9n });
    d.decode(buildRotate({ nextFile: 'm1-bin.000003' }));
    expect(d.file).toBe('m1-bin.000003');
    // the next file's fake ROTATE (old file's algorithm) and FDE
    d.decode(buildRotate({ nextFile: 'm1-bin.000003' }, { flags: 0x20 }));
    d.decode(buildFormatDescription({ checksum: 'none' }));
    expect(d.checksum).toBe('none');
  });
});
