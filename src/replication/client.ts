/**
 * A replication client connection to one MySQL/MariaDB server. mysql2 does the TCP connection, TLS and
 * authentication; after that we register as a replica and send COM_BINLOG_DUMP ourselves, so the raw
 * bytes of every event reach our decoder (mysql2's own binlog stream drops the payload of events it
 * does not know, which would lose annotations).
 *
 * mysql2 runs one "command" at a time on a connection; a command is any object with `execute(packet,
 * connection)` that returns true when it is finished. We queue two such commands of our own.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';
import type { Connection as PromiseConnection, RowDataPacket } from 'mysql2/promise';
import { parseMysqlGtidSet } from '../binlog/gtid/mysql-set.js';
import { CachetailError, errorMessage } from '../errors.js';
import {
  BINLOG_DUMP_NON_BLOCK,
  MARIADB_BINLOG_SEND_ANNOTATE_ROWS_EVENT,
  encodeBinlogDump,
  encodeBinlogDumpGtid,
  encodeRegisterReplica,
  parseStreamPacket,
} from './protocol.js';

export interface ReplicationSource {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The server id we register with; must differ from every server id in the topology. */
  serverId: number;
  connectTimeoutMs: number;
  /** Ask the server for a heartbeat after this long without events (0 = none). */
  heartbeatMs: number;
  /** TLS to the server (config `source.ssl`); without it the connection is plain. */
  ssl?: ReplicationTls | undefined;
}

/** `source.ssl`: files are read at every connect, so a renewed certificate is used by the next one. */
export interface ReplicationTls {
  enabled: boolean;
  /** PEM file of the CA(s) that signed the server's certificate (default: Node's CA store). */
  caFile?: string | undefined;
  /** Client certificate and key (PEM), for accounts created REQUIRE X509 / SUBJECT. */
  certFile?: string | undefined;
  keyFile?: string | undefined;
  /** Verify the server's certificate chain. */
  rejectUnauthorized: boolean;
  /** Also check that the certificate names source.host (MySQL's VERIFY_IDENTITY). */
  verifyIdentity: boolean;
}

/**
 * `gtid`: MariaDB a GTID position (`0-1-100,1-2-5`), MySQL a GTID set that must hold *every*
 * transaction before the start (as @@gtid_executed does): the server sends all those not in it.
 */
export type StartPosition = { kind: 'gtid'; gtid: string } | { kind: 'file'; file: string; position: number };

export type Flavor = 'mariadb' | 'mysql';

export interface BinlogStreamHandlers {
  /** One whole event (19-byte header … checksum). The buffer is only valid during the call. */
  onEvent(event: Buffer): void;
  /** The stream ended: `err` undefined means the server said EOF (non-blocking dump). */
  onEnd(err?: Error): void;
}

/** The parts of mysql2's internal (callback) connection that commands use. */
interface CoreConnection {
  addCommand(cmd: unknown): unknown;
  write(buf: Buffer): void;
  _resetSequenceId(): void;
  _bumpSequenceId(n: number): void;
  pause(): void;
  resume(): void;
  destroy(): void;
  stream?: { destroy(): void };
}
interface RawPacket {
  buffer: Buffer;
  start: number;
  end: number;
}

const ER_MASTER_FATAL_ERROR_READING_BINLOG = 1236;

/**
 * Login refusals that no retry with the same configuration can fix: ER_DBACCESS_DENIED_ERROR,
 * ER_ACCESS_DENIED_ERROR (wrong password, unknown account, or an account created REQUIRE SSL reached
 * without TLS: the server does not say which), ER_NOT_SUPPORTED_AUTH_MODE,
 * ER_ACCESS_DENIED_NO_PASSWORD_ERROR, ER_MUST_CHANGE_PASSWORD_LOGIN, ER_ACCOUNT_HAS_BEEN_LOCKED,
 * ER_SECURE_TRANSPORT_REQUIRED, ER_USER_ACCESS_DENIED_FOR_USER_ACCOUNT_BLOCKED_BY_PASSWORD_LOCK.
 */
const LOGIN_REFUSED = new Set([1044, 1045, 1251, 1698, 1862, 3118, 3159, 3955]);

/** What the operator can change when the server refuses the login, by what the config said. */
function loginFix(source: ReplicationSource, errno: number): string {
  const account = `source.user ${JSON.stringify(source.user)}`;
  if (errno === 3159) return 'the server requires TLS (require_secure_transport): enable source.ssl.';
  if (errno === 3118 || errno === 3955)
    return `unlock the account of ${account} (ALTER USER … ACCOUNT UNLOCK).`;
  if (errno === 1862) return `set a new password for ${account} (ALTER USER … IDENTIFIED BY).`;
  // The server's "(using password: NO)" does not say where a password would come from.
  if (source.password === '' && (errno === 1045 || errno === 1698)) {
    return (
      'no password is configured (source.password is empty): set CACHETAIL_SOURCE_PASSWORD, or ' +
      `source.password or source.passwordFile in the config file, to the password of ${account}.`
    );
  }
  const tls = source.ssl?.enabled
    ? ''
    : ', or enable source.ssl if the account was created REQUIRE SSL/X509 (the server then refuses a plain connection with this same error)';
  return (
    `check source.user and source.password / source.passwordFile (CACHETAIL_SOURCE_PASSWORD), and that the ` +
    `account exists for the host the tailer connects from${tls}.`
  );
}

/**
 * The connect error as a CachetailError: a refused login or a failed TLS handshake is not retryable (the
 * same configuration meets the same refusal); anything else (connection refused, timeout, too many
 * connections) is.
 */
export function connectError(source: ReplicationSource, err: unknown): CachetailError {
  const what = `cannot connect to ${source.host}:${source.port} as ${source.user}`;
  const e = err as { errno?: unknown; code?: unknown };
  if (typeof e.errno === 'number' && LOGIN_REFUSED.has(e.errno)) {
    return new CachetailError(
      'REPLICATION_ACCESS_DENIED',
      `${what}: server error ${e.errno}: ${errorMessage(err)}. Fix: ${loginFix(source, e.errno)}`,
      { cause: err },
    );
  }
  if (e.code === 'HANDSHAKE_SSL_ERROR' || e.code === 'HANDSHAKE_NO_SSL_SUPPORT') {
    const fix =
      e.code === 'HANDSHAKE_NO_SSL_SUPPORT'
        ? 'configure TLS on the server (ssl_cert/ssl_key) or disable source.ssl.'
        : 'set source.ssl.caFile to the CA that signed the server certificate (MySQL: ca.pem in its datadir); ' +
          'source.ssl.verifyIdentity needs a certificate issued for source.host.';
    return new CachetailError('REPLICATION_TLS', `${what}: TLS: ${errorMessage(err)}. Fix: ${fix}`, {
      cause: err,
    });
  }
  return new CachetailError('REPLICATION_CONNECT', `${what}: ${errorMessage(err)}`, {
    cause: err,
  });
}

function readTlsFile(path: string, field: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CachetailError('CONFIG_READ', `cannot read source.ssl.${field} ${path}: ${errorMessage(err)}`);
  }
}

/** mysql2's `ssl` option for `source.ssl` (undefined: a plain connection). */
export function mysqlTlsOptions(
  tls: ReplicationTls | undefined,
):
  | { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean; verifyIdentity: boolean }
  | undefined {
  if (!tls?.enabled) return undefined;
  return {
    rejectUnauthorized: tls.rejectUnauthorized,
    verifyIdentity: tls.verifyIdentity,
    ...(tls.caFile ? { ca: readTlsFile(tls.caFile, 'caFile') } : {}),
    ...(tls.certFile ? { cert: readTlsFile(tls.certFile, 'certFile') } : {}),
    ...(tls.keyFile ? { key: readTlsFile(tls.keyFile, 'keyFile') } : {}),
  };
}

/** Parses an ERR packet payload: 0xFF errno(2) ['#' sqlstate(5)] message. */
function serverError(payload: Buffer, what: string): CachetailError {
  const errno = payload.length >= 3 ? payload.readUInt16LE(1) : 0;
  const msgStart = payload[3] === 0x23 ? 9 : 3;
  const message = payload.subarray(Math.min(msgStart, payload.length)).toString('utf8');
  if (errno === 1045 || errno === 1227) {
    // ER_ACCESS_DENIED_ERROR / ER_SPECIFIC_ACCESS_DENIED_ERROR on COM_REGISTER_SLAVE or the dump: the
    // account lacks REPLICATION SLAVE. The preflight names this first; a grant revoked between the
    // preflight and the dump ends here, and retrying cannot help until it is granted again.
    return new CachetailError(
      'REPLICATION_ACCESS_DENIED',
      `${what}: server error ${errno}: ${message}. Fix: GRANT REPLICATION SLAVE ON *.* to the tailer's ` +
        'account (on the primary, so that the grant replicates).',
    );
  }
  if (errno === ER_MASTER_FATAL_ERROR_READING_BINLOG) {
    // Position purged, unknown GTID, server identity changed: a gap. Retrying the same position won't help.
    return new CachetailError('BINLOG_UNAVAILABLE', `${what}: server error ${errno}: ${message}`);
  }
  return new CachetailError('REPLICATION_SERVER_ERROR', `${what}: server error ${errno}: ${message}`);
}

/** Writes one command packet (sequence id 0; our payloads are far below 16 MB). */
function writeCommand(conn: CoreConnection, payload: Buffer): void {
  conn._resetSequenceId();
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header.writeUInt8(0, 3);
  conn._bumpSequenceId(1);
  conn.write(Buffer.concat([header, payload]));
}

/**
 * A mysql2 command of our own: sends one command packet, then hands each reply payload to `reply`
 * until it returns true (done). mysql2 calls `onResult` when the connection fails while it runs.
 */
abstract class RawCommand extends EventEmitter {
  private sent = false;
  abstract readonly _commandName: string;
  constructor(private readonly payload: Buffer) {
    super();
  }
  abstract onResult(err: Error | null): void;
  protected abstract reply(payload: Buffer, conn: CoreConnection): boolean;
  stateName(): string {
    return this.sent ? 'reply' : 'start';
  }
  execute(packet: RawPacket | undefined, conn: CoreConnection): boolean {
    if (!this.sent) {
      this.sent = true;
      writeCommand(conn, this.payload);
      return false;
    }
    if (!packet) return false;
    return this.reply(packet.buffer.subarray(packet.start + 4, packet.end), conn);
  }
}

/** Sends one packet and reports the server's OK, or its ERR as an error. */
class OneShotCommand extends RawCommand {
  readonly _commandName = 'CachetailOneShot';
  constructor(
    payload: Buffer,
    private readonly what: string,
    readonly onResult: (err: Error | null) => void,
  ) {
    super(payload);
  }
  protected reply(payload: Buffer): boolean {
    this.onResult(payload[0] === 0xff ? serverError(payload, this.what) : null);
    return true;
  }
}

/** Sends COM_BINLOG_DUMP and hands every event to the handlers until the stream ends. */
class BinlogDumpCommand extends RawCommand {
  private ended = false;
  readonly _commandName = 'CachetailBinlogDump';
  constructor(
    payload: Buffer,
    private readonly handlers: BinlogStreamHandlers,
  ) {
    super(payload);
  }
  onResult(err: Error | null): void {
    this.finish(err ?? undefined);
  }
  finish(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.handlers.onEnd(err);
  }
  protected reply(payload: Buffer, conn: CoreConnection): boolean {
    if (payload[0] === 0xff) {
      this.finish(serverError(payload, 'binlog dump'));
      return true;
    }
    const p = parseStreamPacket(payload, false);
    if (p.kind === 'eof') {
      this.finish();
      return true;
    }
    if (p.kind === 'error') {
      this.finish(new CachetailError('REPLICATION_PROTOCOL', p.message));
      return true;
    }
    if (this.ended) return false;
    try {
      this.handlers.onEvent(p.event);
    } catch (err) {
      // A handler error ends the stream; the owner decides what to do with it.
      this.finish(
        err instanceof Error
          ? err
          : new CachetailError('EVENT_HANDLER_FAILED', errorMessage(err), { cause: err }),
      );
      conn.destroy();
      return true;
    }
    return false;
  }
}

export class ReplicationConnection {
  private constructor(
    private readonly conn: PromiseConnection,
    readonly flavor: Flavor,
    readonly serverVersion: string,
  ) {}

  static async open(source: ReplicationSource): Promise<ReplicationConnection> {
    const ssl = mysqlTlsOptions(source.ssl);
    let conn: PromiseConnection;
    try {
      // Over TLS, caching_sha2_password sends the password itself; over a plain connection mysql2 asks
      // the server for its RSA public key first (what GET_SOURCE_PUBLIC_KEY=1 does for a MySQL replica).
      conn = await mysql.createConnection({
        host: source.host,
        port: source.port,
        user: source.user,
        password: source.password,
        connectTimeout: source.connectTimeoutMs,
        supportBigNumbers: true,
        bigNumberStrings: true,
        ...(ssl ? { ssl } : {}),
      });
    } catch (err) {
      throw connectError(source, err);
    }
    // An error after the dump started reaches the dump command; this keeps a late socket error
    // (after close) from becoming an unhandled 'error' event.
    conn.on('error', () => {});
    const [rows] = await conn.query<RowDataPacket[]>('SELECT VERSION() AS v');
    const version = String(rows[0]?.v ?? '');
    return new ReplicationConnection(conn, /mariadb/i.test(version) ? 'mariadb' : 'mysql', version);
  }

  async query<T extends RowDataPacket[]>(sql: string, values?: unknown[]): Promise<T> {
    const [rows] = await this.conn.query<T>(sql, values);
    return rows;
  }

  private get core(): CoreConnection {
    // mysql2's promise wrapper keeps the callback connection, which runs the command queue.
    return (this.conn as unknown as { connection: CoreConnection }).connection;
  }

  /**
   * Sets the session variables a replica sets, registers, and starts the dump. Events flow to
   * `handlers` until the connection ends. See notes/binlog-protocol.md §3.
   */
  async startDump(
    source: ReplicationSource,
    start: StartPosition,
    handlers: BinlogStreamHandlers,
    options: { nonBlocking?: boolean } = {},
  ): Promise<void> {
    // The server then sends events with the checksums their files carry; the decoder takes the
    // algorithm from each file's FORMAT_DESCRIPTION.
    await this.conn.query('SET @master_binlog_checksum = @@global.binlog_checksum');
    if (this.flavor === 'mysql') {
      await this.conn.query('SET @source_binlog_checksum = @@global.binlog_checksum');
    }
    if (source.heartbeatMs > 0) {
      const ns = BigInt(source.heartbeatMs) * 1_000_000n;
      await this.conn.query(`SET @master_heartbeat_period = ${ns.toString()}`);
      if (this.flavor === 'mysql') await this.conn.query(`SET @source_heartbeat_period = ${ns.toString()}`);
    }
    let flags = 0;
    if (this.flavor === 'mariadb') {
      // Capability 4 = GTID aware: GTID events and GTID_LIST pass through unchanged. With the
      // SEND_ANNOTATE_ROWS flag the server sends Annotate_rows events (the statement text, with the
      // writer's comment) instead of omitting them.
      await this.conn.query('SET @mariadb_slave_capability = 4');
      flags |= MARIADB_BINLOG_SEND_ANNOTATE_ROWS_EVENT;
    }
    // MySQL: no flag. Bit 1 would ask for HEARTBEAT_V2, bit 2 (8.3+) would drop tagged transactions.
    // Non-blocking (`cachetail replay`): the server ends the stream at the end of its binlog.
    if (options.nonBlocking === true) flags |= BINLOG_DUMP_NON_BLOCK;
    let dump: Buffer;
    if (start.kind === 'gtid' && this.flavor === 'mysql') {
      // Auto-positioning: no file name; the server finds the first file from the set itself and skips
      // the transactions in it (sending a heartbeat past each skipped stretch).
      dump = encodeBinlogDumpGtid({
        serverId: source.serverId,
        file: '',
        position: 4,
        flags,
        gtidSet: parseMysqlGtidSet(start.gtid),
      });
    } else if (start.kind === 'gtid') {
      await this.conn.query('SET @slave_connect_state = ?', [start.gtid]);
      await this.conn.query('SET @slave_gtid_strict_mode = 1');
      dump = encodeBinlogDump({ serverId: source.serverId, file: '', position: 4, flags });
    } else {
      dump = encodeBinlogDump({
        serverId: source.serverId,
        file: start.file,
        position: start.position,
        flags,
      });
    }
    await new Promise<void>((resolve, reject) => {
      this.core.addCommand(
        new OneShotCommand(
          encodeRegisterReplica({ serverId: source.serverId }),
          'register as replica',
          (err) => (err ? reject(err) : resolve()),
        ),
      );
    });
    this.core.addCommand(new BinlogDumpCommand(dump, handlers));
  }

  /** Stops reading from the socket (backpressure); the server blocks once TCP buffers fill. */
  pause(): void {
    this.core.pause();
  }

  resume(): void {
    this.core.resume();
  }

  /**
   * Closes the socket at once. mysql2's destroy() only half-closes (stream.end()), and a server in a
   * binlog dump keeps its side open — heartbeats keep flowing — so the process would never exit.
   */
  close(): void {
    this.conn.destroy();
    this.core.stream?.destroy();
  }
}
