/**
 * Pure binlog decoder: bytes in, typed events out. No sockets, timers or logging.
 * Builders of test events live in test/helpers/binlog (test support, never imported from src/).
 */
export { BinlogDecoder, type BinlogDecoderOptions } from './decoder.js';
export { readBinlogFile, type PositionedEvent, type ReadBinlogFileOptions } from './file.js';
export { BinlogDecodeError, type BinlogDecodeErrorCode, type BinlogErrorContext } from './errors.js';
export { EventType, EventFlag, eventTypeName, BINLOG_MAGIC, EVENT_HEADER_LENGTH } from './constants.js';
export { decodeHeader } from './header.js';
export { formatGtidSet, formatUuid } from './events/mysql-gtid.js';
export { ColumnType } from './events/table-map.js';
export type * from './events/types.js';
export * from './gtid-set.js';
export { decodeRows, type DecodeRowsOptions } from './rows/decode.js';
export { tablePlan, type ColumnHints, type ColumnPlan, type TablePlan } from './rows/columns.js';
export { decodeJsonBinary } from './rows/json-binary.js';
export { decodeJsonDiffs } from './rows/json-diff.js';
export * from './rows/values.js';
