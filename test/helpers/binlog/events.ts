/**
 * Builders for valid binlog events (and whole files), so decoder and tailer tests need no server.
 * Every function returns the complete event bytes: 19-byte header, body and, when `checksum` is
 * 'crc32' (the default, as on MariaDB 10.11 and MySQL 8), a CRC32. Field layouts are documented above
 * the matching decoders in events/*.ts.
 */
import { crc32, deflateSync } from 'node:zlib';
import { BINLOG_MAGIC, EVENT_HEADER_LENGTH, EventFlag, EventType } from '../../../src/binlog/constants.js';
import { MARIADB_10_11_POST_HEADER_LENGTHS } from '../../../src/binlog/events/context.js';
import { mariadbCompress } from '../../../src/binlog/events/mariadb-compression.js';
import { packedInt } from './encoding.js';
import type {
  ChecksumAlgorithm,
  MariadbGtid,
  QueryStatusVars,
  RowsEventKind,
} from '../../../src/binlog/events/types.js';

export interface EventOptions {
  timestamp?: number;
  serverId?: number;
  /** Header log_pos (end of the event in its file); BinlogFileBuilder fills it in. */
  nextPosition?: number;
  flags?: number;
  checksum?: ChecksumAlgorithm;
}

export function buildEvent(typeCode: number, body: Buffer, opts: EventOptions = {}): Buffer {
  const withCrc = (opts.checksum ?? 'crc32') === 'crc32';
  const size = EVENT_HEADER_LENGTH + body.length + (withCrc ? 4 : 0);
  const b = Buffer.alloc(size);
  b.writeUInt32LE(opts.timestamp ?? 0, 0);
  b[4] = typeCode;
  b.writeUInt32LE(opts.serverId ?? 1, 5);
  b.writeUInt32LE(size, 9);
  b.writeUInt32LE(opts.nextPosition ?? 0, 13);
  b.writeUInt16LE(opts.flags ?? 0, 17);
  body.copy(b, EVENT_HEADER_LENGTH);
  if (withCrc) writeCrc(b);
  return b;
}

/** (Re)computes the trailing CRC32; for an FDE with the IN_USE flag the flag counts as cleared. */
function writeCrc(b: Buffer): void {
  const flags = b[17];
  const isFde = b[4] === EventType.FORMAT_DESCRIPTION;
  if (isFde) b[17] = flags & ~EventFlag.BINLOG_IN_USE;
  b.writeUInt32LE(crc32(b.subarray(0, b.length - 4)), b.length - 4);
  b[17] = flags;
}

/** Sets header log_pos of a built event and fixes its CRC. */
export function setNextPosition(event: Buffer, nextPosition: number, checksum: ChecksumAlgorithm): void {
  event.writeUInt32LE(nextPosition, 13);
  if (checksum === 'crc32') writeCrc(event);
}

export interface FormatDescriptionFields {
  serverVersion?: string;
  createTimestamp?: number;
  /** Index typeCode - 1; defaults to MariaDB 10.11's table. */
  postHeaderLengths?: Uint8Array;
  /** Algorithm declared by the FDE for the events after it (the FDE itself always has a CRC32). */
  checksum?: ChecksumAlgorithm;
}

export function buildFormatDescription(f: FormatDescriptionFields = {}, opts: EventOptions = {}): Buffer {
  const lengths = f.postHeaderLengths ?? MARIADB_10_11_POST_HEADER_LENGTHS;
  const checksum = f.checksum ?? opts.checksum ?? 'crc32';
  const body = Buffer.alloc(2 + 50 + 4 + 1 + lengths.length + 1);
  body.writeUInt16LE(4, 0);
  body.write(f.serverVersion ?? '10.11.19-MariaDB-log', 2, 50, 'latin1');
  body.writeUInt32LE(f.createTimestamp ?? 0, 52);
  body[56] = EVENT_HEADER_LENGTH;
  body.set(lengths, 57);
  body[57 + lengths.length] = checksum === 'crc32' ? 1 : 0;
  return buildEvent(EventType.FORMAT_DESCRIPTION, body, { ...opts, checksum: 'crc32' });
}

export function buildRotate(f: { position?: number; nextFile: string }, opts: EventOptions = {}): Buffer {
  const name = Buffer.from(f.nextFile, 'utf8');
  const body = Buffer.alloc(8 + name.length);
  body.writeBigUInt64LE(BigInt(f.position ?? 4), 0);
  name.copy(body, 8);
  return buildEvent(EventType.ROTATE, body, opts);
}

export interface QueryFields {
  threadId?: number;
  execTime?: number;
  errorCode?: number;
  db?: string;
  sql: string;
  /** Encoded in MySQL's order (0, 1, 6, 4, ...); or raw bytes. Defaults to flags2 + sql_mode + catalog + charset. */
  statusVars?: QueryStatusVars | Buffer;
  /** Build a MariaDB QUERY_COMPRESSED (165). */
  compressed?: boolean;
}

export function buildQuery(f: QueryFields, opts: EventOptions = {}): Buffer {
  const status =
    f.statusVars !== undefined && Buffer.isBuffer(f.statusVars)
      ? f.statusVars
      : encodeStatusVars(
          f.statusVars ?? {
            flags2: 0,
            sqlMode: 0x54200000n,
            catalog: 'std',
            charset: { client: 33, collationConnection: 33, collationServer: 8 },
          },
        );
  const db = Buffer.from(f.db ?? '', 'utf8');
  const sqlBytes = Buffer.from(f.sql, 'utf8');
  const sql = f.compressed ? mariadbCompress(sqlBytes, (b) => deflateSync(b)) : sqlBytes;
  const post = Buffer.alloc(13);
  post.writeUInt32LE(f.threadId ?? 1, 0);
  post.writeUInt32LE(f.execTime ?? 0, 4);
  post[8] = db.length;
  post.writeUInt16LE(f.errorCode ?? 0, 9);
  post.writeUInt16LE(status.length, 11);
  const type = f.compressed ? EventType.MARIA_QUERY_COMPRESSED : EventType.QUERY;
  return buildEvent(type, Buffer.concat([post, status, db, Buffer.of(0), sql]), opts);
}

export function encodeStatusVars(v: QueryStatusVars): Buffer {
  const parts: Buffer[] = [];
  const u = (key: number, width: number, value: number | bigint): void => {
    const b = Buffer.alloc(1 + width);
    b[0] = key;
    if (width === 8) b.writeBigUInt64LE(BigInt(value), 1);
    else b.writeUIntLE(Number(value), 1, width);
    parts.push(b);
  };
  const s = (str: string): Buffer => {
    const b = Buffer.from(str, 'utf8');
    return Buffer.concat([Buffer.of(b.length), b]);
  };
  if (v.flags2 !== undefined) u(0, 4, v.flags2);
  if (v.sqlMode !== undefined) u(1, 8, v.sqlMode);
  if (v.catalog !== undefined) parts.push(Buffer.of(6), s(v.catalog));
  if (v.autoIncrementIncrement !== undefined) {
    const b = Buffer.alloc(5);
    b[0] = 3;
    b.writeUInt16LE(v.autoIncrementIncrement, 1);
    b.writeUInt16LE(v.autoIncrementOffset ?? 1, 3);
    parts.push(b);
  }
  if (v.charset !== undefined) {
    const b = Buffer.alloc(7);
    b[0] = 4;
    b.writeUInt16LE(v.charset.client, 1);
    b.writeUInt16LE(v.charset.collationConnection, 3);
    b.writeUInt16LE(v.charset.collationServer, 5);
    parts.push(b);
  }
  if (v.timeZone !== undefined) parts.push(Buffer.of(5), s(v.timeZone));
  if (v.lcTimeNames !== undefined) u(7, 2, v.lcTimeNames);
  if (v.charsetDatabase !== undefined) u(8, 2, v.charsetDatabase);
  if (v.tableMapForUpdate !== undefined) u(9, 8, v.tableMapForUpdate);
  if (v.masterDataWritten !== undefined) u(10, 4, v.masterDataWritten);
  if (v.invoker !== undefined) parts.push(Buffer.of(11), s(v.invoker.user), s(v.invoker.host));
  if (v.updatedDbNames !== undefined) {
    const names = v.updatedDbNames;
    parts.push(Buffer.of(12, names === null ? 254 : names.length));
    for (const n of names ?? []) parts.push(Buffer.from(n, 'utf8'), Buffer.of(0));
  }
  if (v.microseconds !== undefined) u(13, 3, v.microseconds);
  if (v.explicitDefaultsForTimestamp !== undefined) u(16, 1, v.explicitDefaultsForTimestamp);
  if (v.ddlLoggedWithXid !== undefined) u(17, 8, v.ddlLoggedWithXid);
  if (v.defaultCollationForUtf8mb4 !== undefined) u(18, 2, v.defaultCollationForUtf8mb4);
  if (v.sqlRequirePrimaryKey !== undefined) u(19, 1, v.sqlRequirePrimaryKey);
  if (v.defaultTableEncryption !== undefined) u(20, 1, v.defaultTableEncryption);
  if (v.hrnow !== undefined) u(128, 3, v.hrnow);
  if (v.xid !== undefined) u(129, 8, v.xid);
  if (v.gtidFlags3 !== undefined) {
    u(130, 1, v.gtidFlags3);
    if (v.startAlterSeqNo !== undefined) parts.push(u64(v.startAlterSeqNo));
  }
  if (v.characterSetCollations !== undefined) {
    parts.push(Buffer.of(131, v.characterSetCollations.length / 4), v.characterSetCollations);
  }
  return Buffer.concat(parts);
}

function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v, 0);
  return b;
}

export function buildXid(f: { xid: bigint }, opts: EventOptions = {}): Buffer {
  return buildEvent(EventType.XID, u64(f.xid), opts);
}

export interface MariadbGtidFields {
  seqNo: bigint;
  domainId?: number;
  /** Defaults to FL_STANDALONE when `standalone`, else TRANSACTIONAL|ALLOW_PARALLEL (0x0c). */
  flags2?: number;
  standalone?: boolean;
  commitId?: bigint;
  xid?: { formatId: number; gtrid: Buffer; bqual: Buffer };
}

/** MariaDB GTID; the GTID's server id is the header's (`opts.serverId`). */
export function buildMariadbGtid(f: MariadbGtidFields, opts: EventOptions = {}): Buffer {
  let flags2 = f.flags2 ?? (f.standalone ? 0x01 : 0x0c);
  if (f.commitId !== undefined) flags2 |= 0x02;
  const head = Buffer.alloc(13);
  head.writeBigUInt64LE(f.seqNo, 0);
  head.writeUInt32LE(f.domainId ?? 0, 8);
  head[12] = flags2;
  const parts = [head, f.commitId !== undefined ? u64(f.commitId) : Buffer.alloc(6)];
  if (f.xid) {
    const xa = Buffer.alloc(6);
    xa.writeUInt32LE(f.xid.formatId, 0);
    xa[4] = f.xid.gtrid.length;
    xa[5] = f.xid.bqual.length;
    parts.push(xa, f.xid.gtrid, f.xid.bqual);
  }
  return buildEvent(EventType.MARIA_GTID, Buffer.concat(parts), opts);
}

export function buildMariadbGtidList(
  f: { gtids: MariadbGtid[]; flags?: number },
  opts: EventOptions = {},
): Buffer {
  const body = Buffer.alloc(4 + 16 * f.gtids.length);
  body.writeUInt32LE((((f.flags ?? 0) << 28) | f.gtids.length) >>> 0, 0);
  f.gtids.forEach((g, i) => {
    body.writeUInt32LE(g.domainId, 4 + i * 16);
    body.writeUInt32LE(g.serverId, 8 + i * 16);
    body.writeBigUInt64LE(g.seqNo, 12 + i * 16);
  });
  return buildEvent(EventType.MARIA_GTID_LIST, body, opts);
}

export function buildBinlogCheckpoint(f: { file: string }, opts: EventOptions = {}): Buffer {
  const name = Buffer.from(f.file, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(name.length, 0);
  return buildEvent(EventType.MARIA_BINLOG_CHECKPOINT, Buffer.concat([len, name]), opts);
}

export function buildAnnotateRows(f: { sql: string }, opts: EventOptions = {}): Buffer {
  return buildEvent(EventType.MARIA_ANNOTATE_ROWS, Buffer.from(f.sql, 'utf8'), opts);
}

/** MySQL ROWS_QUERY; the length byte is written as the server does (truncated to 8 bits). */
export function buildRowsQuery(f: { sql: string }, opts: EventOptions = {}): Buffer {
  const sql = Buffer.from(f.sql, 'utf8');
  return buildEvent(EventType.ROWS_QUERY, Buffer.concat([Buffer.of(sql.length & 0xff), sql]), opts);
}

export function buildHeartbeat(f: { file: string }, opts: EventOptions = {}): Buffer {
  return buildEvent(EventType.HEARTBEAT, Buffer.from(f.file, 'utf8'), opts);
}

export function buildStop(opts: EventOptions = {}): Buffer {
  return buildEvent(EventType.STOP, Buffer.alloc(0), opts);
}

export interface TableMapFields {
  tableId: number;
  flags?: number;
  db: string;
  table: string;
  columnTypes: number[];
  /** Raw per-column metadata (see decodeTableMap); empty by default. */
  columnMetaRaw?: Buffer;
  /** Defaults to all columns nullable. */
  nullBitmap?: Buffer;
  optionalMetadataRaw?: Buffer;
}

export function buildTableMap(f: TableMapFields, opts: EventOptions = {}): Buffer {
  const n = f.columnTypes.length;
  const head = Buffer.alloc(8);
  head.writeUIntLE(f.tableId, 0, 6);
  head.writeUInt16LE(f.flags ?? 1, 6);
  const db = Buffer.from(f.db, 'utf8');
  const table = Buffer.from(f.table, 'utf8');
  const meta = f.columnMetaRaw ?? Buffer.alloc(0);
  const nulls = f.nullBitmap ?? Buffer.alloc((n + 7) >>> 3, 0xff);
  const body = Buffer.concat([
    head,
    Buffer.of(db.length),
    db,
    Buffer.of(0),
    Buffer.of(table.length),
    table,
    Buffer.of(0),
    packedInt(n),
    Buffer.from(f.columnTypes),
    packedInt(meta.length),
    meta,
    nulls,
    f.optionalMetadataRaw ?? Buffer.alloc(0),
  ]);
  return buildEvent(EventType.TABLE_MAP, body, opts);
}

export interface RowsFields {
  kind: RowsEventKind;
  /** 1 (MariaDB, MySQL 5.1-5.5) or 2 (MySQL 5.6+). Default 1. */
  version?: 1 | 2;
  /** MariaDB compressed rows (166-171): `rows` is stored zlib-compressed. */
  compressed?: boolean;
  /** MySQL PARTIAL_UPDATE_ROWS (39), for kind 'update_rows' version 2. */
  partial?: boolean;
  tableId: number;
  /** Default STMT_END (1). */
  flags?: number;
  extraData?: Buffer;
  columnCount: number;
  /** Default all columns present. */
  columnsPresent?: Buffer;
  columnsPresentAfter?: Buffer;
  /** Row images, already encoded. */
  rows: Buffer;
}

const ROWS_TYPE: Record<RowsEventKind, [number, number, number, number]> = {
  write_rows: [EventType.WRITE_ROWS_V1, EventType.WRITE_ROWS_V2, 166, 169],
  update_rows: [EventType.UPDATE_ROWS_V1, EventType.UPDATE_ROWS_V2, 167, 170],
  delete_rows: [EventType.DELETE_ROWS_V1, EventType.DELETE_ROWS_V2, 168, 171],
};

export function buildRows(f: RowsFields, opts: EventOptions = {}): Buffer {
  const version = f.version ?? 1;
  const types = ROWS_TYPE[f.kind];
  const type = f.partial
    ? EventType.PARTIAL_UPDATE_ROWS
    : f.compressed
      ? types[version + 1]
      : types[version - 1];
  const head = Buffer.alloc(8);
  head.writeUIntLE(f.tableId, 0, 6);
  head.writeUInt16LE(f.flags ?? 1, 6);
  const parts: Buffer[] = [head];
  if (version === 2) {
    const extra = f.extraData ?? Buffer.alloc(0);
    const len = Buffer.alloc(2);
    len.writeUInt16LE(extra.length + 2, 0);
    parts.push(len, extra);
  }
  const all = Buffer.alloc((f.columnCount + 7) >>> 3, 0xff);
  parts.push(packedInt(f.columnCount), f.columnsPresent ?? all);
  if (f.kind === 'update_rows') parts.push(f.columnsPresentAfter ?? all);
  parts.push(f.compressed ? mariadbCompress(f.rows, (b) => deflateSync(b)) : f.rows);
  return buildEvent(type, Buffer.concat(parts), opts);
}

export interface BinlogFileBuilderOptions {
  checksum?: ChecksumAlgorithm;
  serverId?: number;
  timestamp?: number;
  serverVersion?: string;
  /** Write the FDE at construction (default true). */
  formatDescription?: boolean;
}

/**
 * Assembles a binlog file: magic, FDE, then the events you add, each with header log_pos set to its
 * end and the file's checksum setting applied. `events` keeps each event's start position.
 */
export class BinlogFileBuilder {
  readonly checksum: ChecksumAlgorithm;
  readonly events: { position: number; bytes: Buffer }[] = [];
  private position = BINLOG_MAGIC.length;
  private readonly defaults: EventOptions;

  constructor(opts: BinlogFileBuilderOptions = {}) {
    this.checksum = opts.checksum ?? 'crc32';
    this.defaults = { serverId: opts.serverId ?? 1, timestamp: opts.timestamp ?? 0, checksum: this.checksum };
    if (opts.formatDescription ?? true) {
      this.add((o) =>
        buildFormatDescription({ serverVersion: opts.serverVersion, checksum: this.checksum }, o),
      );
    }
  }

  /** Event options this builder passes to `build` (serverId, timestamp, checksum; override in `extra`). */
  add(build: (opts: EventOptions) => Buffer, extra: EventOptions = {}): this {
    const bytes = build({ ...this.defaults, ...extra, checksum: this.checksum });
    setNextPosition(bytes, this.position + bytes.length, this.checksum);
    this.events.push({ position: this.position, bytes });
    this.position += bytes.length;
    return this;
  }

  /** Offset where the next event will start. */
  get nextPosition(): number {
    return this.position;
  }

  toBuffer(): Buffer {
    return Buffer.concat([BINLOG_MAGIC, ...this.events.map((e) => e.bytes)]);
  }
}
