/**
 * `withInvalidation(db, async (tx) => { …; tx.dirty('user:42:profile') })`: one database transaction whose
 * declared keys are deleted in every region once it has committed there.
 *
 * Where the keys go (decided in docs/app-library.md §2, proven on a real binlog in test/integration):
 * the application's own statements are sent as they are, and after `fn` returns — so keys declared after
 * the last statement count too — the helper writes all keys in one place just before COMMIT:
 *  - comment mode (default): a carrier statement that always changes a row, annotated with the v1
 *    annotation including `ts=` (statements.ts). Annotating the application's statements instead would
 *    lose keys whenever a statement changes no row (ROW format logs nothing for it) and would give every
 *    `execute` a new prepared statement per key set.
 *  - outbox mode: the keys as rows of the outbox table, for setups where comments cannot reach the
 *    replica's binlog (a STATEMENT primary behind a ROW replica).
 * A transaction that rolls back takes its carrier or outbox rows with it: its keys are never emitted.
 * After COMMIT the keys are deleted from the local (master region) tier too, if one is given.
 * With `onCommit`, the helper also reports the GTID the primary gave the transaction (for the edge's
 * position mode): it sends the COMMIT itself, so on MySQL only it sees the OK packet that carries it.
 */
import type { Connection, PoolConnection } from 'mysql2/promise';
import { InvalidationError } from './errors.js';
import { lastWriteGtid, trackWriteGtids } from './gtid.js';
import { invalidateLocal, type LocalTier } from './local.js';
import { DEFAULT_CARRIER_TABLE, DEFAULT_OUTBOX_TABLE, tableName, type TableName } from './schema.js';
import { carrierStatements, checkKey, isTransactionControl, outboxStatements } from './statements.js';

export type InvalidationMode = 'comment' | 'outbox';
export type IsolationLevel = 'READ UNCOMMITTED' | 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';

export interface InvalidationOptions {
  /** 'comment' (default): annotation on a carrier statement; 'outbox': rows in the outbox table. */
  mode?: InvalidationMode;
  /** `table` or `db.table`; default cachetail_carrier (comment mode). */
  carrierTable?: string;
  /** `table` or `db.table`; default cachetail_dirty_keys (outbox mode). Tailers must name the same. */
  outboxTable?: string;
  /** The master region's memcached tier, invalidated after COMMIT. */
  local?: LocalTier | undefined;
  /**
   * Called when the local tier could not be invalidated (the transaction has committed). Without it,
   * withInvalidation rejects with that INVALIDATION_LOCAL_FAILED error (`committed: true`): never silent.
   */
  onLocalError?: (err: InvalidationError) => void;
  isolationLevel?: IsolationLevel;
  /** Clock for the annotation's `ts=` (ms since the epoch). */
  now?: () => number;
  /**
   * Called once the transaction has committed, before the local tier is invalidated, with the GTID the
   * primary gave it (what the edge's `x-cachetail-gtid` header wants, docs/edge.md §3). Asking costs
   * MariaDB one `SELECT @@last_gtid` after COMMIT, MySQL one `SET session_track_gtids = OWN_GTID` per
   * session (the GTID then comes with COMMIT's OK packet). Not called when the transaction rolled back
   * or COMMIT failed. An error it throws is rethrown after the local tier was invalidated.
   */
  onCommit?: (commit: InvalidationCommit) => void;
}

/** What `onCommit` gets. */
export interface InvalidationCommit {
  /**
   * `0-1-57` (MariaDB), `uuid:57` or `uuid:tag:57` (MySQL); '' when unknown — the transaction logged
   * nothing (MySQL; MariaDB then reports the session's previous GTID, which is never ahead of this
   * one), the server logs no GTIDs, or reading it failed after the commit. '' means: pin by time.
   */
  gtid: string;
  /** The keys the transaction declared (and its binlog carries). */
  keys: readonly string[];
}

/** What `fn` gets: the transaction's connection, guarded, and `dirty`. */
export interface InvalidationTransaction {
  /** Same as the connection's; refuses BEGIN/COMMIT/ROLLBACK and use after the transaction ended. */
  readonly query: Connection['query'];
  readonly execute: Connection['execute'];
  /** Declares keys made stale by this transaction. Validates each (AnnotationError) before adding any. */
  dirty(...keys: string[]): void;
  /** The keys declared so far, de-duplicated, in declaration order. */
  readonly keys: readonly string[];
  /** The raw connection, for APIs the guard does not cover (prepare, escape). Do not end the transaction. */
  readonly connection: Connection;
}

/** A single connection, a pool, or anything with mysql2's `getConnection()` (pool cluster namespace). */
export type InvalidationTarget = Connection | { getConnection(): Promise<PoolConnection> };

interface Settings {
  mode: InvalidationMode;
  table: TableName;
  local: LocalTier | undefined;
  onLocalError: ((err: InvalidationError) => void) | undefined;
  isolationLevel: IsolationLevel | undefined;
  now: () => number;
  onCommit: ((commit: InvalidationCommit) => void) | undefined;
}

const ISOLATION = new Set<string>(['READ UNCOMMITTED', 'READ COMMITTED', 'REPEATABLE READ', 'SERIALIZABLE']);
const ER_BAD_FIELD_ERROR = 1054;
const ER_NO_SUCH_TABLE = 1146;

/** Connections inside withInvalidation right now: a nested BEGIN would silently commit the outer work. */
const active = new WeakSet<object>();

function settings(o: InvalidationOptions): Settings {
  const mode = o.mode ?? 'comment';
  if (mode !== 'comment' && mode !== 'outbox') {
    throw new InvalidationError(
      'INVALIDATION_USAGE',
      `mode must be 'comment' or 'outbox', got ${String(mode)}`,
    );
  }
  if (o.isolationLevel !== undefined && !ISOLATION.has(o.isolationLevel)) {
    throw new InvalidationError('INVALIDATION_USAGE', `unknown isolation level ${String(o.isolationLevel)}`);
  }
  const name =
    mode === 'outbox' ? (o.outboxTable ?? DEFAULT_OUTBOX_TABLE) : (o.carrierTable ?? DEFAULT_CARRIER_TABLE);
  return {
    mode,
    table: tableName(name),
    local: o.local,
    onLocalError: o.onLocalError,
    isolationLevel: o.isolationLevel,
    now: o.now ?? Date.now,
    onCommit: o.onCommit,
  };
}

function hasGetConnection(db: InvalidationTarget): db is { getConnection(): Promise<PoolConnection> } {
  return typeof (db as { getConnection?: unknown }).getConnection === 'function';
}

export async function withInvalidation<T>(
  db: InvalidationTarget,
  fn: (tx: InvalidationTransaction) => Promise<T> | T,
  options: InvalidationOptions = {},
): Promise<T> {
  const s = settings(options);
  if (!hasGetConnection(db)) return run(db, fn, s, { broken: false });
  const conn = await db.getConnection();
  const state = { broken: false };
  try {
    return await run(conn, fn, s, state);
  } finally {
    // A connection whose ROLLBACK or COMMIT failed may still be inside the transaction: never reuse it.
    if (state.broken) conn.destroy();
    else conn.release();
  }
}

async function run<T>(
  conn: Connection,
  fn: (tx: InvalidationTransaction) => Promise<T> | T,
  s: Settings,
  state: { broken: boolean },
): Promise<T> {
  if (active.has(conn)) {
    throw new InvalidationError(
      'INVALIDATION_NESTED',
      'withInvalidation on a connection already inside withInvalidation: use the outer tx',
    );
  }
  active.add(conn);
  const tx = new Transaction(conn);
  try {
    if (s.onCommit) await trackWriteGtids(conn);
    if (s.isolationLevel) await conn.query(`SET TRANSACTION ISOLATION LEVEL ${s.isolationLevel}`);
    await conn.query('START TRANSACTION');
    let result: T;
    let keys: readonly string[];
    try {
      result = await fn(tx.api);
      keys = tx.close();
      await writeKeys(conn, keys, s);
    } catch (err) {
      tx.close();
      try {
        await conn.query('ROLLBACK');
      } catch {
        state.broken = true;
      }
      throw err;
    }
    let committed: unknown;
    try {
      [committed] = await conn.query('COMMIT');
    } catch (err) {
      // The outcome is unknown (the connection may have died after the server committed). When unsure,
      // delete: an extra local delete costs one miss. The remote regions follow the binlog either way.
      state.broken = true;
      if (s.local && keys.length > 0) await invalidateLocal(s.local, keys);
      throw err;
    }
    // The local delete happens whatever onCommit does; its error comes after.
    let callbackFailed: { err: unknown } | undefined;
    if (s.onCommit) {
      const gtid = await lastWriteGtid(conn, committed).catch(() => {
        // Committed, but the connection failed right after: the GTID is unknown (the edge pins by time).
        state.broken = true;
        return '';
      });
      try {
        s.onCommit({ gtid, keys });
      } catch (err) {
        callbackFailed = { err };
      }
    }
    if (s.local && keys.length > 0) {
      const failed = await invalidateLocal(s.local, keys);
      if (failed) {
        if (!s.onLocalError) throw failed;
        s.onLocalError(failed);
      }
    }
    if (callbackFailed) throw callbackFailed.err;
    return result;
  } finally {
    active.delete(conn);
  }
}

async function writeKeys(conn: Connection, keys: readonly string[], s: Settings): Promise<void> {
  if (keys.length === 0) return;
  const statements =
    s.mode === 'outbox' ? outboxStatements(s.table, keys) : carrierStatements(s.table, keys, s.now());
  for (const sql of statements) {
    try {
      // An array of values: mysql2 then skips named-placeholder conversion (see statements.ts).
      await conn.query(sql, []);
    } catch (err) {
      const errno = (err as { errno?: unknown }).errno;
      if (errno === ER_NO_SUCH_TABLE || errno === ER_BAD_FIELD_ERROR) {
        throw new InvalidationError(
          'INVALIDATION_TABLE_MISSING',
          `the ${s.mode === 'outbox' ? 'outbox' : 'carrier'} table ${s.table.name} is missing or has other ` +
            `columns; create it from sql/cachetail-app.sql (${(err as Error).message})`,
          { cause: err },
        );
      }
      throw err;
    }
  }
}

class Transaction {
  private readonly declared = new Set<string>();
  private closed = false;
  readonly api: InvalidationTransaction;

  constructor(conn: Connection) {
    const guard = (sql: unknown): void => {
      if (this.closed) {
        throw new InvalidationError(
          'INVALIDATION_CLOSED',
          'this transaction has ended; use a new withInvalidation',
        );
      }
      const text = typeof sql === 'string' ? sql : (sql as { sql?: unknown } | null)?.sql;
      if (typeof text === 'string' && isTransactionControl(text)) {
        throw new InvalidationError(
          'INVALIDATION_TX_CONTROL',
          'withInvalidation begins and commits the transaction; throw to roll it back',
        );
      }
    };
    const query = async (...args: unknown[]): Promise<unknown> => {
      guard(args[0]);
      return (conn.query as (...a: unknown[]) => Promise<unknown>).apply(conn, args);
    };
    const execute = async (...args: unknown[]): Promise<unknown> => {
      guard(args[0]);
      return (conn.execute as (...a: unknown[]) => Promise<unknown>).apply(conn, args);
    };
    const declared = this.declared;
    const isClosed = (): boolean => this.closed;
    this.api = {
      query: query as Connection['query'],
      execute: execute as Connection['execute'],
      connection: conn,
      get keys() {
        return [...declared];
      },
      dirty(...keys: string[]) {
        if (isClosed()) {
          throw new InvalidationError(
            'INVALIDATION_CLOSED',
            'dirty() after the transaction ended: the key is lost',
          );
        }
        for (const k of keys) checkKey(k);
        for (const k of keys) declared.add(k);
      },
    };
  }

  /** No more declarations; the keys to write. */
  close(): readonly string[] {
    this.closed = true;
    return [...this.declared];
  }
}
