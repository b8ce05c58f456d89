/**
 * Keys of a transaction too large to hold in memory. Past a threshold the assembler moves the open
 * transaction's keys into an append-only file and keeps appending there; after the commit the
 * delivery queue reads them back in batches. Memory stays bounded whatever the transaction size.
 *
 * One key per line: valid keys never contain a newline (no byte <= 0x20, see src/annotate). Keys are
 * not de-duplicated once spilled (that would need them in memory): a repeated key is deleted twice.
 * Writes are synchronous because the assembler is; this path only runs for huge transactions.
 */
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

const WRITE_CHUNK = 64 * 1024;

export class KeySpill {
  private fd: number | null;
  private pending: string[] = [];
  private pendingBytes = 0;
  count = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w', 0o600);
  }

  append(key: string): void {
    this.pending.push(key);
    this.pendingBytes += key.length + 1;
    this.count++;
    if (this.pendingBytes >= WRITE_CHUNK) this.flush();
  }

  /** No more keys: flush and close the file for writing. */
  seal(): void {
    this.flush();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** The keys in order, `batch` at a time. */
  async *batches(batch: number): AsyncGenerator<string[]> {
    const fh = await open(this.path, 'r');
    try {
      let carry = '';
      let out: string[] = [];
      for await (const chunk of fh.readableWebStream() as AsyncIterable<Uint8Array>) {
        const text = carry + Buffer.from(chunk).toString('utf8');
        const lines = text.split('\n');
        carry = lines.pop() ?? '';
        for (const line of lines) {
          out.push(line);
          if (out.length >= batch) {
            yield out;
            out = [];
          }
        }
      }
      if (carry !== '') out.push(carry);
      if (out.length > 0) yield out;
    } finally {
      await fh.close();
    }
  }

  discard(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
    rmSync(this.path, { force: true });
  }

  private flush(): void {
    if (this.fd === null || this.pending.length === 0) return;
    writeSync(this.fd, `${this.pending.join('\n')}\n`);
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/** Creates spill files in `dir`, removing those a crashed process left behind (they are re-read). */
export function spillFactory(dir: string): () => KeySpill {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) if (name.endsWith('.keys')) rmSync(join(dir, name), { force: true });
  let n = 0;
  return () => new KeySpill(join(dir, `${process.pid}-${Date.now()}-${n++}.keys`));
}
