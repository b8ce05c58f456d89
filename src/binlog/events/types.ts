/**
 * The typed events the decoder returns. Each kind is discriminated by `kind` and carries the common
 * `header`. Byte ranges (row data, raw metadata, unknown bodies) are subarrays of the buffer passed to
 * `decode`: copy them if you keep them after reusing that buffer.
 *
 * 64-bit values that can exceed 2^53 (XIDs, GTID sequence numbers, sql_mode) are bigints; positions,
 * sizes and table ids are numbers.
 */

export interface EventHeader {
  /** Seconds since the epoch (0 for artificial events). */
  timestamp: number;
  typeCode: number;
  /** The server that originally wrote the event (kept through replication). */
  serverId: number;
  /** Whole event: header + body + checksum. */
  eventSize: number;
  /** Header `log_pos`: end of this event in the (original) file; 0 for artificial/inner events. */
  nextPosition: number;
  flags: number;
}

export type ChecksumAlgorithm = 'none' | 'crc32';

/** FORMAT_DESCRIPTION (15): describes every later event of the same file. */
export interface FormatDescriptionEvent {
  kind: 'format_description';
  header: EventHeader;
  binlogVersion: number;
  serverVersion: string;
  createTimestamp: number;
  headerLength: number;
  /** Post-header length per event type: index `typeCode - 1`. */
  postHeaderLengths: Uint8Array;
  /** Checksum algorithm of this file ('none' also for servers older than 5.6.1 / MariaDB 5.3). */
  checksum: ChecksumAlgorithm;
  /** True when the server string says MariaDB. */
  mariadb: boolean;
  /** The FDE ends with checksum_alg + 4 CRC bytes (MySQL 5.6.1+, MariaDB 5.3+). */
  hasChecksumField: boolean;
}

/** ROTATE (4): the next events come from `nextFile` starting at `position`. */
export interface RotateEvent {
  kind: 'rotate';
  header: EventHeader;
  position: number;
  nextFile: string;
  /** A fake ROTATE the server sends at the start of a dump (ARTIFICIAL flag or log_pos 0). */
  artificial: boolean;
}

/** MySQL/MariaDB QUERY status variables we understand (all optional: each is present only if sent). */
export interface QueryStatusVars {
  flags2?: number;
  sqlMode?: bigint;
  catalog?: string;
  autoIncrementIncrement?: number;
  autoIncrementOffset?: number;
  charset?: { client: number; collationConnection: number; collationServer: number };
  timeZone?: string;
  lcTimeNames?: number;
  charsetDatabase?: number;
  tableMapForUpdate?: bigint;
  masterDataWritten?: number;
  invoker?: { user: string; host: string };
  /** Databases the statement changed; `null` when the server wrote "too many" (254). */
  updatedDbNames?: string[] | null;
  microseconds?: number;
  explicitDefaultsForTimestamp?: number;
  ddlLoggedWithXid?: bigint;
  defaultCollationForUtf8mb4?: number;
  sqlRequirePrimaryKey?: number;
  defaultTableEncryption?: number;
  /** MariaDB Q_HRNOW: microsecond part of the statement time. */
  hrnow?: number;
  /** MariaDB Q_XID: the XID of a DDL statement. */
  xid?: bigint;
  /** MariaDB Q_GTID_FLAGS3 and, for COMMIT/ROLLBACK ALTER, the START ALTER sequence number. */
  gtidFlags3?: number;
  startAlterSeqNo?: bigint;
  /** MariaDB 11.x Q_CHARACTER_SET_COLLATIONS, undecoded. */
  characterSetCollations?: Buffer;
  /** Set when decoding stopped at a key this decoder does not know (its length is unknowable). */
  unknownKey?: number;
  /** Set when a value of this key ran past the end of the status-var block (decoding stopped there). */
  malformedKey?: number;
}

/** QUERY (2) and MariaDB QUERY_COMPRESSED (165, SQL text zlib-compressed; decompressed here). */
export interface QueryEvent {
  kind: 'query';
  header: EventHeader;
  threadId: number;
  execTime: number;
  errorCode: number;
  /** Default database (`use db`); '' when none. */
  db: string;
  sql: string;
  statusVars: QueryStatusVars;
  compressed: boolean;
}

/** XID (16): commit of a transaction in a transactional engine. */
export interface XidEvent {
  kind: 'xid';
  header: EventHeader;
  xid: bigint;
}

/** MariaDB GTID (162): starts an event group. */
export interface MariadbGtidEvent {
  kind: 'mariadb_gtid';
  header: EventHeader;
  domainId: number;
  /** From the common header. */
  serverId: number;
  seqNo: bigint;
  /** `domain-server-seq`, e.g. `0-101-5`. */
  gtid: string;
  flags2: number;
  /** Group commit id when flags2 has FL_GROUP_COMMIT_ID (2). */
  commitId: bigint | undefined;
  /** FL_STANDALONE: a group without BEGIN/COMMIT (DDL, non-transactional statement). */
  standalone: boolean;
  /** XA transaction id when flags2 has PREPARED_XA (0x40) or COMPLETED_XA (0x80). */
  xid: { formatId: number; gtrid: Buffer; bqual: Buffer } | undefined;
  /** Newer servers' flags_extra byte (0 when absent). */
  flagsExtra: number;
}

export interface MariadbGtid {
  domainId: number;
  serverId: number;
  seqNo: bigint;
}

/** MariaDB GTID_LIST (163): the binlog state at the start of a file (or of a GTID dump). */
export interface MariadbGtidListEvent {
  kind: 'mariadb_gtid_list';
  header: EventHeader;
  /** Top 4 bits of the count word. */
  flags: number;
  gtids: MariadbGtid[];
}

/** MariaDB BINLOG_CHECKPOINT (161). */
export interface BinlogCheckpointEvent {
  kind: 'binlog_checkpoint';
  header: EventHeader;
  file: string;
}

/** MariaDB ANNOTATE_ROWS (160): the statement text behind the next row events. */
export interface AnnotateRowsEvent {
  kind: 'annotate_rows';
  header: EventHeader;
  sql: string;
}

/** MySQL ROWS_QUERY (29): the statement text behind the next row events. */
export interface RowsQueryEvent {
  kind: 'rows_query';
  header: EventHeader;
  sql: string;
}

/** TABLE_MAP (19): binds a table id to a table and its column types for the following row events. */
export interface TableMapEvent {
  kind: 'table_map';
  header: EventHeader;
  tableId: number;
  flags: number;
  db: string;
  table: string;
  columnCount: number;
  columnTypes: Buffer;
  /** Per-column metadata as stored (concatenated, sizes depend on the column types). */
  columnMetaRaw: Buffer;
  /** Per-column metadata as one number per column (0 for types without metadata). */
  columnMeta: number[];
  /** Bit i set: column i is nullable. */
  nullBitmap: Buffer;
  /** Optional metadata TLVs (binlog_row_metadata), as stored; empty when absent. */
  optionalMetadataRaw: Buffer;
  /** The same, decoded ({} when absent). */
  optionalMetadata: TableMapOptionalMetadata;
}

/** Charset (collation id) of each character column: a default plus the exceptions. */
export interface DefaultCharset {
  defaultCollation: number;
  /** `charColumn` counts character columns only (0 = the first character column). */
  exceptions: { charColumn: number; collation: number }[];
}

/**
 * TABLE_MAP optional metadata (MySQL binlog_row_metadata, MariaDB 10.5+). Each field is present only if
 * the server wrote it (MINIMAL: signedness, charsets, geometry types, enum/set charsets; FULL adds column
 * names, enum/set values, primary key, visibility).
 */
export interface TableMapOptionalMetadata {
  /** SIGNEDNESS bits, MSB first, one per numeric column in column order, then padding (true = UNSIGNED). */
  signednessBits?: boolean[];
  defaultCharset?: DefaultCharset;
  /** COLUMN_CHARSET: one collation id per character column. */
  columnCharsets?: number[];
  columnNames?: string[];
  /** One list of member names per SET column. */
  setValues?: string[][];
  /** One list of member names per ENUM column. */
  enumValues?: string[][];
  geometryTypes?: number[];
  /** SIMPLE_PRIMARY_KEY (prefix 0) or PRIMARY_KEY_WITH_PREFIX; column indexes are 0-based. */
  primaryKey?: { column: number; prefix: number }[];
  enumAndSetDefaultCharset?: DefaultCharset;
  enumAndSetColumnCharsets?: number[];
  /** COLUMN_VISIBILITY, one per column (false = INVISIBLE). */
  columnVisibility?: boolean[];
  vectorDimensionality?: number[];
  /** Types this decoder does not know, kept raw. */
  unknown?: { type: number; value: Buffer }[];
}

export type RowsEventKind = 'write_rows' | 'update_rows' | 'delete_rows';

/**
 * WRITE/UPDATE/DELETE_ROWS v1 (23-25), v2 (30-32), MariaDB compressed (166-171) and MySQL
 * PARTIAL_UPDATE_ROWS (39, an update with `partial` set), decoded up to the
 * row data. `rows` holds the row images (decompressed for the compressed types), to be decoded with the
 * TABLE_MAP of `tableId`.
 */
export interface RowsEventBase {
  header: EventHeader;
  version: 1 | 2;
  compressed: boolean;
  tableId: number;
  flags: number;
  /** Flag 1: last row event of the statement (table maps may be dropped after it). */
  stmtEnd: boolean;
  /** v2 extra-data block (without its length word); empty for v1. */
  extraData: Buffer;
  columnCount: number;
  columnsPresent: Buffer;
  rows: Buffer;
}

export interface WriteRowsEvent extends RowsEventBase {
  kind: 'write_rows';
}

export interface UpdateRowsEvent extends RowsEventBase {
  kind: 'update_rows';
  /** The columns present in the after image. */
  columnsPresentAfter: Buffer;
  /**
   * MySQL PARTIAL_UPDATE_ROWS (39, binlog_row_value_options=PARTIAL_JSON): each after image is preceded
   * by value options, and JSON columns may hold diffs against the before value (see decodeRows).
   */
  partial: boolean;
}

export interface DeleteRowsEvent extends RowsEventBase {
  kind: 'delete_rows';
}

export type RowsEvent = WriteRowsEvent | UpdateRowsEvent | DeleteRowsEvent;

/** HEARTBEAT (27) and HEARTBEAT_V2 (41): sent when no event was sent for the heartbeat period. */
export interface HeartbeatEvent {
  kind: 'heartbeat';
  header: EventHeader;
  version: 1 | 2;
  /** Current binlog file of the server. */
  file: string;
  /** Position in that file: header log_pos for v1, the 64-bit field for v2. */
  position: number;
}

/** STOP (3): the server shut down; the file ends here. */
export interface StopEvent {
  kind: 'stop';
  header: EventHeader;
}

/** MySQL GTID (33), ANONYMOUS_GTID (34) and GTID_TAGGED (42). */
export interface MysqlGtidEvent {
  kind: 'mysql_gtid';
  header: EventHeader;
  anonymous: boolean;
  /** GTID_TAGGED (42, MySQL 8.3+). */
  tagged: boolean;
  flags: number;
  /** Source UUID, lower-case with dashes. */
  sid: string;
  /** GTID tag (tagged events with a tag only). */
  tag: string | undefined;
  gno: bigint;
  /** `sid:gno`, `sid:tag:gno`, or `ANONYMOUS`. */
  gtid: string;
  /** Logical clock (5.7+); undefined when the post-header is the short 5.6 one. */
  lastCommitted: bigint | undefined;
  sequenceNumber: bigint | undefined;
  /** Microseconds since the epoch (8.0.1+). */
  immediateCommitTimestamp: bigint | undefined;
  originalCommitTimestamp: bigint | undefined;
  /** Bytes of the whole transaction, this event included (8.0.2+). */
  transactionLength: number | undefined;
  /** E.g. 80045 (8.0.14+). */
  immediateServerVersion: number | undefined;
  originalServerVersion: number | undefined;
  commitGroupTicket: bigint | undefined;
}

/** [start, end) of GNOs. */
export interface GtidInterval {
  start: bigint;
  end: bigint;
}

export interface TaggedSid {
  uuid: string;
  tag: string | undefined;
  intervals: GtidInterval[];
}

/** MySQL PREVIOUS_GTIDS (35): the GTID set executed before this file. */
export interface PreviousGtidsEvent {
  kind: 'previous_gtids';
  header: EventHeader;
  tagged: boolean;
  sids: TaggedSid[];
  /** MySQL text form, e.g. `3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7`. */
  gtidSet: string;
}

/** INTVAR (5): LAST_INSERT_ID (1) or INSERT_ID (2) for the next statement-format QUERY. */
export interface IntvarEvent {
  kind: 'intvar';
  header: EventHeader;
  intvarType: number;
  value: bigint;
}

/** RAND (13): RAND() seeds for the next statement-format QUERY. */
export interface RandEvent {
  kind: 'rand';
  header: EventHeader;
  seed1: bigint;
  seed2: bigint;
}

/** USER_VAR (14): a user variable the next statement-format QUERY reads. */
export interface UserVarEvent {
  kind: 'user_var';
  header: EventHeader;
  name: string;
  isNull: boolean;
  /** Item_result: 0 STRING, 1 REAL, 2 INT, 4 DECIMAL. Undefined when NULL. */
  valueType: number | undefined;
  charset: number | undefined;
  /** The raw value bytes (string bytes; 8-byte double/int; decimal precision, scale, digits). */
  value: Buffer | undefined;
  /** Bit 1: unsigned integer (5.6+); 0 when absent. */
  flags: number;
}

/** INCIDENT (26): something happened on the source that may have made the binlog incomplete. */
export interface IncidentEvent {
  kind: 'incident';
  header: EventHeader;
  /** 1 = LOST_EVENTS. */
  incident: number;
  message: string;
}

/**
 * MySQL TRANSACTION_PAYLOAD (40): a whole transaction's events, compressed. `payload` is the
 * decompressed inner events (no checksum, log_pos 0); decode them with `BinlogDecoder.payloadEvents`.
 */
export interface TransactionPayloadEvent {
  kind: 'transaction_payload';
  header: EventHeader;
  /** 0 = zstd, 255 = none. */
  compressionType: number;
  compressedSize: number;
  uncompressedSize: number;
  payload: Buffer;
}

/** Any event type this decoder does not decode. Never an error. */
export interface UnknownEvent {
  kind: 'unknown';
  header: EventHeader;
  typeCode: number;
  /** Body without header and checksum. */
  body: Buffer;
}

export type BinlogEvent =
  | FormatDescriptionEvent
  | RotateEvent
  | QueryEvent
  | XidEvent
  | MariadbGtidEvent
  | MariadbGtidListEvent
  | BinlogCheckpointEvent
  | AnnotateRowsEvent
  | RowsQueryEvent
  | TableMapEvent
  | RowsEvent
  | HeartbeatEvent
  | StopEvent
  | MysqlGtidEvent
  | PreviousGtidsEvent
  | IntvarEvent
  | RandEvent
  | UserVarEvent
  | IncidentEvent
  | TransactionPayloadEvent
  | UnknownEvent;

export type BinlogEventKind = BinlogEvent['kind'];
