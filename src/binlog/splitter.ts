/**
 * Splits a binlog file that arrives in chunks of any size (a file read stream, stdin, gunzip output)
 * into whole events, so a multi-GB file is decoded with memory bounded by the largest event rather
 * than by the file. Pure: the caller reads the bytes and feeds them in.
 *
 * Framing is the file format's own: the 4-byte magic fe 62 69 6e (unless the caller starts past it),
 * then events back to back, each announcing its size in the common header (`event_size` at offset 9).
 * Errors are the ones `readBinlogFile` raises for the same bytes, with the same file/position.
 */
import { BINLOG_MAGIC, EVENT_HEADER_LENGTH } from './constants.js';
import { BinlogDecodeError } from './errors.js';

export interface EventSplitterOptions {
  /** Binlog file name for error messages. */
  file?: string;
  /**
   * Offset in the file of the first byte that will be pushed (default 0: the magic is expected). A
   * caller that seeks to an event boundary passes that offset; positions then count from it.
   */
  startPosition?: number;
  /**
   * Largest event accepted (default 1 GiB, the servers' max_allowed_packet ceiling). A corrupt
   * event_size would otherwise make the splitter buffer the rest of a huge file before failing.
   */
  maxEventSize?: number;
}

/** One whole event: header + body + checksum, and the offset of its first byte in the file. */
export interface SplitEvent {
  position: number;
  bytes: Buffer;
}

const DEFAULT_MAX_EVENT_SIZE = 1 << 30;

export class EventSplitter {
  private readonly file: string | undefined;
  private readonly maxEventSize: number;
  /** Pushed chunks not yet handed out; the first one is consumed from `head`. */
  private chunks: Buffer[] = [];
  private head = 0;
  private available = 0;
  private offset: number;
  private magicChecked: boolean;

  constructor(opts: EventSplitterOptions = {}) {
    this.file = opts.file;
    this.offset = opts.startPosition ?? 0;
    this.magicChecked = this.offset !== 0;
    this.maxEventSize = opts.maxEventSize ?? DEFAULT_MAX_EVENT_SIZE;
  }

  /** File offset of the next event (or of the magic, before it was read). */
  get position(): number {
    return this.offset;
  }

  /** Bytes pushed and not yet returned as events. */
  get buffered(): number {
    return this.available;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.available += chunk.length;
  }

  /** The next whole event, or undefined until more bytes are pushed. */
  next(): SplitEvent | undefined {
    if (!this.magicChecked) {
      if (this.available < BINLOG_MAGIC.length) return undefined;
      if (!this.take(BINLOG_MAGIC.length).equals(BINLOG_MAGIC)) {
        throw new BinlogDecodeError('BAD_MAGIC', `file does not start with fe 62 69 6e`, {
          file: this.file,
          position: 0,
        });
      }
      this.offset = BINLOG_MAGIC.length;
      this.magicChecked = true;
    }
    if (this.available < EVENT_HEADER_LENGTH) return undefined;
    // The header is read in place when the first chunk holds it (almost always): no view per event.
    const first = this.chunks[0];
    const inFirst = first.length - this.head >= EVENT_HEADER_LENGTH;
    const size = inFirst ? first.readUInt32LE(this.head + 9) : this.peek(EVENT_HEADER_LENGTH).readUInt32LE(9);
    if (size < EVENT_HEADER_LENGTH || size > this.maxEventSize) {
      const typeCode = this.peek(EVENT_HEADER_LENGTH)[4];
      const ctx = { file: this.file, position: this.offset, typeCode };
      if (size < EVENT_HEADER_LENGTH) {
        throw new BinlogDecodeError('BAD_EVENT_LENGTH', `event_size ${size} < 19`, ctx);
      }
      throw new BinlogDecodeError(
        'BAD_EVENT_LENGTH',
        `event_size ${size} exceeds the ${this.maxEventSize}-byte limit`,
        ctx,
      );
    }
    if (this.available < size) return undefined;
    const position = this.offset;
    const bytes = this.take(size);
    this.offset += size;
    return { position, bytes };
  }

  /** Call when the input ended: bytes left over are a truncated event (or a truncated magic). */
  finish(): void {
    if (!this.magicChecked) {
      throw new BinlogDecodeError('BAD_MAGIC', `file does not start with fe 62 69 6e`, {
        file: this.file,
        position: 0,
      });
    }
    const left = this.available;
    if (left === 0) return;
    if (left < EVENT_HEADER_LENGTH) {
      throw new BinlogDecodeError('TRUNCATED', `${left} bytes left, less than an event header`, {
        file: this.file,
        position: this.offset,
      });
    }
    const header = this.peek(EVENT_HEADER_LENGTH);
    throw new BinlogDecodeError(
      'TRUNCATED',
      `event_size ${header.readUInt32LE(9)} but only ${left} bytes left in the file`,
      { file: this.file, position: this.offset, typeCode: header[4] },
    );
  }

  /** The first n buffered bytes without consuming them (n ≤ available). */
  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    return this.copy(n, false);
  }

  /**
   * Consumes n bytes (n ≤ available). An event inside one chunk is a subarray of it (no copy); one that
   * spans chunks is copied once into a buffer of exactly its size.
   */
  private take(n: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.consume(n);
      return out;
    }
    return this.copy(n, true);
  }

  private copy(n: number, consume: boolean): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let head = this.head;
    for (const chunk of this.chunks) {
      const part = Math.min(chunk.length - head, n - filled);
      chunk.copy(out, filled, head, head + part);
      filled += part;
      head = 0;
      if (filled === n) break;
    }
    if (consume) this.consume(n);
    return out;
  }

  private consume(n: number): void {
    this.available -= n;
    let left = n;
    let drop = 0;
    for (const chunk of this.chunks) {
      const inChunk = chunk.length - this.head;
      if (inChunk > left) {
        this.head += left;
        break;
      }
      left -= inChunk;
      this.head = 0;
      drop++;
      if (left === 0) break;
    }
    // One splice, not a shift per chunk: a large event can span thousands of chunks.
    if (drop > 0) this.chunks.splice(0, drop);
  }
}
