/**
 * The GTID the primary gave a write, for the edge's position mode (`x-cachetail-gtid`, docs/edge.md §3):
 *  - MariaDB: `@@last_gtid` on the same connection, after the commit (`0-1-57`);
 *  - MySQL: the server reports the transaction's own GTID in the OK packet of the committing statement
 *    once `session_track_gtids = OWN_GTID` is set on the session (`uuid:57`, or `uuid:tag:57` for a
 *    tagged one); mysql2 exposes it as `stateChanges.gtids` on the statement's result.
 *
 * `trackWriteGtids(conn)` once per connection (a no-op on MariaDB), then `lastWriteGtid(conn, result)`
 * with the result of the COMMIT (or of an autocommit statement).
 */
import type { Connection, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';

type Queryable = Pick<Connection | PoolConnection, 'query'>;
export type ServerFlavor = 'mariadb' | 'mysql';

const flavors = new WeakMap<object, ServerFlavor>();
/** Sessions (core connections) that were told to track their GTIDs. */
const tracking = new WeakSet<object>();

/**
 * The session behind a promise connection: mysql2's pool hands out a new PoolConnection wrapper on every
 * getConnection() around the same core connection, and what is remembered belongs to the session.
 */
function session(conn: Queryable): object {
  const core = (conn as { connection?: unknown }).connection;
  return typeof core === 'object' && core !== null ? core : conn;
}

/** MariaDB or MySQL, asked once per connection. */
export async function serverFlavor(conn: Queryable): Promise<ServerFlavor> {
  const known = flavors.get(session(conn));
  if (known) return known;
  const [rows] = await conn.query<RowDataPacket[]>('SELECT VERSION() AS v');
  const flavor: ServerFlavor = /mariadb/i.test(String(rows[0]?.v)) ? 'mariadb' : 'mysql';
  flavors.set(session(conn), flavor);
  return flavor;
}

/**
 * MySQL: make the server report each transaction's GTID to this session (sent once per session; a
 * session reset by changeUser or COM_RESET_CONNECTION forgets it, and lastWriteGtid then says '').
 * MariaDB needs nothing.
 */
export async function trackWriteGtids(conn: Queryable): Promise<void> {
  if (tracking.has(session(conn))) return;
  if ((await serverFlavor(conn)) === 'mysql') await conn.query('SET SESSION session_track_gtids = OWN_GTID');
  tracking.add(session(conn));
}

/**
 * The GTID of the transaction the connection committed last, or '' when it has none (nothing was
 * written, or on MySQL the session did not track GTIDs: call trackWriteGtids first). `result` is what
 * the committing statement returned; MySQL reports the GTID only there.
 */
export async function lastWriteGtid(conn: Queryable, result?: unknown): Promise<string> {
  if ((await serverFlavor(conn)) === 'mariadb') {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT @@last_gtid AS g');
    return String(rows[0]?.g ?? '');
  }
  return trackedGtids(result);
}

/** The GTIDs in a MySQL OK packet's session-state changes (mysql2 `stateChanges.gtids`), joined. */
export function trackedGtids(result: unknown): string {
  const header = (Array.isArray(result) ? result[0] : result) as
    (ResultSetHeader & { stateChanges?: { gtids?: string[] } }) | undefined;
  const gtids = header?.stateChanges?.gtids ?? [];
  return gtids.filter((g) => g.trim() !== '').join(',');
}
