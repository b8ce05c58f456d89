import { BINLOG_MAGIC, EVENT_HEADER_LENGTH } from './constants.js';
import { BinlogDecoder, type BinlogDecoderOptions } from './decoder.js';
import { BinlogDecodeError } from './errors.js';
import type { BinlogEvent } from './events/types.js';

export interface ReadBinlogFileOptions extends BinlogDecoderOptions {
  /** Decoder to use (to read its table maps afterwards, or to continue a stream); a new one otherwise. */
  decoder?: BinlogDecoder;
}

export interface PositionedEvent {
  /** Offset of the event's first byte in the file. */
  position: number;
  event: BinlogEvent;
}

/**
 * Reads a whole binlog file held in memory: the 4-byte magic fe 62 69 6e, then events back to back.
 * Yields lazily; a truncated tail throws TRUNCATED after the last whole event was yielded.
 */
export function* readBinlogFile(
  bytes: Buffer,
  opts: ReadBinlogFileOptions = {},
): Generator<PositionedEvent, void, undefined> {
  const decoder = opts.decoder ?? new BinlogDecoder(opts);
  const file = opts.file;
  if (bytes.length < BINLOG_MAGIC.length || !bytes.subarray(0, 4).equals(BINLOG_MAGIC)) {
    throw new BinlogDecodeError('BAD_MAGIC', `file does not start with fe 62 69 6e`, { file, position: 0 });
  }
  let position = BINLOG_MAGIC.length;
  while (position < bytes.length) {
    const left = bytes.length - position;
    if (left < EVENT_HEADER_LENGTH) {
      throw new BinlogDecodeError('TRUNCATED', `${left} bytes left, less than an event header`, {
        file,
        position,
      });
    }
    const size = bytes.readUInt32LE(position + 9);
    if (size < EVENT_HEADER_LENGTH) {
      throw new BinlogDecodeError('BAD_EVENT_LENGTH', `event_size ${size} < 19`, {
        file,
        position,
        typeCode: bytes[position + 4],
      });
    }
    if (size > left) {
      throw new BinlogDecodeError('TRUNCATED', `event_size ${size} but only ${left} bytes left in the file`, {
        file,
        position,
        typeCode: bytes[position + 4],
      });
    }
    let event: BinlogEvent;
    try {
      event = decoder.decode(bytes.subarray(position, position + size), position);
    } catch (err) {
      // The decoder follows ROTATE events (in a relay log they name the master's files); errors here
      // are about this physical file.
      if (err instanceof BinlogDecodeError) {
        throw new BinlogDecodeError(err.code, err.detail, { file, position, typeCode: err.typeCode });
      }
      throw err;
    }
    yield { position, event };
    position += size;
  }
}
