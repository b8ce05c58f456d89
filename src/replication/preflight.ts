/**
 * Preflight: before cachetail reads a server's binlog (at start and on every reconnect), check that the
 * writers' MEMCACHE_DIRTY comments can actually reach that binlog (DESIGN.md §2) and that the account
 * can read it. A setup that would lose annotations silently is refused with a message naming the
 * setting and the fix; `cachetail doctor` prints the same report.
 *
 *   const report = await runPreflight(conn, { ourServerId: config.source.serverId });
 *   assertPreflight(report); // throws CachetailError('PREFLIGHT_FAILED'), not retryable
 *
 * Gathering (preflight-gather.ts) is the only I/O; each check is a pure function of the gathered facts.
 */
import { CachetailError } from '../errors.js';
import {
  checkAnnotateRows,
  checkBinlogChecksum,
  checkBinlogFormat,
  checkGtid,
  checkLogBin,
  checkReplicaUpdates,
  checkReplicateAnnotateRows,
  checkRowsQueryLogEvents,
  checkServerId,
} from './preflight-checks.js';
import type { Check } from './preflight-checks.js';
import { gatherFacts } from './preflight-gather.js';
import { checkPrivileges } from './preflight-privileges.js';
import { checkPrimaryAnnotations, checkStatementPrimaryRowReplica } from './preflight-relay-checks.js';
import type {
  PreflightCheck,
  PreflightConnection,
  PreflightFacts,
  PreflightOptions,
  PreflightReport,
} from './preflight-types.js';

export type {
  CheckStatus,
  PreflightCheck,
  PreflightConnection,
  PreflightFacts,
  PreflightOptions,
  PreflightReport,
} from './preflight-types.js';

/** The checks in report order, per flavor. */
const CHECKS: Record<'mariadb' | 'mysql', Check[]> = {
  mariadb: [
    checkLogBin,
    checkReplicaUpdates,
    checkBinlogFormat,
    checkAnnotateRows,
    checkReplicateAnnotateRows,
    checkStatementPrimaryRowReplica,
    checkPrimaryAnnotations,
    checkServerId,
    checkPrivileges,
    checkBinlogChecksum,
    checkGtid,
  ],
  mysql: [
    checkLogBin,
    checkReplicaUpdates,
    checkBinlogFormat,
    checkRowsQueryLogEvents,
    checkStatementPrimaryRowReplica,
    checkPrimaryAnnotations,
    checkServerId,
    checkPrivileges,
    checkBinlogChecksum,
    checkGtid,
  ],
};

/** Every check id a report can contain. */
export const PREFLIGHT_CHECK_IDS = [
  'log_bin',
  'log_slave_updates',
  'binlog_format',
  'annotate_rows',
  'replicate_annotate_rows',
  'rows_query_log_events',
  'statement_primary_row_replica',
  'primary_annotations',
  'server_id_conflict',
  'privileges',
  'binlog_checksum',
  'gtid_mode',
] as const;

/** Runs every check of the facts' flavor; pure, for tests and for callers that gathered facts already. */
export function evaluatePreflight(facts: PreflightFacts, opts: PreflightOptions): PreflightReport {
  const checks = CHECKS[facts.flavor].map((check) => check(facts, opts));
  return {
    flavor: facts.flavor,
    serverVersion: facts.serverVersion,
    server: facts.server,
    serverId: Number(facts.variables.server_id),
    checks,
    ok: checks.every((c) => c.status !== 'fail'),
  };
}

/**
 * Reads the settings of the server behind `conn` (and of `opts.primary`, when given) and checks them.
 * Throws only when the connection fails; a refused statement becomes part of the report.
 */
export async function runPreflight(
  conn: PreflightConnection,
  opts: PreflightOptions,
): Promise<PreflightReport> {
  return evaluatePreflight(await gatherFacts(conn, opts), opts);
}

/** "message Fix: fix" — one line per check, as operators read it in logs and errors. */
export function describeCheck(check: PreflightCheck): string {
  return check.fix ? `${check.message} Fix: ${check.fix}` : check.message;
}

/** Throws a non-retryable PREFLIGHT_FAILED error listing every failed check; returns the report otherwise. */
export function assertPreflight(report: PreflightReport): PreflightReport {
  const failed = report.checks.filter((c) => c.status === 'fail');
  if (failed.length === 0) return report;
  const lines = failed.map((c) => `- [${c.id}] ${describeCheck(c)}`);
  throw new CachetailError(
    'PREFLIGHT_FAILED',
    `preflight refused ${report.server} (${report.serverVersion}): ` +
      `${failed.length === 1 ? '1 check' : `${failed.length} checks`} failed\n${lines.join('\n')}`,
  );
}

const MARK: Record<PreflightCheck['status'], string> = { ok: '✓', warn: '!', fail: '✗' };

/** The human-readable report `cachetail doctor` prints. */
export function formatPreflightReport(report: PreflightReport): string {
  const width = Math.max(...report.checks.map((c) => c.id.length));
  const indent = ' '.repeat(width + 3);
  const lines = [`${report.server}: ${report.flavor} ${report.serverVersion}, server_id ${report.serverId}`];
  for (const c of report.checks) {
    lines.push(`${MARK[c.status]} ${c.id.padEnd(width)} ${c.message}`);
    if (c.fix && c.status !== 'ok') lines.push(`${indent}Fix: ${c.fix}`);
  }
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  const warned = report.checks.filter((c) => c.status === 'warn').length;
  const verdict = failed > 0 ? 'FAIL' : 'OK';
  lines.push(
    `${verdict}: ${report.checks.length - failed - warned} ok, ${warned} warning(s), ${failed} failed`,
  );
  return `${lines.join('\n')}\n`;
}
