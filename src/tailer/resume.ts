/**
 * Where to start reading: from the checkpoint when there is one, else from the configured start.
 *
 * Resume prefers GTIDs: they are global across the topology, so a resume by GTID finds its place on
 * another replica of the same primary or after RESET MASTER (which silently reuses file names and
 * positions) — as long as the replica's binlog still holds what follows it, which ./history.ts checks
 * before every resume by GTID (nothing skipped, or a gap saying which transactions are gone). MariaDB
 * resumes from its GTID position; MySQL from its GTID set, which the tailer only keeps once it is complete — every transaction before
 * the position, as @@gtid_executed or a file's PREVIOUS_GTIDS give it — because the server sends every
 * transaction *not* in the set. A file/position is only trusted on the server that wrote it. With
 * neither usable, it is a gap: the caller applies the configured gap policy, never continues silently.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { CachetailError } from '../errors.js';
import type { ReplicationConnection, StartPosition } from '../replication/client.js';
import { atLeast, binlogStatusStatement } from '../replication/preflight-sql.js';
import type { Checkpoint, ServerIdentity } from './checkpoint.js';
import { checkGtidHistory } from './history.js';

export interface ResolvedStart {
  start: StartPosition;
  /** GTID state before the first event read (null when unknown). */
  gtid: string | null;
  /** The file/position the stream starts at, when known before the first ROTATE. */
  file: string;
  position: number;
  why: string;
}

export async function readIdentity(conn: ReplicationConnection, address: string): Promise<ServerIdentity> {
  if (conn.flavor === 'mysql') {
    const [row] = await conn.query<RowDataPacket[]>('SELECT @@server_id AS id, @@server_uuid AS uuid');
    return { flavor: 'mysql', serverId: Number(row?.id), serverUuid: String(row?.uuid), address };
  }
  const [row] = await conn.query<RowDataPacket[]>('SELECT @@server_id AS id');
  return { flavor: 'mariadb', serverId: Number(row?.id), address };
}

export function sameServer(a: ServerIdentity, b: ServerIdentity): boolean {
  if (a.flavor !== b.flavor || a.serverId !== b.serverId) return false;
  return a.flavor === 'mysql' ? a.serverUuid === b.serverUuid : a.address === b.address;
}

/**
 * The binlog end now, with the GTID state there (MariaDB @@gtid_binlog_pos; MySQL @@gtid_executed,
 * complete by definition). The state is read first: if the binlog moves between the two reads, the
 * state lags the position and a resume by GTID re-reads (re-deletes) a little — never skips.
 */
export async function currentEnd(conn: ReplicationConnection): Promise<ResolvedStart> {
  let gtid: string | null = null;
  if (conn.flavor === 'mariadb') {
    const [g] = await conn.query<RowDataPacket[]>('SELECT @@global.gtid_binlog_pos AS g');
    gtid = String(g?.g ?? '');
  } else {
    const [g] = await conn.query<RowDataPacket[]>('SELECT @@global.gtid_executed AS g');
    gtid = String(g?.g ?? '').replace(/\s+/g, '');
  }
  // MySQL 8.4 removed SHOW MASTER STATUS (SHOW BINARY LOG STATUS since 8.2).
  const statement = binlogStatusStatement(conn);
  const [row] = await conn.query<RowDataPacket[]>(statement);
  if (!row) {
    throw new CachetailError(
      'BINLOG_DISABLED',
      `the replica has no binary log (${statement} is empty): enable log_bin and ${relogSetting(conn)}=ON`,
    );
  }
  const file = String(row.File);
  const position = Number(row.Position);
  return { start: { kind: 'file', file, position }, gtid, file, position, why: 'current end of the binlog' };
}

/** The setting that makes a replica write what it applies to its own binlog, by the server's name for it. */
function relogSetting(conn: ReplicationConnection): string {
  if (conn.flavor === 'mariadb') return 'log_slave_updates';
  return atLeast(conn.serverVersion, [8, 0, 26]) ? 'log_replica_updates' : 'log_slave_updates';
}

/**
 * A resume point from a position we read before (checkpoint or the last whole transaction). `p.gtid` is
 * the MariaDB GTID position or the *complete* MySQL GTID set there (the tailer keeps none until it is
 * complete), or null. An empty one is not used: on MySQL it would ask for the whole binlog history.
 */
export function resumeFrom(
  flavor: ServerIdentity['flavor'],
  p: { gtid: string | null; file: string; position: number },
  sameServerAsBefore: boolean,
): ResolvedStart {
  if (p.gtid !== null && p.gtid !== '') {
    const what = flavor === 'mariadb' ? 'GTID state' : 'GTID set';
    return {
      start: { kind: 'gtid', gtid: p.gtid },
      gtid: p.gtid,
      file: sameServerAsBefore ? p.file : '',
      position: sameServerAsBefore ? p.position : 0,
      why: sameServerAsBefore ? what : `${what} (the server identity changed)`,
    };
  }
  if (sameServerAsBefore && p.file !== '') {
    return {
      start: { kind: 'file', file: p.file, position: p.position },
      gtid: p.gtid,
      file: p.file,
      position: p.position,
      why: 'file/position',
    };
  }
  throw new CachetailError(
    'GAP_IDENTITY_CHANGED',
    'the replica is not the server the last position belongs to, and there is no usable GTID state to ' +
      'resume from: transactions in between cannot be found',
  );
}

export async function resolveInitialStart(
  conn: ReplicationConnection,
  identity: ServerIdentity,
  checkpoint: Checkpoint | null,
  configured: StartPosition | { kind: 'current' },
): Promise<ResolvedStart> {
  if (checkpoint) {
    const r = resumeFrom(identity.flavor, checkpoint, sameServer(checkpoint.server, identity));
    if (r.start.kind === 'gtid') await checkGtidHistory(conn, r.start.gtid);
    return { ...r, why: `checkpoint (${r.why})` };
  }
  if (configured.kind === 'current') return currentEnd(conn);
  if (configured.kind === 'gtid') {
    return { start: configured, gtid: configured.gtid, file: '', position: 0, why: 'configured GTID' };
  }
  return {
    start: configured,
    gtid: null,
    file: configured.file,
    position: configured.position,
    why: 'configured file/position',
  };
}
