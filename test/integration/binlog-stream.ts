/**
 * Reads a server's binlog through a live COM_BINLOG_DUMP (our ReplicationConnection, as the tailer
 * does) from a file and position until a given file ends, and returns every event the server sent with
 * where it came from. Events the server makes up for the stream (the fake ROTATE, flagged ARTIFICIAL or
 * with log_pos 0) are returned separately: they are in no file.
 */
import { EventFlag } from '../../src/binlog/constants.js';
import { BinlogDecoder } from '../../src/binlog/decoder.js';
import type { BinlogEvent } from '../../src/binlog/events/types.js';
import { ReplicationConnection, type ReplicationSource } from '../../src/replication/client.js';

export interface StreamedEvent {
  file: string;
  position: number;
  bytes: Buffer;
  event: BinlogEvent;
}

export interface StreamResult {
  events: StreamedEvent[];
  artificial: BinlogEvent[];
}

export async function dumpUntilEndOf(
  source: ReplicationSource,
  start: { file: string; position: number },
  last: { file: string; size: number },
  timeoutMs: number,
): Promise<StreamResult> {
  const conn = await ReplicationConnection.open(source);
  const decoder = new BinlogDecoder({ checksumBeforeFde: 'detect' });
  const result: StreamResult = { events: [], artificial: [] };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = result.events.at(-1);
        reject(
          new Error(
            `dump did not reach the end of ${last.file} in ${timeoutMs} ms (last: ${at?.file}:${at?.position})`,
          ),
        );
      }, timeoutMs);
      let done = false;
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      conn
        .startDump(
          source,
          { kind: 'file', ...start },
          {
            onEvent: (raw) => {
              if (done) return;
              // The buffer is only valid during the call.
              const bytes = Buffer.from(raw);
              const event = decoder.decode(bytes);
              const h = event.header;
              if ((h.flags & EventFlag.ARTIFICIAL) !== 0 || h.nextPosition === 0) {
                result.artificial.push(event);
                return;
              }
              // After a ROTATE (real or fake) the decoder names the file the next events come from.
              const file = event.kind === 'rotate' ? streamFile(result) : (decoder.file ?? '');
              const position = h.nextPosition - h.eventSize;
              result.events.push({ file, position, bytes, event });
              if (file === last.file && h.nextPosition === last.size) finish();
            },
            onEnd: (err) => finish(err ?? new Error('server ended the dump before the end position')),
          },
        )
        .catch((err: unknown) => finish(err instanceof Error ? err : new Error(String(err))));
    });
  } finally {
    conn.close();
  }
  return result;
}

/** A real ROTATE ends the file the events before it came from. */
function streamFile(result: StreamResult): string {
  const prev = result.events.at(-1);
  if (prev) return prev.file;
  const fake = result.artificial.at(-1);
  return fake?.kind === 'rotate' ? fake.nextFile : '';
}
