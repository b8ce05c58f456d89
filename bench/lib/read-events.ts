/**
 * Reads a binlog file in chunks through src/binlog's EventSplitter (the streaming splitter behind
 * `cachetail binlog`), so decoding a file of any size holds a few chunks plus the largest event.
 *
 * Every read gets a fresh chunk: the splitter hands out events as views into chunks, and the decoder
 * keeps views into event bytes (its cached TABLE_MAPs), so a chunk must never be overwritten. Chunks
 * are 64 KiB (fs.createReadStream's default): measured on the benchmark files, 256 KiB or 1 MiB chunks
 * (which malloc serves by mmap) made peak RSS grow with the file — 91 → 116-130 MiB from the 32 to the
 * 96 MiB file — while 64 KiB chunks kept it at 59 → 63 MiB, for the same CPU time.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { EventSplitter, type SplitEvent } from '../../src/binlog/splitter.js';

const CHUNK = 64 * 1024;

export function* readEventsChunked(file: string): Generator<SplitEvent, void, undefined> {
  const splitter = new EventSplitter({ file });
  const fd = openSync(file, 'r');
  try {
    for (let position = 0; ;) {
      const chunk = Buffer.allocUnsafeSlow(CHUNK);
      const got = readSync(fd, chunk, 0, CHUNK, position);
      if (got === 0) break;
      position += got;
      splitter.push(got === CHUNK ? chunk : chunk.subarray(0, got));
      for (let ev = splitter.next(); ev !== undefined; ev = splitter.next()) yield ev;
    }
    splitter.finish();
  } finally {
    closeSync(fd);
  }
}
