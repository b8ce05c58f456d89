/**
 * Keeps the outbox (and carrier) tables small: deletes rows older than a given age, in bounded batches
 * with a pause between them, so neither the primary nor replication sees one huge DELETE.
 *
 * Any age is safe for correctness: an outbox row has done its work once its INSERT is in the binlog, and
 * the tailer ignores the DELETE_ROWS events the cleanup produces. The age only keeps recent rows around
 * for an operator to look at. Run it against the primary (it replicates like any write).
 *
 * A batch is two statements: find the id of the batch's last row (scanning the primary key from the
 * oldest), then `DELETE … WHERE id <= that AND <old>`: a primary-key range, deterministic, so it is
 * safe under STATEMENT binlog format too (unlike DELETE … LIMIT).
 */
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { InvalidationError } from './errors.js';
import { DEFAULT_CARRIER_TABLE, DEFAULT_OUTBOX_TABLE, tableName } from './schema.js';

export interface CleanupOptions {
  /** Delete rows older than this many seconds (server clock). */
  olderThanSeconds: number;
  /** Rows per DELETE (default 1,000). */
  batchRows?: number;
  /** Stop after this many batches (default: until done). */
  maxBatches?: number;
  /** Pause between batches (default 20 ms), so replicas keep up. */
  pauseMs?: number;
  signal?: AbortSignal;
}

export interface CleanupResult {
  table: string;
  deleted: number;
  batches: number;
  /** True when it stopped at maxBatches (or the signal) with old rows left. */
  truncated: boolean;
}

interface TableShape {
  id: string;
  time: string;
}

const OUTBOX: TableShape = { id: 'id', time: 'created_at' };
const CARRIER: TableShape = { id: 'conn_id', time: 'updated_at' };

export function cleanupOutbox(
  conn: Connection,
  opts: CleanupOptions & { table?: string },
): Promise<CleanupResult> {
  return cleanup(conn, opts.table ?? DEFAULT_OUTBOX_TABLE, OUTBOX, opts);
}

/** Carrier rows of connections that have not written for a while (one row per connection id ever used). */
export function cleanupCarrier(
  conn: Connection,
  opts: CleanupOptions & { table?: string },
): Promise<CleanupResult> {
  return cleanup(conn, opts.table ?? DEFAULT_CARRIER_TABLE, CARRIER, opts);
}

async function cleanup(
  conn: Connection,
  name: string,
  shape: TableShape,
  opts: CleanupOptions,
): Promise<CleanupResult> {
  const table = tableName(name);
  const batchRows = opts.batchRows ?? 1_000;
  const maxBatches = opts.maxBatches ?? Infinity;
  if (!Number.isSafeInteger(batchRows) || batchRows < 1) {
    throw new InvalidationError(
      'INVALIDATION_USAGE',
      `batch size must be a positive integer, got ${batchRows}`,
    );
  }
  if (!Number.isFinite(opts.olderThanSeconds) || opts.olderThanSeconds < 0) {
    throw new InvalidationError(
      'INVALIDATION_USAGE',
      `age must be >= 0 seconds, got ${opts.olderThanSeconds}`,
    );
  }
  // One cutoff for the whole run, from the server's clock (the rows' times are the server's too).
  // UNIX_TIMESTAMP of a TIMESTAMP column does not depend on the session time zone.
  const [now] = await conn.query<RowDataPacket[]>('SELECT UNIX_TIMESTAMP(NOW(3)) AS now');
  const cutoff = Number(now[0]?.now) - opts.olderThanSeconds;
  const old = `UNIX_TIMESTAMP(${shape.time}) < ?`;
  const result: CleanupResult = { table: name, deleted: 0, batches: 0, truncated: false };
  for (;;) {
    if (result.batches >= maxBatches || opts.signal?.aborted) {
      result.truncated = true;
      return result;
    }
    const [last] = await conn.query<RowDataPacket[]>(
      `SELECT MAX(${shape.id}) AS upto, COUNT(*) AS n FROM ` +
        `(SELECT ${shape.id} FROM ${table.sql} WHERE ${old} ORDER BY ${shape.id} LIMIT ?) AS batch`,
      [cutoff, batchRows],
    );
    const n = Number(last[0]?.n ?? 0);
    if (n === 0) return result;
    const [del] = await conn.query<ResultSetHeader>(
      `DELETE FROM ${table.sql} WHERE ${shape.id} <= ? AND ${old}`,
      [String(last[0]?.upto), cutoff],
    );
    result.deleted += del.affectedRows;
    result.batches++;
    if (n < batchRows) return result;
    if ((opts.pauseMs ?? 20) > 0) await new Promise((r) => setTimeout(r, opts.pauseMs ?? 20));
  }
}
