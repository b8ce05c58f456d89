/**
 * `cachetail outbox cleanup`: deletes old rows from the outbox table (and, with --carrier-table, the
 * comment mode's carrier rows of connections idle that long) on the primary, in bounded batches. Any age
 * is safe: a row has done its job once its INSERT is in the binlog, and tailers ignore these deletes
 * (src/app/cleanup.ts). Meant for cron; prints one line per table (or --json).
 *
 * The password comes from CACHETAIL_DB_PASSWORD, never from the command line (visible in `ps`).
 * Exit codes: 0 done, 1 the database refused or failed, 2 bad arguments.
 */
import mysql from 'mysql2/promise';
import { cleanupCarrier, cleanupOutbox, type CleanupResult } from '../app/cleanup.js';
import { DEFAULT_OUTBOX_TABLE } from '../app/schema.js';
import { CachetailError, errorMessage } from '../errors.js';
import { EXIT_USAGE, parseCommandArgs, usageErrorLine } from './usage.js';

export const OUTBOX_HELP = `usage: cachetail outbox cleanup --host HOST --user USER --database DB [options]

Deletes the outbox table's rows older than --older-than on the primary, in bounded batches (with
--carrier-table also the comment mode's carrier rows of connections idle that long). Any age is
safe: a row has done its job once its INSERT is in the binlog. Meant for cron; prints one line per
table.
The password comes from CACHETAIL_DB_PASSWORD, never from the command line (docs/app-library.md).

  --host HOST           the primary
  --port PORT           default 3306
  --user USER           an account that may SELECT and DELETE on the tables
  --database DB         the database the tables are in
  --table T             the outbox table (default ${DEFAULT_OUTBOX_TABLE})
  --carrier-table T     also clean this carrier table (comment mode)
  --older-than AGE      90, 90s, 15m, 1h, 7d (default 1h)
  --batch N             rows per DELETE (default 1000)
  --max-batches N       stop after N batches per table (default: until none are left)
  --pause-ms MS         pause between batches (default 20)
  --json                one JSON array of the results
  -h, --help            this text

Exit status: 0 done, 1 the database refused or failed, 2 usage.
`;

export interface OutboxIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  env: NodeJS.ProcessEnv;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** A bad table name or option: the command line is wrong (exit 2), not the database (exit 1). */
function isUsageError(err: unknown): boolean {
  return (
    err instanceof CachetailError &&
    (err.code === 'INVALIDATION_TABLE_NAME' || err.code === 'INVALIDATION_USAGE')
  );
}

function usage(message: string): CachetailError {
  return new CachetailError('USAGE', message);
}

/** `90`, `90s`, `15m`, `1h`, `7d` → seconds. */
export function parseAge(value: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(value);
  if (!m) throw usage(`--older-than ${JSON.stringify(value)}: expected a number with s, m, h or d`);
  return Number(m[1]) * UNITS[m[2] || 's'];
}

function positiveInt(
  name: string,
  value: string | undefined,
  fallback: number | undefined,
): number | undefined {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw usage(`--${name} ${JSON.stringify(value)}: expected a positive integer`);
  return Number(value);
}

export interface CleanupCommandOptions {
  connection: { host: string; port: number; user: string; password: string; database: string };
  table: string;
  carrierTable: string | undefined;
  olderThanSeconds: number;
  batchRows: number;
  maxBatches: number | undefined;
  pauseMs: number;
  json: boolean;
}

/** The options of `outbox cleanup`, or 'help' when the command line asks for it. */
export function parseCleanupArgs(args: string[], env: NodeJS.ProcessEnv): CleanupCommandOptions | 'help' {
  const parsed = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      user: { type: 'string' },
      database: { type: 'string' },
      table: { type: 'string' },
      'carrier-table': { type: 'string' },
      'older-than': { type: 'string' },
      batch: { type: 'string' },
      'max-batches': { type: 'string' },
      'pause-ms': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (parsed.help) return 'help';
  const { values, positionals } = parsed;
  const [sub, ...extra] = positionals;
  if (sub !== 'cleanup') throw usage(`unknown outbox command ${JSON.stringify(sub ?? '')}`);
  if (extra.length > 0) throw usage(`unexpected argument ${JSON.stringify(extra[0])}`);
  for (const required of ['host', 'user', 'database'] as const) {
    if (!values[required]) throw usage(`--${required} is required`);
  }
  const port = positiveInt('port', values.port, 3306)!;
  if (port > 65535) throw usage(`--port ${port}: expected 1-65535`);
  const pause = values['pause-ms'];
  if (pause !== undefined && !/^\d+$/.test(pause))
    throw usage(`--pause-ms ${JSON.stringify(pause)}: expected ms`);
  return {
    connection: {
      host: values.host!,
      port,
      user: values.user!,
      password: env.CACHETAIL_DB_PASSWORD ?? '',
      database: values.database!,
    },
    table: values.table ?? DEFAULT_OUTBOX_TABLE,
    carrierTable: values['carrier-table'],
    olderThanSeconds: parseAge(values['older-than'] ?? '1h'),
    batchRows: positiveInt('batch', values.batch, 1_000)!,
    maxBatches: positiveInt('max-batches', values['max-batches'], undefined),
    pauseMs: pause === undefined ? 20 : Number(pause),
    json: values.json === true,
  };
}

function describe(r: CleanupResult): string {
  const rest = r.truncated ? ' (stopped at --max-batches: older rows remain)' : '';
  return `${r.table}: deleted ${r.deleted} row${r.deleted === 1 ? '' : 's'} in ${r.batches} batch${r.batches === 1 ? '' : 'es'}${rest}\n`;
}

export async function outboxCommand(
  args: string[],
  io: OutboxIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  let opts: CleanupCommandOptions | 'help';
  try {
    opts = parseCleanupArgs(args, io.env);
  } catch (err) {
    io.stderr.write(usageErrorLine('outbox', err));
    return EXIT_USAGE;
  }
  if (opts === 'help') {
    io.stdout.write(OUTBOX_HELP);
    return 0;
  }
  let conn: mysql.Connection | undefined;
  try {
    conn = await mysql.createConnection({
      ...opts.connection,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
    const common = {
      olderThanSeconds: opts.olderThanSeconds,
      batchRows: opts.batchRows,
      maxBatches: opts.maxBatches,
      pauseMs: opts.pauseMs,
    };
    const results = [await cleanupOutbox(conn, { ...common, table: opts.table })];
    if (opts.carrierTable) results.push(await cleanupCarrier(conn, { ...common, table: opts.carrierTable }));
    io.stdout.write(opts.json ? `${JSON.stringify(results)}\n` : results.map(describe).join(''));
    return 0;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    io.stderr.write(
      `cachetail outbox cleanup: ${errorMessage(err)}${typeof code === 'string' ? ` [${code}]` : ''}\n`,
    );
    return isUsageError(err) ? 2 : 1;
  } finally {
    await conn?.end().catch(() => undefined);
  }
}
