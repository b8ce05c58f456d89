import { describe, expect, it } from 'vitest';
import {
  BinlogFileBuilder,
  buildAnnotateRows,
  buildMariadbGtid,
  buildQuery,
  buildXid,
} from '../../helpers/binlog/index.js';
import { BinlogDecodeError, readBinlogFile } from '../../../src/binlog/index.js';
import { EventSplitter, type SplitEvent } from '../../../src/binlog/splitter.js';

function sampleFile(): Buffer {
  const b = new BinlogFileBuilder({ serverId: 7 });
  for (let i = 1; i <= 5; i++) {
    b.add((o) => buildMariadbGtid({ seqNo: BigInt(i) }, o));
    b.add((o) => buildAnnotateRows({ sql: `INSERT INTO t VALUES (${i}, '${'x'.repeat(i * 37)}')` }, o));
    b.add((o) => buildXid({ xid: BigInt(100 + i) }, o));
  }
  // One event much larger than the chunks it arrives in.
  b.add((o) => buildQuery({ sql: `INSERT INTO big VALUES ('${'y'.repeat(300_000)}')` }, o));
  return b.toBuffer();
}

/** Feeds `bytes` in chunks of the given sizes (cycled) and collects every event. */
function split(bytes: Buffer, sizes: number[], opts = {}): SplitEvent[] {
  const s = new EventSplitter({ file: 'f.000001', ...opts });
  const out: SplitEvent[] = [];
  let i = 0;
  for (let at = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length] ?? 1;
    s.push(bytes.subarray(at, at + n));
    at += n;
    for (let ev = s.next(); ev; ev = s.next()) out.push(ev);
  }
  s.finish();
  return out;
}

function catchError(fn: () => unknown): BinlogDecodeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BinlogDecodeError);
    return err as BinlogDecodeError;
  }
  throw new Error('expected a BinlogDecodeError');
}

describe('EventSplitter', () => {
  const bytes = sampleFile();
  const expected = [...readBinlogFile(bytes)].map((e) => ({
    position: e.position,
    size: e.event.header.eventSize,
  }));

  it.each([[[1]], [[2, 3, 5]], [[19]], [[4096]], [[65_536]], [[bytes.length]], [[7, 100_000, 1]]])(
    'yields the same events as readBinlogFile for chunk sizes %j',
    (sizes) => {
      const got = split(bytes, sizes);
      expect(got.map((e) => ({ position: e.position, size: e.bytes.length }))).toEqual(expected);
      for (const e of got)
        expect(e.bytes.equals(bytes.subarray(e.position, e.position + e.bytes.length))).toBe(true);
    },
  );

  it('hands out an event inside one chunk without copying it', () => {
    const s = new EventSplitter();
    s.push(bytes);
    s.next();
    const ev = s.next();
    expect(ev?.bytes.buffer).toBe(bytes.buffer);
  });

  it('starts at a given position without a magic', () => {
    const second = expected[1];
    if (!second) throw new Error('sample too short');
    const got = split(bytes.subarray(second.position), [1000], { startPosition: second.position });
    expect(got.map((e) => e.position)).toEqual(expected.slice(1).map((e) => e.position));
  });

  it('BAD_MAGIC, TRUNCATED and BAD_EVENT_LENGTH with file and position', () => {
    const bad = Buffer.from(bytes);
    bad[0] = 0;
    expect(catchError(() => split(bad, [100]))).toMatchObject({
      code: 'BAD_MAGIC',
      position: 0,
      file: 'f.000001',
    });
    expect(catchError(() => split(bytes.subarray(0, 2), [100])).code).toBe('BAD_MAGIC');

    const last = expected.at(-1);
    if (!last) throw new Error('sample too short');
    const cut = catchError(() => split(bytes.subarray(0, last.position + 10), [100]));
    expect(cut).toMatchObject({ code: 'TRUNCATED', position: last.position, file: 'f.000001' });
    expect(cut.message).toContain('10 bytes left');
    const short = catchError(() => split(bytes.subarray(0, last.position + 100), [100]));
    expect(short).toMatchObject({ code: 'TRUNCATED', position: last.position, typeCode: 2 });
    expect(short.message).toContain(`event_size ${last.size} but only 100 bytes left`);

    const tiny = Buffer.from(bytes);
    tiny.writeUInt32LE(18, 4 + 9);
    expect(catchError(() => split(tiny, [100]))).toMatchObject({ code: 'BAD_EVENT_LENGTH', position: 4 });
  });

  it('refuses an event_size above the limit before buffering it', () => {
    const second = expected[1]?.position ?? 0;
    const s = new EventSplitter({ maxEventSize: 1000 });
    s.push(bytes.subarray(0, second));
    expect(s.next()?.position).toBe(4);
    const big = Buffer.from(bytes.subarray(second));
    big.writeUInt32LE(5_000_000, 9);
    s.push(big.subarray(0, 19));
    const e = catchError(() => s.next());
    expect(e).toMatchObject({ code: 'BAD_EVENT_LENGTH' });
    expect(e.message).toContain('exceeds the 1000-byte limit');
  });
});
