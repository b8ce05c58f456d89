/**
 * Where to start reading: from the checkpoint when there is one, else from the configured start.
 *
 * Resume prefers the GTID state on MariaDB: GTIDs are global across the topology, so they survive a
 * replica rebuild or RESET MASTER (which silently reuses file names and positions). A file/position is
 * only trusted on the server that wrote it. With neither usable, it is a gap: the caller applies the
 * configured gap policy, never continues silently.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { CachetailError } from '../errors.js';
import type { ReplicationConnection, StartPosition } from '../replication/client.js';
import type { Checkpoint, ServerIdentity } from './checkpoint.js';

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

/** The binlog end now. GTID state is read first: if the binlog moves between the two reads, the
 * state lags the position and a resume by GTID re-reads (re-deletes) a little — never skips. */
export async function currentEnd(conn: ReplicationConnection): Promise<ResolvedStart> {
  let gtid: string | null = null;
  if (conn.flavor === 'mariadb') {
    const [g] = await conn.query<RowDataPacket[]>('SELECT @@global.gtid_binlog_pos AS g');
    gtid = String(g?.g ?? '');
  } else {
    const [g] = await conn.query<RowDataPacket[]>('SELECT @@global.gtid_executed AS g');
    gtid = String(g?.g ?? '').replace(/\s+/g, '');
  }
  const [row] = await conn.query<RowDataPacket[]>('SHOW MASTER STATUS');
  if (!row) {
    throw new CachetailError(
      'BINLOG_DISABLED',
      'the replica has no binary log (SHOW MASTER STATUS is empty): enable log_bin and log_slave_updates=ON',
      { retryable: false },
    );
  }
  const file = String(row.File);
  const position = Number(row.Position);
  return { start: { kind: 'file', file, position }, gtid, file, position, why: 'current end of the binlog' };
}

/** A resume point from a position we read before (checkpoint or the last whole transaction). */
export function resumeFrom(
  flavor: ServerIdentity['flavor'],
  p: { gtid: string | null; file: string; position: number },
  sameServerAsBefore: boolean,
): ResolvedStart {
  if (flavor === 'mariadb' && p.gtid !== null && p.gtid !== '') {
    return {
      start: { kind: 'gtid', gtid: p.gtid },
      gtid: p.gtid,
      file: sameServerAsBefore ? p.file : '',
      position: sameServerAsBefore ? p.position : 0,
      why: sameServerAsBefore ? 'GTID state' : 'GTID state (the server identity changed)',
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
    { retryable: false },
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
