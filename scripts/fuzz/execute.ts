/**
 * Runs one case the way the tailer reads events — a fresh BinlogDecoder, the inner events of a
 * TRANSACTION_PAYLOAD through `payloadEvents`, every event through the TransactionAssembler with the
 * real annotation extractor — and checks the contract: the only exception is a BinlogDecodeError with a
 * known code whose message names the file (and the position, when the caller gave one); decoded events
 * hold no more memory than their input allows; every key handed to a sink is a valid memcached key.
 */
import { extractAnnotations, validateKey } from '../../src/annotate/index.js';
import {
  BinlogDecodeError,
  BinlogDecoder,
  decodeRows,
  readBinlogFile,
  type BinlogEvent,
} from '../../src/binlog/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { annotationExtractor } from '../../src/tailer/extract.js';
import { TransactionAssembler } from '../../src/tailer/transactions.js';
import type { FuzzCase } from './cases.js';

export const FUZZ_FILE = 'fuzz-bin.000001';
/** Where event cases pretend the event sits in its file (so errors must say "position 4096"). */
export const FUZZ_POSITION = 4096;

const CODES = new Set([
  'BAD_MAGIC',
  'TRUNCATED',
  'BAD_EVENT_LENGTH',
  'CHECKSUM_MISMATCH',
  'MALFORMED_EVENT',
  'UNSUPPORTED',
]);

export interface CaseResult {
  /** 'decoded' or 'error:<code>'. */
  outcome: string;
  events: number;
  keys: number;
  /** Largest retained size of a decoded event divided by the input length. */
  footprintRatio: number;
  /** Rows events whose row images were decoded (decodeRows with the decoder's TABLE_MAP): rows, errors. */
  rows: number;
  rowErrors: Map<string, number>;
  /** Contract violations; empty when the case passed. */
  failures: string[];
}

/** The tailer's own extractor (src/wiring/memcached-tailer.ts), logging nowhere: rejections are expected here. */
const extract = annotationExtractor(createLogger('silent'));

export function executeCase(c: FuzzCase): CaseResult {
  const result: CaseResult = {
    outcome: 'decoded',
    events: 0,
    keys: 0,
    footprintRatio: 0,
    rows: 0,
    rowErrors: new Map(),
    failures: [],
  };
  const decoder = new BinlogDecoder({ file: FUZZ_FILE });
  const assembler = new TransactionAssembler(extract);
  assembler.reset(FUZZ_FILE);
  const feed = (ev: BinlogEvent, from: Buffer, decompressed: number): void => {
    result.events++;
    checkFootprint(ev, from, decompressed, result);
    checkText(ev, result);
    if (ev.kind === 'write_rows' || ev.kind === 'update_rows' || ev.kind === 'delete_rows') {
      checkRowImages(decoder, ev, decompressed, result);
    }
    const txn = assembler.push(ev);
    if (txn) {
      result.keys += txn.keys.length;
      for (const k of txn.keys) {
        const bad = validateKey(k);
        if (bad) result.failures.push(`assembler delivered an invalid key (${bad}): ${JSON.stringify(k)}`);
      }
    }
  };
  const feedWithPayload = (ev: BinlogEvent, from: Buffer, position: number | undefined): void => {
    if (ev.kind !== 'transaction_payload') {
      feed(ev, from, decompressedSize(ev));
      return;
    }
    feed(ev, from, ev.payload.length);
    try {
      for (const inner of decoder.payloadEvents(ev)) {
        // As the tailer does: inner events have log_pos 0 and belong to the payload's position.
        const rebased = { ...inner, header: { ...inner.header, nextPosition: ev.header.nextPosition } };
        feed(rebased, ev.payload, 0);
      }
    } catch (err) {
      classify(err, position, result, true);
    }
  };

  if (c.kind === 'stream') {
    try {
      for (const { position, event } of readBinlogFile(c.bytes, { decoder, file: FUZZ_FILE })) {
        feedWithPayload(event, c.bytes, position);
      }
    } catch (err) {
      classify(err, -1, result, false);
    }
    return result;
  }
  try {
    for (const p of c.prelude) feed(decoder.decode(p), p, 0);
  } catch (err) {
    result.failures.push(`the unmutated context of ${c.source} does not decode: ${String(err)}`);
    return result;
  }
  let ev: BinlogEvent;
  try {
    ev = decoder.decode(c.bytes, FUZZ_POSITION);
  } catch (err) {
    classify(err, FUZZ_POSITION, result, false);
    return result;
  }
  if (ev.header.eventSize !== c.bytes.length) {
    result.failures.push(
      `decoded an event of ${c.bytes.length} bytes whose event_size is ${ev.header.eventSize}`,
    );
  }
  feedWithPayload(ev, c.bytes, FUZZ_POSITION);
  return result;
}

/**
 * `position`: the position the caller passed (the message must name it), -1 for "any, but one must be
 * given" (file reads), undefined for none.
 */
function classify(err: unknown, position: number | undefined, r: CaseResult, inPayload: boolean): void {
  if (!(err instanceof BinlogDecodeError)) {
    const e = err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err);
    r.failures.push(`uncaught non-BinlogDecodeError: ${e}`);
    r.outcome = 'error:UNTYPED';
    return;
  }
  r.outcome = `error:${err.code}${inPayload ? '(payload)' : ''}`;
  if (!CODES.has(err.code)) r.failures.push(`unknown error code ${err.code}`);
  if (err.file === undefined || !err.message.includes(`file ${err.file}`)) {
    r.failures.push(`error does not name its file: ${err.message}`);
  }
  const wanted = position === -1 ? err.position : position;
  if (position !== undefined && (wanted === undefined || !err.message.includes(`position ${wanted}`))) {
    r.failures.push(`error does not name its position${inPayload ? ' (payload event)' : ''}: ${err.message}`);
  }
}

function decompressedSize(ev: BinlogEvent): number {
  if (ev.kind === 'query') return ev.compressed ? ev.sql.length * 3 : 0;
  if ('rows' in ev && ev.compressed) return ev.rows.length;
  return 0;
}

/**
 * Row images through src/binlog/rows with the TABLE_MAP the decoder cached, as `cachetail binlog` and
 * outbox mode read them. Called outside the decoder, their errors carry no file/position (the caller
 * adds them); they must still be BinlogDecodeErrors, and the decoded values bounded by the input.
 */
function checkRowImages(
  decoder: BinlogDecoder,
  ev: Extract<BinlogEvent, { kind: 'write_rows' | 'update_rows' | 'delete_rows' }>,
  decompressed: number,
  r: CaseResult,
): void {
  const map = decoder.tableMap(ev.tableId);
  if (!map) return;
  try {
    const rows = decodeRows(ev, map);
    r.rows += rows.length;
    const input = ev.header.eventSize + map.header.eventSize + decompressed;
    const size = footprint(rows, ev.rows.buffer, 0);
    if (size > ROWS_FOOTPRINT_FACTOR * input + FOOTPRINT_SLACK) {
      r.failures.push(`decodeRows retains ~${size} bytes for ${input} bytes of events`);
    }
  } catch (err) {
    if (err instanceof BinlogDecodeError) {
      r.rowErrors.set(err.code, (r.rowErrors.get(err.code) ?? 0) + 1);
      return;
    }
    const e = err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err);
    r.failures.push(`decodeRows threw a non-BinlogDecodeError: ${e}`);
  }
}

/** Statement texts go through the byte-mode extractor too (the CLI passes raw bytes). */
function checkText(ev: BinlogEvent, r: CaseResult): void {
  const sql =
    ev.kind === 'query' || ev.kind === 'annotate_rows' || ev.kind === 'rows_query' ? ev.sql : undefined;
  if (sql === undefined || !sql.includes('MEMCACHE_DIRTY')) return;
  for (const k of extractAnnotations(Buffer.from(sql, 'utf8')).keys) {
    const bad = validateKey(k);
    if (bad)
      r.failures.push(`extractAnnotations(bytes) returned an invalid key (${bad}): ${JSON.stringify(k)}`);
  }
}

/**
 * Bytes a decoded event keeps alive beyond views into its input: strings, arrays, objects and fresh
 * buffers. A length field that makes the decoder build a structure far larger than the event (an array
 * per claimed column, a string per claimed name) shows up here deterministically, GC or not.
 */
const FOOTPRINT_FACTOR = 16;
const FOOTPRINT_SLACK = 8192;
/**
 * Decoded rows are bigger by nature: a row image can be a single byte (the NULL bitmap of a one-column
 * row) and becomes an object and an array (~60 bytes). What must not happen is growth beyond that
 * constant, driven by a length or count read from the event.
 */
const ROWS_FOOTPRINT_FACTOR = 64;

function checkFootprint(ev: BinlogEvent, from: Buffer, decompressed: number, r: CaseResult): void {
  const input = ev.header.eventSize;
  const size = footprint(ev, from.buffer, 0);
  const ratio = Math.max(0, size - FOOTPRINT_SLACK) / Math.max(1, input + decompressed);
  if (ratio > r.footprintRatio) r.footprintRatio = ratio;
  if (size > FOOTPRINT_FACTOR * (input + decompressed) + FOOTPRINT_SLACK) {
    r.failures.push(
      `decoded ${ev.kind} retains ~${size} bytes for a ${input}-byte event (${decompressed} decompressed)`,
    );
  }
}

function footprint(v: unknown, input: ArrayBufferLike, depth: number): number {
  // Numbers, booleans and small integers live in their slot (counted by the container).
  if (depth > 8) return 0;
  if (typeof v === 'string') return 16 + v.length * 2;
  if (typeof v === 'bigint') return 24;
  if (typeof v !== 'object' || v === null) return 0;
  if (ArrayBuffer.isView(v)) return v.buffer === input ? 48 : 48 + v.byteLength;
  let sum = 16;
  const values = Array.isArray(v) ? (v as unknown[]) : Object.values(v as Record<string, unknown>);
  for (const x of values) sum += 8 + footprint(x, input, depth + 1);
  return sum;
}
