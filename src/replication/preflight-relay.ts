/**
 * What the replica's relay log says about its primary. The tailer's account cannot read the primary's
 * settings, but the relay log holds the primary's events exactly as the primary wrote them:
 *
 * - a Query event carrying INSERT/UPDATE/DELETE/… means the primary logged that write as a statement
 *   (binlog_format STATEMENT or MIXED, globally or in the writer's session). A replica whose own
 *   binlog_format is ROW re-logs it as row events *without* an Annotate_rows/Rows_query event, so the
 *   comment is lost (verified on MariaDB 10.11, notes/binlog-protocol.md §2);
 * - a row-logged statement (Table_map + rows) without an Annotate_rows/Rows_query event in front means
 *   the primary does not write the statement text (binlog_annotate_row_events /
 *   binlog_rows_query_log_events OFF there).
 *
 * Only the start of each current relay log file is read (SHOW RELAYLOG EVENTS … LIMIT n), which keeps
 * the preflight cheap; relay logs rotate on every replication restart and at max_relay_log_size.
 */
import type { RelayEvent } from './preflight-types.js';

export interface Evidence {
  file: string;
  pos: number;
  serverId: number;
  /** Statement verb (INSERT, …) or table name (db.t), depending on the finding. */
  what: string;
}

export interface RelayAnalysis {
  /** Events read, over all channels. */
  events: number;
  /** Writes the primary logged as statements. */
  statementWrites: number;
  firstStatementWrite?: Evidence;
  /** Row-logged statements preceded by their Annotate_rows/Rows_query event. */
  annotatedRowStatements: number;
  /** Row-logged statements with no statement text in front. */
  unannotatedRowStatements: number;
  firstUnannotated?: Evidence;
  /** Events whose content SHOW RELAYLOG EVENTS does not show (MySQL compressed transaction payloads). */
  opaque: number;
}

/** Statements that change rows; a Query event with one of these is a statement-format write. */
const WRITE_VERBS = new Set(['INSERT', 'UPDATE', 'DELETE', 'REPLACE', 'LOAD', 'WITH']);
const ANNOTATION_TYPES = new Set(['annotate_rows', 'rows_query']);

const isQuery = (type: string): boolean => /^query(_compressed)?$/i.test(type);

/**
 * The verb of a statement as SHOW RELAYLOG EVENTS prints it (`use \`db\`; /* c *\/ INSERT …`), if it is
 * a write. Leading comments are skipped; a MariaDB/MySQL executable comment (`/*!50001 …`) is entered,
 * because its content is what runs.
 */
export function writeVerb(info: string): string | undefined {
  let s = info.replace(/^use `(?:[^`]|``)*`; /, '');
  for (;;) {
    s = s.trimStart();
    const exec = /^\/\*(?:M!|!!?)\d*/.exec(s);
    if (exec) {
      s = s.slice(exec[0].length);
      continue;
    }
    if (s.startsWith('/*')) {
      const end = s.indexOf('*/', 2);
      if (end < 0) return undefined;
      s = s.slice(end + 2);
      continue;
    }
    if (s.startsWith('#') || s.startsWith('-- ')) {
      const end = s.indexOf('\n');
      if (end < 0) return undefined;
      s = s.slice(end + 1);
      continue;
    }
    break;
  }
  const word = /^[A-Za-z]+/.exec(s)?.[0].toUpperCase();
  if (word === undefined || !WRITE_VERBS.has(word)) return undefined;
  return word === 'LOAD' ? 'LOAD DATA' : word;
}

function tableOf(info: string): string {
  return /\(([^)]*)\)\s*$/.exec(info)?.[1] ?? '?';
}

/**
 * Scans relay-log events in order. `ownServerId` is the replica's own id: its events (the relay log's
 * own format description, rotations) say nothing about the primary.
 */
export function analyzeRelayEvents(events: readonly RelayEvent[], ownServerId: number): RelayAnalysis {
  const a: RelayAnalysis = {
    events: events.length,
    statementWrites: 0,
    annotatedRowStatements: 0,
    unannotatedRowStatements: 0,
    opaque: 0,
  };
  let previous = '';
  for (const ev of events) {
    if (ev.serverId === ownServerId) continue;
    const type = ev.type.toLowerCase();
    const at = { file: ev.file, pos: ev.pos, serverId: ev.serverId };
    if (isQuery(type) || type === 'execute_load_query') {
      const verb = type === 'execute_load_query' ? 'LOAD DATA' : writeVerb(ev.info);
      if (verb !== undefined) {
        a.statementWrites++;
        a.firstStatementWrite ??= { ...at, what: verb };
      }
    } else if (type === 'table_map') {
      // A statement's events are: [annotation] Table_map… rows…; a Table_map after a Table_map is the
      // same statement touching another table.
      if (ANNOTATION_TYPES.has(previous)) {
        a.annotatedRowStatements++;
      } else if (previous !== 'table_map') {
        a.unannotatedRowStatements++;
        a.firstUnannotated ??= { ...at, what: tableOf(ev.info) };
      }
    } else if (type === 'transaction_payload') {
      a.opaque++;
    }
    previous = type;
  }
  return a;
}

export function mergeAnalyses(analyses: readonly RelayAnalysis[]): RelayAnalysis {
  const merged: RelayAnalysis = {
    events: 0,
    statementWrites: 0,
    annotatedRowStatements: 0,
    unannotatedRowStatements: 0,
    opaque: 0,
  };
  for (const a of analyses) {
    merged.events += a.events;
    merged.statementWrites += a.statementWrites;
    merged.annotatedRowStatements += a.annotatedRowStatements;
    merged.unannotatedRowStatements += a.unannotatedRowStatements;
    merged.opaque += a.opaque;
    merged.firstStatementWrite ??= a.firstStatementWrite;
    merged.firstUnannotated ??= a.firstUnannotated;
  }
  return merged;
}
