/**
 * Line output for `cachetail binlog` that respects backpressure: a multi-GB binlog prints more than
 * any pipe buffers, and writing without waiting for 'drain' would hold all of it in memory. Lines are
 * batched into one write per ~64 KB. A reader that goes away (`| head`) ends the run quietly.
 */
import type { Writable } from 'node:stream';

const BATCH_CHARS = 64 * 1024;

export class LineOutput {
  private pending: string[] = [];
  private pendingChars = 0;
  private gone = false;
  private readonly onError = (err: NodeJS.ErrnoException): void => {
    // EPIPE (and any other write error): nobody reads any more; stop producing instead of crashing.
    this.gone = true;
    this.failure = err;
  };
  failure: Error | undefined;

  constructor(private readonly stream: Writable) {
    stream.on('error', this.onError);
  }

  /** True once the reader went away; callers stop decoding. */
  get closed(): boolean {
    return this.gone;
  }

  async line(text: string): Promise<void> {
    this.pending.push(text);
    this.pendingChars += text.length;
    if (this.pendingChars >= BATCH_CHARS) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const data = `${this.pending.join('\n')}\n`;
    this.pending = [];
    this.pendingChars = 0;
    if (this.gone) return;
    if (!this.stream.write(data)) await drained(this.stream);
  }

  /** Flushes and detaches from the stream. */
  async close(): Promise<void> {
    await this.flush();
    this.stream.off('error', this.onError);
  }
}

function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}
