/**
 * The lines `cachetail binlog` prints besides events: per transaction the keys it would delete (and the
 * rejected annotations), per file a summary. Text lines about transactions start with `#>` so that
 * `grep '^#>'` gives the operator's view of a whole file; every JSON line has a `type`.
 */
import { jsonLine } from '../binlog/format/json.js';
import { quote } from '../binlog/format/text.js';
import type { TransactionReport } from './binlog-transactions.js';

export interface FileSummary {
  file: string;
  events: number;
  transactions: number;
  transactionsWithKeys: number;
  keys: number;
  rejected: number;
  /** Checksum algorithm of the file's FORMAT_DESCRIPTION ('none' when it has none or was not read). */
  checksum: string;
  /** Offset just past the last event read. */
  endPosition: number;
  /** Rows events whose row images did not decode (shown with the error; exit status 1). */
  rowErrors: number;
}

const pos = (n: number | undefined): string => (n === undefined ? '-' : String(n));

/** `#> transaction …` and one `#>   rejected …` line per rejected annotation. */
export function transactionText(t: TransactionReport): string[] {
  const head =
    `#> transaction${t.gtid === undefined ? '' : ` gtid ${t.gtid}`} start ${pos(t.startPosition)}` +
    ` commit ${pos(t.commitPosition)} end_log_pos ${t.endLogPos}` +
    `${t.writerTimeMs === undefined ? '' : ` writer_ts ${new Date(t.writerTimeMs).toISOString()}`}` +
    `${t.incomplete ? ' incomplete' : ''} keys ${t.keys.length}` +
    `${t.keys.length > 0 ? `: ${t.keys.join(' ')}` : ''}` +
    `${t.rejected.length > 0 ? ` rejected ${t.rejected.length}` : ''}`;
  return [
    head,
    ...t.rejected.map((r) => `#>   rejected ${r.reason} at ${r.start} ${quote(r.text)}: ${r.detail}`),
  ];
}

export function transactionJson(t: TransactionReport): string {
  return jsonLine({
    type: 'transaction',
    file: t.file,
    gtid: t.gtid ?? null,
    startPosition: t.startPosition ?? null,
    commitPosition: t.commitPosition ?? null,
    endLogPos: t.endLogPos,
    serverId: t.serverId,
    commitTimeMs: t.commitTimeMs,
    writerTimeMs: t.writerTimeMs ?? null,
    incomplete: t.incomplete,
    keys: t.keys,
    rejected: t.rejected.map((r) => ({ reason: r.reason, offset: r.start, text: r.text, detail: r.detail })),
  });
}

export function summaryText(s: FileSummary): string {
  return (
    `# summary file ${quote(s.file)} events ${s.events} end_position ${s.endPosition} checksum ${s.checksum}` +
    ` transactions ${s.transactions} with_keys ${s.transactionsWithKeys} keys ${s.keys} rejected ${s.rejected}` +
    `${s.rowErrors > 0 ? ` row_errors ${s.rowErrors}` : ''}`
  );
}

export function summaryJson(s: FileSummary): string {
  return jsonLine({ type: 'summary', ...s });
}
