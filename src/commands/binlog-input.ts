/**
 * Reads a binlog file (or stdin) as a stream of whole events for `cachetail binlog`, in chunks: memory
 * stays bounded by the largest event, whatever the file size. Gzipped input (a fixture is) is recognised
 * by its magic bytes, not its name, so `zcat`-less stdin works too.
 *
 * With a start position on a plain file we seek, like mariadb-binlog: the FORMAT_DESCRIPTION at offset 4
 * is read first (it decides checksums and post-header lengths for every later event), then reading jumps
 * to the start position. Gzip streams and stdin cannot seek; they are read from the beginning.
 */
import { open } from 'node:fs/promises';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BINLOG_MAGIC, EVENT_HEADER_LENGTH } from '../binlog/constants.js';
import { BinlogDecodeError } from '../binlog/errors.js';
import { EventSplitter, type SplitEvent } from '../binlog/splitter.js';

const CHUNK_SIZE = 1 << 20;

export interface BinlogInputOptions {
  /** Display name for errors (the path as given, or `-`). */
  name: string;
  /** The first event to read is at or after this offset (a hint: events before it may still be yielded). */
  startPosition?: number;
}

/** Whole events of a file path, or of `stdin` when path is `-`. */
export async function* readBinlogEvents(
  path: string,
  opts: BinlogInputOptions,
  stdin: Readable,
): AsyncGenerator<SplitEvent, void, undefined> {
  const start = opts.startPosition ?? 0;
  if (path !== '-' && start > BINLOG_MAGIC.length) {
    const seeked = await seekable(path, opts.name, start);
    if (seeked) {
      yield* seeked;
      return;
    }
  }
  const source = path === '-' ? stdin : (await open(path)).createReadStream({ highWaterMark: CHUNK_SIZE });
  yield* splitAll(maybeGunzip(source), new EventSplitter({ file: opts.name }));
}

async function* splitAll(
  chunks: AsyncIterable<Buffer>,
  splitter: EventSplitter,
): AsyncGenerator<SplitEvent, void, undefined> {
  for await (const chunk of chunks) {
    splitter.push(chunk);
    for (let ev = splitter.next(); ev !== undefined; ev = splitter.next()) yield ev;
  }
  splitter.finish();
}

/**
 * The events of a plain (not gzipped) file from `start`, after its FORMAT_DESCRIPTION; undefined when
 * the file is gzipped (then it is read from the beginning).
 */
async function seekable(
  path: string,
  name: string,
  start: number,
): Promise<AsyncGenerator<SplitEvent, void, undefined> | undefined> {
  const fh = await open(path);
  try {
    const head = Buffer.alloc(BINLOG_MAGIC.length + EVENT_HEADER_LENGTH);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
      await fh.close();
      return undefined;
    }
    if (bytesRead < BINLOG_MAGIC.length || !head.subarray(0, 4).equals(BINLOG_MAGIC)) {
      throw new BinlogDecodeError('BAD_MAGIC', 'file does not start with fe 62 69 6e', {
        file: name,
        position: 0,
      });
    }
    if (bytesRead < head.length) {
      throw new BinlogDecodeError('TRUNCATED', 'no whole event header at position 4', {
        file: name,
        position: 4,
      });
    }
    const fdeSize = head.readUInt32LE(BINLOG_MAGIC.length + 9);
    const fde = Buffer.alloc(Math.max(fdeSize, 0));
    if (fdeSize < EVENT_HEADER_LENGTH || (await fh.read(fde, 0, fdeSize, 4)).bytesRead < fdeSize) {
      throw new BinlogDecodeError('TRUNCATED', `first event (event_size ${fdeSize}) is not whole`, {
        file: name,
        position: 4,
        typeCode: head[4 + 4],
      });
    }
    const from = Math.max(start, 4 + fdeSize);
    const events = async function* (): AsyncGenerator<SplitEvent, void, undefined> {
      try {
        yield { position: 4, bytes: fde };
        const stream = fh.createReadStream({ start: from, highWaterMark: CHUNK_SIZE, autoClose: false });
        yield* splitAll(stream, new EventSplitter({ file: name, startPosition: from }));
      } finally {
        await fh.close();
      }
    };
    return events();
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/** The bytes of `source`, gunzipped when they start with the gzip magic 1f 8b. */
async function* maybeGunzip(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer, void, undefined> {
  const it = source[Symbol.asyncIterator]();
  const next = async (): Promise<Buffer | undefined> => {
    const r = await it.next();
    if (r.done === true) return undefined;
    return Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
  };
  try {
    // Enough bytes to see the magic (a pipe may deliver a single byte first).
    const head: Buffer[] = [];
    let headLength = 0;
    let done = false;
    while (headLength < 2 && !done) {
      const chunk = await next();
      if (chunk === undefined) done = true;
      else {
        head.push(chunk);
        headLength += chunk.length;
      }
    }
    const first = Buffer.concat(head);
    const rest = async function* (): AsyncGenerator<Buffer, void, undefined> {
      if (first.length > 0) yield first;
      for (let chunk = done ? undefined : await next(); chunk !== undefined; chunk = await next())
        yield chunk;
    };
    if (!(first[0] === 0x1f && first[1] === 0x8b)) {
      yield* rest();
      return;
    }
    const gunzip = createGunzip({ chunkSize: 64 * 1024 });
    // pipeline forwards a source error into gunzip, whose iterator then throws it here.
    pipeline(Readable.from(rest()), gunzip, () => undefined);
    for await (const chunk of gunzip) yield chunk as Buffer;
  } finally {
    // Stopping early (--stop-position, a decode error) must release the file handle now, not at GC.
    await it.return?.();
  }
}
