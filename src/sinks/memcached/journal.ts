/**
 * A down server's pending invalidations, on disk, one append-only file per server in the state dir:
 * `<dir>/<encodeURIComponent(host:port)>.journal`. An append resolves only after fdatasync, so a key the
 * sink reported as journaled survives a crash or power loss; the journal is replayed (or its server
 * flushed) before that server is used again, also after a restart.
 *
 * Format (UTF-8 text, one record per line, so a torn last line is recognisable and dropped):
 *   # cachetail memcached journal v1 <host:port>     header, written first
 *   "user:1"                                          a key, as a JSON string (keys may hold any character)
 *   !flush                                            the server must be flushed: keys were dropped after it
 * A line that is none of these makes the journal untrustworthy: it is treated as `!flush` (when unsure,
 * delete everything). Memory use does not grow with the journal: it is read back in chunks.
 */
import { mkdir, open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

const SUFFIX = '.journal';
const FLUSH_LINE = '!flush';
const NEWLINE = 0x0a;
const APPEND_SLICE = 8_192;

export interface JournalChunk {
  keys: string[];
  /** A `!flush` record (or an unreadable line) was in this chunk. */
  flush: boolean;
  /** Lines that were neither header, key nor marker. */
  corrupt: number;
  /** Offset just after the last complete line read. */
  next: number;
}

export function journalPath(dir: string, address: string): string {
  return join(dir, `${encodeURIComponent(address)}${SUFFIX}`);
}

/** Server addresses that have a journal file in `dir` (configured or not). */
export async function listJournals(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.filter((n) => n.endsWith(SUFFIX)).map((n) => decodeURIComponent(n.slice(0, -SUFFIX.length)));
}

export class Journal {
  /** Bytes durably in the file (complete lines only). */
  size = 0;
  /** Appends started and not yet durable; replay may only declare itself caught up when this is 0. */
  pendingAppends = 0;
  /** A `!flush` record is in the file: the server must be flushed before it is used again. */
  flushRequired = false;
  /** Key records written since the file was created (from the scan at open, then counted). */
  keys = 0;
  readonly path: string;
  private handle: FileHandle | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    readonly address: string,
  ) {
    this.path = journalPath(dir, address);
  }

  /** Opens `address`'s journal, scanning an existing file and cutting off a torn last line. */
  static async open(dir: string, address: string, chunkBytes = 1 << 20): Promise<Journal> {
    const journal = new Journal(dir, address);
    let size: number;
    try {
      size = (await stat(journal.path)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return journal;
      throw err;
    }
    journal.size = size;
    let offset = 0;
    while (offset < size) {
      const chunk = await journal.read(offset, chunkBytes);
      if (chunk.next === offset) break; // only a torn line is left
      journal.keys += chunk.keys.length;
      if (chunk.flush) journal.flushRequired = true;
      offset = chunk.next;
    }
    if (offset < size) {
      // The tail after the last newline was being written when the process stopped: that append
      // never completed, so nobody was told those keys were safe.
      const handle = await open(journal.path, 'r+');
      try {
        await handle.truncate(offset);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      journal.size = offset;
    }
    return journal;
  }

  /** Appends keys; resolves once they are on disk. */
  append(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return Promise.resolve();
    return this.write(keys, false);
  }

  /** Records that the server must be flushed before use; resolves once it is on disk. */
  appendFlushMarker(): Promise<void> {
    return this.write([], true);
  }

  /** Complete lines in [offset, min(size, offset + maxBytes)). */
  async read(offset: number, maxBytes: number): Promise<JournalChunk> {
    const length = Math.min(this.size - offset, maxBytes);
    const result: JournalChunk = { keys: [], flush: false, corrupt: 0, next: offset };
    if (length <= 0) return result;
    const handle = await open(this.path, 'r');
    let buf: Buffer;
    try {
      buf = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buf, 0, length, offset);
      buf = buf.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
    const end = buf.lastIndexOf(NEWLINE);
    if (end < 0) return result;
    for (const line of buf.toString('utf8', 0, end).split('\n')) {
      if (line.startsWith('#')) continue;
      if (line === FLUSH_LINE) {
        result.flush = true;
        continue;
      }
      let key: unknown;
      try {
        key = line.startsWith('"') ? JSON.parse(line) : undefined;
      } catch {
        key = undefined;
      }
      if (typeof key === 'string') {
        result.keys.push(key);
      } else {
        result.corrupt++;
        result.flush = true;
      }
    }
    result.next = offset + end + 1;
    return result;
  }

  /** Deletes the file once everything in it was replayed (or flushed); later appends start a new one. */
  reset(): Promise<void> {
    return this.serial(async () => {
      await this.handle?.close();
      this.handle = null;
      await rm(this.path, { force: true });
      this.size = 0;
      this.keys = 0;
      this.flushRequired = false;
    });
  }

  close(): Promise<void> {
    return this.serial(async () => {
      await this.handle?.close();
      this.handle = null;
    });
  }

  /**
   * One append: written in slices (a million-key batch never becomes one giant string), then one
   * fdatasync for all of it. On failure the file is cut back to its last durable size.
   */
  private write(keys: readonly string[], marker: boolean): Promise<void> {
    this.pendingAppends++;
    return this.serial(async () => {
      try {
        const handle = await this.fileHandle();
        let written = 0;
        const put = async (text: string) => {
          const bytes = Buffer.from(text, 'utf8');
          await handle.writeFile(bytes);
          written += bytes.length;
        };
        try {
          if (this.size === 0) await put(`# cachetail memcached journal v1 ${this.address}\n`);
          for (let i = 0; i < keys.length; i += APPEND_SLICE) {
            await put(
              keys
                .slice(i, i + APPEND_SLICE)
                .map((k) => `${JSON.stringify(k)}\n`)
                .join(''),
            );
          }
          if (marker) await put(`${FLUSH_LINE}\n`);
          await handle.datasync();
        } catch (err) {
          await handle.truncate(this.size).catch(() => undefined);
          throw err;
        }
        this.size += written;
        this.keys += keys.length;
        if (marker) this.flushRequired = true;
      } finally {
        this.pendingAppends--;
      }
    });
  }

  private async fileHandle(): Promise<FileHandle> {
    if (this.handle) return this.handle;
    await mkdir(this.dir, { recursive: true });
    const handle = await open(this.path, 'a');
    // A new file's directory entry must be durable too, or a crash could lose the whole file.
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    this.handle = handle;
    return handle;
  }

  /** File operations run one at a time, in call order; one failure does not stop the next. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.chain.then(op, op);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
