/**
 * The preflight's only I/O: a handful of read-only statements on the checked server (and, optionally,
 * its primary). Everything the checks need is collected into PreflightFacts first.
 *
 * A statement refused for lack of a privilege is a fact, not an error: it becomes a 'refused' probe that
 * the checks turn into a warning or a failure naming the privilege. A lost connection is an error and
 * propagates, so the tailer's reconnect logic sees it like any other.
 */
import { errorMessage } from '../errors.js';
import { binlogStatusStatement, quote, relayLogStatement, replicaStatusStatement } from './preflight-sql.js';
import type {
  PreflightConnection,
  PreflightFacts,
  PreflightOptions,
  PrimaryFacts,
  Probe,
  RelayEvent,
  RelaySample,
  ReplicaState,
  ReplicationChannel,
  Row,
} from './preflight-types.js';

/** Read with SHOW GLOBAL VARIABLES, which (unlike SELECT @@x) skips names this server does not have. */
const VARIABLES = [
  'binlog_annotate_row_events',
  'binlog_checksum',
  'binlog_format',
  'binlog_rows_query_log_events',
  'enforce_gtid_consistency',
  'gtid_binlog_pos',
  'gtid_current_pos',
  'gtid_executed',
  'gtid_mode',
  'gtid_slave_pos',
  'gtid_strict_mode',
  'hostname',
  'log_bin',
  'log_replica_updates',
  'log_slave_updates',
  'port',
  'replicate_annotate_row_events',
  'server_id',
  'server_uuid',
];

const PRIMARY_VARIABLES = [
  'binlog_annotate_row_events',
  'binlog_format',
  'binlog_rows_query_log_events',
  'hostname',
  'log_bin',
  'port',
  'server_id',
];

export const DEFAULT_RELAY_LOG_EVENTS = 2000;

// ER_DBACCESS_DENIED_ERROR, ER_ACCESS_DENIED_ERROR, ER_TABLEACCESS_DENIED_ERROR,
// ER_SPECIFIC_ACCESS_DENIED_ERROR, ER_PROCACCESS_DENIED_ERROR
const ACCESS_DENIED = new Set([1044, 1045, 1142, 1227, 1370]);

type Outcome<T> = { ok: true; value: T } | { ok: false; refused: boolean; reason: string };

/**
 * Runs a statement whose failure the report can describe. Server errors (an errno, connection still
 * usable) become outcomes; anything else — a dropped connection, a timeout — is rethrown.
 */
async function attempt(conn: PreflightConnection, sql: string): Promise<Outcome<readonly Row[]>> {
  try {
    return { ok: true, value: await conn.query(sql) };
  } catch (err) {
    const e = err as { errno?: unknown; fatal?: unknown };
    if (typeof e.errno !== 'number' || e.fatal === true) throw err;
    return { ok: false, refused: ACCESS_DENIED.has(e.errno), reason: errorMessage(err) };
  }
}

async function readVariables(conn: PreflightConnection, names: string[]): Promise<Record<string, string>> {
  const list = names.map(quote).join(', ');
  const rows = await conn.query(`SHOW GLOBAL VARIABLES WHERE Variable_name IN (${list})`);
  const vars: Record<string, string> = {};
  for (const row of rows) vars[text(row.Variable_name).toLowerCase()] = text(row.Value);
  return vars;
}

/** A column value as text: SHOW statements return strings and numbers, binary columns Buffers. */
export function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return `${value}`;
  return JSON.stringify(value);
}

function str(row: Row, ...names: string[]): string {
  for (const n of names) if (row[n] !== undefined && row[n] !== null) return text(row[n]);
  return '';
}

function channelOf(row: Row): ReplicationChannel {
  const host = str(row, 'Source_Host', 'Master_Host');
  const port = str(row, 'Source_Port', 'Master_Port');
  return {
    name: str(row, 'Connection_name', 'Channel_Name'),
    relayLogFile: str(row, 'Relay_Log_File'),
    sourceServerId: Number(str(row, 'Source_Server_Id', 'Master_Server_Id') || 0),
    source: port ? `${host}:${port}` : host,
  };
}

async function readReplicaState(conn: PreflightConnection): Promise<ReplicaState> {
  const sql = replicaStatusStatement(conn);
  const result = await attempt(conn, sql);
  if (!result.ok) return { kind: 'unknown', reason: `${sql} failed: ${result.reason}` };
  if (result.value.length === 0) return { kind: 'not-replica' };
  return { kind: 'replica', channels: result.value.map(channelOf) };
}

async function readRelay(
  conn: PreflightConnection,
  channel: ReplicationChannel,
  limit: number,
): Promise<RelaySample> {
  const base = { channel: channel.name, file: channel.relayLogFile };
  if (channel.relayLogFile === '') return { kind: 'read', ...base, events: [] };
  const result = await attempt(conn, relayLogStatement(conn, channel.name, channel.relayLogFile, limit));
  if (!result.ok) return { kind: 'unreadable', ...base, reason: result.reason, refused: result.refused };
  const events: RelayEvent[] = result.value.map((r) => ({
    file: str(r, 'Log_name'),
    pos: Number(str(r, 'Pos') || 0),
    type: str(r, 'Event_type'),
    serverId: Number(str(r, 'Server_id') || 0),
    info: str(r, 'Info'),
  }));
  return { kind: 'read', ...base, events };
}

async function probe(conn: PreflightConnection, sql: string): Promise<Probe> {
  const result = await attempt(conn, sql);
  if (result.ok) return { kind: 'allowed' };
  return { kind: result.refused ? 'refused' : 'error', reason: result.reason };
}

async function readPrimary(
  primary: PreflightConnection,
  server: string | undefined,
): Promise<PrimaryFacts | { error: string }> {
  try {
    const variables = await readVariables(primary, PRIMARY_VARIABLES);
    return { server: server ?? `${variables.hostname}:${variables.port}`, variables };
  } catch (err) {
    // The primary is an optional second opinion; losing it must not hide the replica's own report.
    return { error: errorMessage(err) };
  }
}

export async function gatherFacts(
  conn: PreflightConnection,
  opts: PreflightOptions,
): Promise<PreflightFacts> {
  const variables = await readVariables(conn, VARIABLES);
  const [user] = await conn.query('SELECT CURRENT_USER() AS user');
  const grantsResult = await attempt(conn, 'SHOW GRANTS');
  const replica = await readReplicaState(conn);
  const relay: RelaySample[] = [];
  if (replica.kind === 'replica') {
    const limit = opts.relayLogEvents ?? DEFAULT_RELAY_LOG_EVENTS;
    for (const channel of replica.channels) relay.push(await readRelay(conn, channel, limit));
  }
  const facts: PreflightFacts = {
    flavor: conn.flavor,
    serverVersion: conn.serverVersion,
    server: opts.server ?? `${variables.hostname}:${variables.port}`,
    variables,
    currentUser: formatAccount(str(user ?? {}, 'user')),
    grants: grantsResult.ok ? grantsResult.value.map((r) => text(Object.values(r)[0])) : undefined,
    replica,
    relay,
    binlogStatus: await probe(conn, binlogStatusStatement(conn)),
  };
  if (opts.primary) facts.primary = await readPrimary(opts.primary, opts.primaryServer);
  return facts;
}

/** CURRENT_USER() says user@host; GRANT statements want 'user'@'host'. */
export function formatAccount(user: string): string {
  const at = user.lastIndexOf('@');
  if (at < 0) return `'${user}'`;
  return `'${user.slice(0, at)}'@'${user.slice(at + 1)}'`;
}
