/**
 * Reads a server's binlog through a live COM_BINLOG_DUMP (our ReplicationConnection, as the tailer
 * does) from a file and position until a given file ends, and returns every event the server sent with
 * where it came from. Events the server makes up for the stream (the fake ROTATE that names each file,
 * flagged ARTIFICIAL with log_pos 0) are returned separately: they are in no file.
 *
 * Where an event starts is counted from the fake ROTATE's position plus the sizes of the events since,
 * not taken from the header's log_pos: MariaDB 11.4+ writes log_pos 0 for the events inside a
 * transaction group (notes/binlog-protocol.md pitfall 9). A non-zero log_pos must agree with the count.
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
      // The file and offset of the next event, set by each fake ROTATE.
      let file = '';
      let offset = 0;
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
              const madeUp =
                (h.flags & EventFlag.ARTIFICIAL) !== 0 ||
                (h.nextPosition === 0 && (event.kind === 'rotate' || event.kind === 'heartbeat'));
              if (madeUp) {
                result.artificial.push(event);
                if (event.kind === 'rotate') {
                  file = event.nextFile;
                  offset = event.position;
                }
                return;
              }
              const position = offset;
              offset += h.eventSize;
              if (h.nextPosition !== 0 && h.nextPosition !== offset) {
                finish(
                  new Error(
                    `${file}:${position} ${event.kind}: log_pos ${h.nextPosition}, counted ${offset}`,
                  ),
                );
                return;
              }
              result.events.push({ file, position, bytes, event });
              if (file === last.file && offset === last.size) finish();
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
