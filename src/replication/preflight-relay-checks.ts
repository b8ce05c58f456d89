/**
 * The checks about the primary, which the tailer's account cannot query: inferred from the replica's
 * relay log (see preflight-relay.ts), or read directly when a primary connection was configured.
 */
import type { Check } from './preflight-checks.js';
import { isOn } from './preflight-checks.js';
import { analyzeRelayEvents, mergeAnalyses } from './preflight-relay.js';
import type { RelayAnalysis } from './preflight-relay.js';
import { relayLogPrivilege, replicaMonitorPrivilege } from './preflight-sql.js';
import type { PreflightCheck, PreflightFacts, PrimaryFacts } from './preflight-types.js';

interface Relay {
  files: string;
  analysis: RelayAnalysis;
}

/** The merged analysis of every channel's relay log, or the check's answer when it cannot be read. */
function readRelay(id: string, f: PreflightFacts): Relay | { check: PreflightCheck } {
  if (f.replica.kind === 'unknown') {
    const fix = grantFix(f, replicaMonitorPrivilege(f));
    return { check: { id, status: 'warn', message: `cannot tell: ${f.replica.reason}.`, fix } };
  }
  const files = f.relay.map((s) => s.file).join(', ') || '(none)';
  const analyses: RelayAnalysis[] = [];
  for (const sample of f.relay) {
    if (sample.kind === 'unreadable') {
      const message = `cannot tell: reading the relay log ${sample.file} of ${f.server} failed: ${sample.reason}.`;
      const fix = sample.refused ? grantFix(f, relayLogPrivilege(f)) : undefined;
      return { check: { id, status: 'warn', message, ...(fix ? { fix } : {}) } };
    }
    analyses.push(analyzeRelayEvents(sample.events, Number(f.variables.server_id)));
  }
  return { files, analysis: mergeAnalyses(analyses) };
}

function primaryOf(f: PreflightFacts): PrimaryFacts | undefined {
  return f.primary && 'variables' in f.primary ? f.primary : undefined;
}

function grantFix(f: PreflightFacts, privilege: string): string {
  return `GRANT ${privilege} ON *.* TO ${f.currentUser} (on the primary, so that the grant replicates).`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** A STATEMENT/MIXED primary behind a ROW replica: the replica re-logs rows without the statement text. */
export const checkStatementPrimaryRowReplica: Check = (f) => {
  const id = 'statement_primary_row_replica';
  const S = f.server;
  if (f.replica.kind === 'not-replica') {
    return { id, status: 'ok', message: `${S} is not a replica: it re-logs no primary's statements.` };
  }
  const format = (f.variables.binlog_format ?? '').toUpperCase();
  if (format !== 'ROW') {
    return {
      id,
      status: 'ok',
      message: `binlog_format=${format} on ${S}: writes its primary logs as statements are re-logged as statements, with their text.`,
    };
  }
  // MySQL's applier, re-logging a statement-logged write as rows, writes the statement it applied as a
  // Rows_query event first when binlog_rows_query_log_events is ON (verified on 9.7.4, comment included);
  // MariaDB's writes no Annotate_rows event for it (verified on 10.11).
  if (f.flavor === 'mysql' && isOn(f.variables.binlog_rows_query_log_events)) {
    return {
      id,
      status: 'ok',
      message:
        `binlog_format=ROW and binlog_rows_query_log_events=ON on ${S}: writes its primary logs as statements ` +
        'are re-logged as row events after a Rows_query event holding their text.',
    };
  }
  const lost =
    'the replica re-logs statement-logged writes as row events without the statement text, so their MEMCACHE_DIRTY comments are lost';
  const fix =
    'set binlog_format=ROW on the primary (in its config and with SET GLOBAL; open sessions keep their format ' +
    'until they reconnect), or binlog_format=MIXED on the replica, ' +
    (f.flavor === 'mysql' ? 'or binlog_rows_query_log_events=ON on the replica, ' : '') +
    'or use outbox mode.';
  const primary = primaryOf(f);
  const primaryFormat = (primary?.variables.binlog_format ?? '').toUpperCase();
  if (primary && (primaryFormat === 'STATEMENT' || primaryFormat === 'MIXED')) {
    return {
      id,
      status: 'fail',
      message: `${S} has binlog_format=ROW and its primary ${primary.server} has binlog_format=${primaryFormat}: ${lost}.`,
      fix,
    };
  }
  const relay = readRelay(id, f);
  if ('check' in relay) return relay.check;
  const a = relay.analysis;
  if (a.statementWrites > 0 && a.firstStatementWrite) {
    const e = a.firstStatementWrite;
    return {
      id,
      status: 'fail',
      message:
        `${S} has binlog_format=ROW and its primary logs writes as statements: relay log ${e.file} holds ` +
        `${plural(a.statementWrites, 'write')} logged as ${a.statementWrites === 1 ? 'a statement' : 'statements'} (first: ${e.what} from server_id ` +
        `${e.serverId} at position ${e.pos}); ${lost}.`,
      fix:
        fix +
        ' This check reads the current relay log: after the primary switched, it passes once the replica has ' +
        'rotated it (FLUSH LOCAL RELAY LOGS on the replica: without LOCAL the statement is also written to its binlog, as a transaction of its own).',
    };
  }
  if (primary) {
    return { id, status: 'ok', message: `the primary ${primary.server} has binlog_format=${primaryFormat}.` };
  }
  if (a.annotatedRowStatements + a.unannotatedRowStatements === 0) {
    return {
      id,
      status: 'warn',
      message: `cannot tell yet: the relay log ${relay.files} of ${S} holds no replicated write (${plural(a.events, 'event')} read), so the primary's binlog_format is unknown.`,
    };
  }
  return {
    id,
    status: 'ok',
    message: `the primary logs writes as rows: the relay log ${relay.files} holds ${plural(a.annotatedRowStatements + a.unannotatedRowStatements, 'row-logged statement')} and no statement-logged write.`,
  };
};

/** Row events from the primary without their statement text in front (annotations OFF there). */
export const checkPrimaryAnnotations: Check = (f) => {
  const id = 'primary_annotations';
  const S = f.server;
  if (f.replica.kind === 'not-replica') {
    return { id, status: 'ok', message: `${S} is not a replica: there is no primary to check.` };
  }
  const mariadb = f.flavor === 'mariadb';
  const setting = mariadb ? 'binlog_annotate_row_events' : 'binlog_rows_query_log_events';
  const event = mariadb ? 'Annotate_rows' : 'Rows_query';
  const anEvent = mariadb ? 'an Annotate_rows event' : 'a Rows_query event';
  const fix = `SET GLOBAL ${setting}=ON on the primary and set it in its config${mariadb ? ' (ON is the default)' : ''}.`;
  const primary = primaryOf(f);
  if (primary && primary.variables[setting] !== undefined && !isOn(primary.variables[setting])) {
    return {
      id,
      status: 'fail',
      message: `${setting} is OFF on the primary ${primary.server}: its row events carry no statement text, so no MEMCACHE_DIRTY comment can reach ${S}'s binlog.`,
      fix,
    };
  }
  // The IO thread asks the primary for Annotate_rows events only when it will re-log them: with
  // log_slave_updates and replicate_annotate_row_events both ON (observed on 10.11: with either OFF the
  // relay log holds none), so otherwise their absence from the relay log says nothing.
  const notFetchedBecause = ['log_slave_updates', 'replicate_annotate_row_events'].filter(
    (name) => !isOn(f.variables[name]),
  );
  if (mariadb && notFetchedBecause.length > 0) {
    return {
      id,
      status: 'warn',
      message: `cannot tell whether the primary writes Annotate_rows events: ${S} does not fetch them (${notFetchedBecause.map((n) => `${n} is OFF`).join(', ')}).`,
    };
  }
  const relay = readRelay(id, f);
  if ('check' in relay) return relay.check;
  const a = relay.analysis;
  const e = a.firstUnannotated;
  if (a.unannotatedRowStatements > 0 && e) {
    const first = `first: table ${e.what} from server_id ${e.serverId} at position ${e.pos}`;
    if (a.annotatedRowStatements === 0) {
      return {
        id,
        status: 'fail',
        message:
          `the primary of ${S} logs row events without their statement text (${setting} is OFF there): ` +
          `relay log ${e.file} holds ${plural(a.unannotatedRowStatements, 'row-logged statement')} and no ` +
          `${event} event (${first}), so no MEMCACHE_DIRTY comment can reach ${S}'s binlog.`,
        fix,
      };
    }
    return {
      id,
      status: 'warn',
      message:
        `relay log ${e.file} of ${S} holds ${plural(a.unannotatedRowStatements, 'row-logged statement')} without ` +
        `${anEvent} (${first}) besides ${a.annotatedRowStatements} with one: some sessions on the primary ` +
        `turn ${setting} off, and the comments of their writes are lost.`,
      fix: `make sure no writer sets ${setting}=OFF in its session.`,
    };
  }
  if (a.annotatedRowStatements > 0) {
    return {
      id,
      status: 'ok',
      message: `the primary's row events carry their statement text: the relay log ${relay.files} holds ${plural(a.annotatedRowStatements, 'row-logged statement')}, ${a.annotatedRowStatements === 1 ? '' : 'each '}after ${anEvent}.`,
    };
  }
  if (primary) {
    return { id, status: 'ok', message: `${setting} is ON on the primary ${primary.server}.` };
  }
  return {
    id,
    status: 'warn',
    message: `cannot tell yet: the relay log ${relay.files} of ${S} holds no row-logged statement (${plural(a.events, 'event')} read).`,
  };
};
