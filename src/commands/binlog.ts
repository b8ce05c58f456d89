/**
 * `cachetail binlog <file…>`: decodes binlog files offline and prints their events, and per transaction
 * the keys the tailer would delete — the operator's tool for "why was (or wasn't) this key invalidated",
 * and the harness the decoder is checked with against mariadb-binlog.
 */
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { BinlogDecoder } from '../binlog/decoder.js';
import { BinlogDecodeError } from '../binlog/errors.js';
import type { BinlogEvent } from '../binlog/events/types.js';
import { jsonLine } from '../binlog/format/json.js';
import { quote } from '../binlog/format/text.js';
import { CachetailError, errorCodeOf, errorMessage } from '../errors.js';
import { readBinlogEvents } from './binlog-input.js';
import { LineOutput } from './binlog-output.js';
import { eventLines } from './binlog-print.js';
import {
  summaryJson,
  summaryText,
  transactionJson,
  transactionText,
  type FileSummary,
} from './binlog-render.js';
import { TransactionTracker, type TransactionReport } from './binlog-transactions.js';
import { EXIT_USAGE, parseCommandArgs, usageErrorLine } from './usage.js';

export const BINLOG_HELP = `usage: cachetail binlog [options] <file…>   (- reads stdin; gzipped input is recognised)

  --json                one JSON object per line (bigints as strings, bytes as hex, rows decoded)
  -v, --verbose         text: one line per row with its column values
  --start-position N    skip events before offset N (of the first file)
  --stop-position N     stop at the first event at or after offset N (of the last file)
  --keys-only           only transactions carrying annotations: their keys and rejected annotations
  --verify-only         decode everything and check CRC32s; print one result line per file
  -h, --help            this text

Text output: one '# at N end_log_pos M server_id S <time> <TYPE> …' line per event; after each
commit a '#> transaction … keys K: key…' line (plus '#>   rejected …' lines); a '# summary' per
file.
Exit status: 0 ok, 1 decode or read error (printed with file and position) or rows that did not
decode, 2 usage.
`;

export interface BinlogIo {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
}

interface Options {
  json: boolean;
  verbose: boolean;
  keysOnly: boolean;
  verifyOnly: boolean;
  start: number | undefined;
  stop: number | undefined;
}

function usage(message: string): CachetailError {
  return new CachetailError('USAGE', message);
}

function position(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw usage(`--${name} must be a non-negative integer, not ${quote(value)}`);
  return Number(value);
}

/** The options and files, or 'help' when the command line asks for it. */
function parse(args: string[]): { opts: Options; files: string[] } | 'help' {
  const parsed = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', short: 'v', default: false },
      'keys-only': { type: 'boolean', default: false },
      'verify-only': { type: 'boolean', default: false },
      'start-position': { type: 'string' },
      'stop-position': { type: 'string' },
    },
  });
  if (parsed.help) return 'help';
  const { values, positionals } = parsed;
  const opts: Options = {
    json: values.json,
    verbose: values.verbose,
    keysOnly: values['keys-only'],
    verifyOnly: values['verify-only'],
    start: position(values['start-position'], 'start-position'),
    stop: position(values['stop-position'], 'stop-position'),
  };
  if (opts.keysOnly && opts.verifyOnly) throw usage('--keys-only and --verify-only exclude each other');
  if (positionals.length === 0) throw usage('no binlog file given');
  if (positionals.filter((p) => p === '-').length > 1) throw usage('stdin (-) can be read only once');
  return { opts, files: positionals };
}

export async function binlogCommand(
  args: string[],
  io: BinlogIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (err) {
    io.stderr.write(usageErrorLine('binlog', err));
    return EXIT_USAGE;
  }
  if (parsed === 'help') {
    io.stdout.write(BINLOG_HELP);
    return 0;
  }
  const { opts, files } = parsed;
  const out = new LineOutput(io.stdout);
  let failed = false;
  try {
    for (const [i, file] of files.entries()) {
      const result = await runFile(
        file,
        {
          ...opts,
          start: i === 0 ? opts.start : undefined,
          stop: i === files.length - 1 ? opts.stop : undefined,
        },
        out,
        io,
      );
      if (out.closed) break;
      if (result !== 'ok') failed = true;
      // Printing stops at the first broken file (what follows would be out of context); verifying
      // goes on so one run reports on every file.
      if (result === 'failed' && !opts.verifyOnly) break;
    }
  } finally {
    await out.close();
  }
  return failed ? 1 : 0;
}

/** Binlog file name as the server knows it (transaction reports, decoder context). */
export function binlogName(file: string): string {
  return file === '-' ? '-' : path.basename(file).replace(/\.gz$/, '');
}

/** 'rows': every event decoded but some row images did not; 'failed': reading stopped at an error. */
type FileResult = 'ok' | 'rows' | 'failed';

async function runFile(file: string, opts: Options, out: LineOutput, io: BinlogIo): Promise<FileResult> {
  const decoder = new BinlogDecoder({ file });
  const tracker = new TransactionTracker(binlogName(file));
  const summary: FileSummary = {
    file,
    events: 0,
    transactions: 0,
    transactionsWithKeys: 0,
    keys: 0,
    rejected: 0,
    checksum: 'none',
    endPosition: 0,
    rowErrors: 0,
  };
  const printEvents = !opts.keysOnly && !opts.verifyOnly;
  let last: { event: BinlogEvent; end: number } | undefined;

  const report = async (t: TransactionReport | null): Promise<void> => {
    if (t === null) return;
    summary.transactions++;
    if (t.keys.length > 0) summary.transactionsWithKeys++;
    summary.keys += t.keys.length;
    summary.rejected += t.rejected.length;
    if (opts.verifyOnly) return;
    if (opts.keysOnly && t.keys.length === 0 && t.rejected.length === 0) return;
    if (opts.json) await out.line(transactionJson(t));
    else for (const line of transactionText(t)) await out.line(line);
  };
  const printEvent = async (at: number, ev: BinlogEvent, inner: boolean): Promise<void> => {
    if (!printEvents) return;
    const { lines, rowError } = eventLines(file, at, ev, inner, decoder, opts);
    if (rowError) summary.rowErrors++;
    for (const line of lines) await out.line(line);
  };

  try {
    if (printEvents && !opts.json) await out.line(`# file ${quote(file)}`);
    for await (const { position: at, bytes } of readBinlogEvents(
      file,
      { name: file, startPosition: opts.start },
      io.stdin,
    )) {
      if (opts.stop !== undefined && at >= opts.stop) break;
      const ev = decodeAt(decoder, bytes, at, file);
      summary.endPosition = at + bytes.length;
      if (ev.kind === 'format_description') summary.checksum = ev.checksum;
      // Before the start position only the FORMAT_DESCRIPTION is shown (it says how the rest decodes);
      // a stream that cannot seek reads the events in between, but they count for nothing.
      if (opts.start !== undefined && at < opts.start && ev.kind !== 'format_description') continue;
      summary.events++;
      last = { event: ev, end: at + bytes.length };
      await printEvent(at, ev, false);
      if (ev.kind === 'transaction_payload') {
        // Inner events carry no position; they take the payload event's, as in the tailer.
        for (const innerEv of decoder.payloadEvents(ev)) {
          await printEvent(at, innerEv, true);
          await report(
            tracker.push(at, {
              ...innerEv,
              header: { ...innerEv.header, nextPosition: ev.header.nextPosition },
            }),
          );
        }
      } else {
        await report(tracker.push(at, ev));
      }
      if (out.closed) return 'ok';
    }
    await report(tracker.finish(last));
  } catch (err) {
    await report(tracker.finish(last));
    await fail(err, file, opts, out, io);
    return 'failed';
  }
  if (opts.verifyOnly) {
    await out.line(
      `${file}: OK events ${summary.events} checksum ${summary.checksum} end_position ${summary.endPosition}`,
    );
  } else {
    await out.line(opts.json ? summaryJson(summary) : summaryText(summary));
  }
  return summary.rowErrors === 0 ? 'ok' : 'rows';
}

export function decodeAt(decoder: BinlogDecoder, bytes: Buffer, at: number, file: string): BinlogEvent {
  try {
    return decoder.decode(bytes, at);
  } catch (err) {
    // The decoder follows ROTATE events (a relay log names the source's files); errors are about this
    // physical file.
    if (err instanceof BinlogDecodeError) {
      throw new BinlogDecodeError(err.code, err.detail, { file, position: at, typeCode: err.typeCode });
    }
    throw err;
  }
}

async function fail(err: unknown, file: string, opts: Options, out: LineOutput, io: BinlogIo): Promise<void> {
  const decodeError = err instanceof BinlogDecodeError ? err : undefined;
  const code = errorCodeOf(err);
  const message = errorMessage(err);
  if (opts.json) {
    await out.line(
      jsonLine({
        type: 'error',
        file,
        position: decodeError?.position ?? null,
        typeCode: decodeError?.typeCode ?? null,
        code,
        message,
      }),
    );
  } else if (opts.verifyOnly) {
    await out.line(`${file}: FAILED ${message}`);
  }
  await out.flush();
  io.stderr.write(`cachetail binlog: ${file}: ${message}${decodeError ? '' : ` [${code}]`}\n`);
}
