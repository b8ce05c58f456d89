import { eventCrc32, hasValidCrc32, storedCrc32 } from './checksum.js';
import { CHECKSUM_LENGTH, EVENT_HEADER_LENGTH, EventType } from './constants.js';
import { Cursor } from './cursor.js';
import { BinlogDecodeError } from './errors.js';
import { DEFAULT_BODY_CONTEXT, type BodyContext } from './events/context.js';
import {
  decodeBinlogCheckpoint,
  decodeFormatDescription,
  decodeHeartbeat,
  decodeHeartbeatV2,
  decodeIncident,
  decodeRotate,
  decodeStop,
  decodeXid,
} from './events/control.js';
import { decodeMariadbGtid, decodeMariadbGtidList } from './events/mariadb-gtid.js';
import { decodeMysqlGtid, decodeMysqlGtidTagged, decodePreviousGtids } from './events/mysql-gtid.js';
import { decodeQuery } from './events/query.js';
import { decodeRowsEvent, isRowsEventType } from './events/rows.js';
import { decodeIntvar, decodeRand, decodeUserVar } from './events/statement-context.js';
import { decodeTableMap } from './events/table-map.js';
import { decodeAnnotateRows, decodeRowsQuery } from './events/text.js';
import { decodeTransactionPayload } from './events/transaction-payload.js';
import type {
  BinlogEvent,
  ChecksumAlgorithm,
  EventHeader,
  FormatDescriptionEvent,
  RowsEvent,
  TableMapEvent,
  TransactionPayloadEvent,
} from './events/types.js';
import { decodeHeader } from './header.js';
import { decodeRows, type DecodeRowsOptions } from './rows/decode.js';
import type { RowChange } from './rows/values.js';

export interface BinlogDecoderOptions {
  /** Name of the binlog file the first events belong to (for error messages); ROTATE updates it. */
  file?: string;
  /**
   * Whether events before the first FORMAT_DESCRIPTION (the fake ROTATE a dump starts with) carry a
   * CRC32. The server decides that from the client's @master_binlog_checksum; 'detect' (the default)
   * checks whether the last 4 bytes are a valid CRC32 of the rest.
   */
  checksumBeforeFde?: ChecksumAlgorithm | 'detect';
}

/**
 * Turns whole events into typed objects. Stateful across events: the FORMAT_DESCRIPTION of each file sets
 * the checksum algorithm and the post-header lengths of the events after it, ROTATE sets the file name,
 * TABLE_MAP events are kept by table id for decoding the row events that follow.
 */
export class BinlogDecoder {
  private currentFile: string | undefined;
  private readonly beforeFde: ChecksumAlgorithm | 'detect';
  /** Undefined until the current file's FDE is seen. */
  private fileChecksum: ChecksumAlgorithm | undefined;
  private fde: FormatDescriptionEvent | undefined;
  private context: BodyContext = DEFAULT_BODY_CONTEXT;
  private readonly tables = new Map<number, TableMapEvent>();
  /** The body bytes each entry of `tables` was decoded from (see tableMapEvent). */
  private readonly tableBodies = new Map<number, Buffer>();
  /** Where each TRANSACTION_PAYLOAD was (if the caller said): errors inside it name that position. */
  private readonly payloadPositions = new WeakMap<TransactionPayloadEvent, number>();

  constructor(opts: BinlogDecoderOptions = {}) {
    this.currentFile = opts.file;
    this.beforeFde = opts.checksumBeforeFde ?? 'detect';
  }

  /** Checksum algorithm of the current file ('none' until its FORMAT_DESCRIPTION was seen). */
  get checksum(): ChecksumAlgorithm {
    return this.fileChecksum ?? 'none';
  }

  get file(): string | undefined {
    return this.currentFile;
  }

  /** The FORMAT_DESCRIPTION of the current file, once seen. */
  get formatDescription(): FormatDescriptionEvent | undefined {
    return this.fde;
  }

  /** The last TABLE_MAP seen for a table id. */
  tableMap(tableId: number): TableMapEvent | undefined {
    return this.tables.get(tableId);
  }

  /**
   * The row images of a rows event, read with the TABLE_MAP last seen for its table id (see
   * rows/decode.ts). Errors are MALFORMED_EVENT/UNSUPPORTED with the table, row and column.
   */
  decodeRows(event: RowsEvent, opts?: DecodeRowsOptions): RowChange[] {
    const ctx = { file: this.currentFile, typeCode: event.header.typeCode };
    const tableMap = this.tables.get(event.tableId);
    if (!tableMap)
      throw new BinlogDecodeError('MALFORMED_EVENT', `no TABLE_MAP for table id ${event.tableId}`, ctx);
    try {
      const flavor = this.fde?.mariadb ? 'mariadb' : 'mysql';
      return decodeRows(event, tableMap, opts?.flavor === undefined ? { ...opts, flavor } : opts);
    } catch (err) {
      throw err instanceof BinlogDecodeError ? err.withContext(ctx) : err;
    }
  }

  /**
   * Decodes one whole event: 19-byte header + body + checksum if any. `position` is the offset of the
   * event in its file (used in error messages only).
   */
  decode(event: Buffer, position?: number): BinlogEvent {
    return this.decodeEvent(event, position, false);
  }

  /**
   * The events inside a TRANSACTION_PAYLOAD, decoded lazily one by one (they carry no checksum and
   * log_pos 0). TABLE_MAPs among them are cached like any other.
   */
  *payloadEvents(payload: TransactionPayloadEvent): Generator<BinlogEvent, void, undefined> {
    const bytes = payload.payload;
    // Inner events have no position of their own: errors name the payload event's, and the offset.
    const position = this.payloadPositions.get(payload);
    let offset = 0;
    while (offset < bytes.length) {
      let event: BinlogEvent;
      try {
        if (bytes.length - offset < EVENT_HEADER_LENGTH) {
          const left = bytes.length - offset;
          throw new BinlogDecodeError('MALFORMED_EVENT', `${left} bytes left, less than an event header`, {
            typeCode: EventType.TRANSACTION_PAYLOAD,
          });
        }
        const size = bytes.readUInt32LE(offset + 9);
        event = this.decodeEvent(
          bytes.subarray(offset, Math.min(bytes.length, offset + Math.max(size, 1))),
          position,
          true,
        );
        offset += size;
      } catch (err) {
        if (!(err instanceof BinlogDecodeError)) throw err;
        throw new BinlogDecodeError(err.code, `in transaction payload at offset ${offset}: ${err.detail}`, {
          file: this.currentFile,
          position,
          typeCode: err.typeCode,
        });
      }
      yield event;
    }
  }

  private decodeEvent(event: Buffer, position: number | undefined, inPayload: boolean): BinlogEvent {
    let typeCode: number | undefined;
    try {
      if (event.length < EVENT_HEADER_LENGTH) {
        throw new BinlogDecodeError('TRUNCATED', `event of ${event.length} bytes is shorter than a header`);
      }
      const header = decodeHeader(event);
      typeCode = header.typeCode;
      if (header.eventSize < EVENT_HEADER_LENGTH) {
        throw new BinlogDecodeError('BAD_EVENT_LENGTH', `event_size ${header.eventSize} < 19`);
      }
      if (header.eventSize > event.length) {
        throw new BinlogDecodeError(
          'TRUNCATED',
          `event_size ${header.eventSize} but only ${event.length} bytes available`,
        );
      }
      if (header.eventSize < event.length) {
        throw new BinlogDecodeError(
          'BAD_EVENT_LENGTH',
          `event_size ${header.eventSize} but ${event.length} bytes were given`,
        );
      }
      if (typeCode === EventType.FORMAT_DESCRIPTION && !inPayload)
        return this.onFormatDescription(event, header);

      const crc = !inPayload && this.hasChecksum(event);
      const end = crc ? event.length - CHECKSUM_LENGTH : event.length;
      if (crc) {
        if (end < EVENT_HEADER_LENGTH) {
          throw new BinlogDecodeError(
            'BAD_EVENT_LENGTH',
            `event_size ${header.eventSize} leaves no room for CRC32`,
          );
        }
        verifyCrc(event, false);
      }
      if (typeCode === EventType.TABLE_MAP) return this.tableMapEvent(event, end, header);
      const decoded = this.decodeBody(new Cursor(event, EVENT_HEADER_LENGTH, end), header);
      if (decoded.kind === 'rotate') this.onRotate(decoded.nextFile);
      else if (decoded.kind === 'transaction_payload' && position !== undefined)
        this.payloadPositions.set(decoded, position);
      return decoded;
    } catch (err) {
      if (err instanceof BinlogDecodeError) {
        throw err.withContext({ file: this.currentFile, position, typeCode });
      }
      throw err;
    }
  }

  /**
   * A TABLE_MAP precedes every statement's rows events, and for a given table id its body is almost
   * always the same bytes as last time. decodeTableMap is a pure function of the body and the FDE's
   * post-header lengths (a new FDE empties the cache), so an identical body reuses the last decoded
   * fields, under this event's header.
   */
  private tableMapEvent(event: Buffer, end: number, header: EventHeader): TableMapEvent {
    const idLen = this.context.postHeaderLength(EventType.TABLE_MAP) === 6 ? 4 : 6;
    if (end - EVENT_HEADER_LENGTH >= idLen) {
      const tableId = event.readUIntLE(EVENT_HEADER_LENGTH, idLen);
      const body = this.tableBodies.get(tableId);
      const last = this.tables.get(tableId);
      if (body !== undefined && last !== undefined && sameBytes(body, event, EVENT_HEADER_LENGTH, end)) {
        const decoded: TableMapEvent = {
          kind: 'table_map',
          header,
          tableId,
          flags: last.flags,
          db: last.db,
          table: last.table,
          columnCount: last.columnCount,
          columnTypes: last.columnTypes,
          columnMetaRaw: last.columnMetaRaw,
          columnMeta: last.columnMeta,
          nullBitmap: last.nullBitmap,
          optionalMetadataRaw: last.optionalMetadataRaw,
          optionalMetadata: last.optionalMetadata,
        };
        this.tables.set(tableId, decoded);
        return decoded;
      }
    }
    const decoded = decodeTableMap(new Cursor(event, EVENT_HEADER_LENGTH, end), header, this.context);
    this.tables.set(decoded.tableId, decoded);
    this.tableBodies.set(decoded.tableId, event.subarray(EVENT_HEADER_LENGTH, end));
    return decoded;
  }

  private onFormatDescription(event: Buffer, header: EventHeader): FormatDescriptionEvent {
    const fde = decodeFormatDescription(event, header);
    // The FDE's own CRC is present whenever the algorithm byte is; with algorithm 'off' some servers
    // leave it 0.
    if (fde.checksum === 'crc32' || (fde.hasChecksumField && storedCrc32(event) !== 0))
      verifyCrc(event, true);
    this.fde = fde;
    this.fileChecksum = fde.checksum;
    const lengths = fde.postHeaderLengths;
    this.context = { postHeaderLength: (t) => lengths[t - 1] ?? 0 };
    this.tables.clear();
    this.tableBodies.clear();
    return fde;
  }

  private onRotate(nextFile: string): void {
    this.currentFile = nextFile;
    // Until the next file's FDE arrives, events (a dump's fake ROTATE) follow the before-FDE rule. The
    // post-header lengths of the previous FDE stay: the server version does not change mid-stream.
    this.fileChecksum = undefined;
  }

  private hasChecksum(event: Buffer): boolean {
    if (this.fileChecksum !== undefined) return this.fileChecksum === 'crc32';
    if (this.beforeFde !== 'detect') return this.beforeFde === 'crc32';
    return event.length >= EVENT_HEADER_LENGTH + CHECKSUM_LENGTH && hasValidCrc32(event, false);
  }

  private decodeBody(c: Cursor, header: EventHeader): BinlogEvent {
    const ctx = this.context;
    switch (header.typeCode) {
      case EventType.QUERY:
      case EventType.MARIA_QUERY_COMPRESSED:
        return decodeQuery(c, header, ctx);
      case EventType.XID:
        return decodeXid(c, header, ctx);
      case EventType.ROTATE:
        return decodeRotate(c, header);
      case EventType.STOP:
        return decodeStop(header);
      case EventType.HEARTBEAT:
        return decodeHeartbeat(c, header);
      case EventType.MARIA_GTID:
        return decodeMariadbGtid(c, header);
      case EventType.MARIA_GTID_LIST:
        return decodeMariadbGtidList(c, header);
      case EventType.MARIA_BINLOG_CHECKPOINT:
        return decodeBinlogCheckpoint(c, header);
      case EventType.MARIA_ANNOTATE_ROWS:
        return decodeAnnotateRows(c, header);
      case EventType.ROWS_QUERY:
        return decodeRowsQuery(c, header);
      case EventType.GTID:
      case EventType.ANONYMOUS_GTID:
        return decodeMysqlGtid(c, header, ctx);
      case EventType.GTID_TAGGED:
        return decodeMysqlGtidTagged(c, header);
      case EventType.PREVIOUS_GTIDS:
        return decodePreviousGtids(c, header);
      case EventType.HEARTBEAT_V2:
        return decodeHeartbeatV2(c, header);
      case EventType.INTVAR:
        return decodeIntvar(c, header);
      case EventType.RAND:
        return decodeRand(c, header);
      case EventType.USER_VAR:
        return decodeUserVar(c, header);
      case EventType.INCIDENT:
        return decodeIncident(c, header, ctx);
      case EventType.TRANSACTION_PAYLOAD:
        return decodeTransactionPayload(c, header);
      default:
        if (isRowsEventType(header.typeCode)) return decodeRowsEvent(c, header, ctx);
        return { kind: 'unknown', header, typeCode: header.typeCode, body: c.rest() };
    }
  }
}

function verifyCrc(event: Buffer, isFormatDescription: boolean): void {
  if (hasValidCrc32(event, isFormatDescription)) return;
  const computed = eventCrc32(event, isFormatDescription);
  const stored = storedCrc32(event);
  if (computed !== stored) {
    throw new BinlogDecodeError(
      'CHECKSUM_MISMATCH',
      `stored CRC32 0x${stored.toString(16).padStart(8, '0')}, computed 0x${computed.toString(16).padStart(8, '0')}`,
    );
  }
}

/** Whether `a` holds exactly bytes [start, end) of `b`. */
function sameBytes(a: Buffer, b: Buffer, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[start + i]) return false;
  return true;
}
