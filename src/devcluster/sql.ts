// Client side of the devcluster's database servers, the same for every server line: where a server
// listens, the accounts the cluster creates, and short-lived root connections.
import mysql from 'mysql2/promise';
import type { Connection } from 'mysql2/promise';

export interface ServerEndpoint {
  host: string;
  port: number;
  /** Unix socket path as this host sees it (under the line's root for a chrooted server). */
  socket: string;
  serverId: number;
}

export interface Credentials {
  user: string;
  password: string;
}

/** Admin on both servers: empty password over TCP from 127.0.0.1 (created by the line's bootstrap). */
export const ROOT: Credentials = { user: 'root', password: '' };
/** The replica's IO thread logs in to the primary with this account. */
export const REPLICATION: Credentials = { user: 'repl', password: 'repl' };
/** The tailer's account (grants per flavor: see each driver's `tailerGrants`). */
export const TAILER: Credentials = { user: 'cachetail', password: 'cachetail' };

export async function connect(
  endpoint: ServerEndpoint,
  who: Credentials,
  database?: string,
): Promise<Connection> {
  return mysql.createConnection({
    host: endpoint.host,
    port: endpoint.port,
    user: who.user,
    password: who.password,
    database,
    connectTimeout: 5_000,
    // Tests write several statements at once (e.g. schema setup).
    multipleStatements: true,
  });
}

export async function withConnection<T>(
  endpoint: ServerEndpoint,
  who: Credentials,
  use: (conn: Connection) => Promise<T>,
): Promise<T> {
  const conn = await connect(endpoint, who);
  try {
    return await use(conn);
  } finally {
    await conn.end();
  }
}
