/**
 * The two regions as the dashboard shows them: each region's database (GTID position; for the replica
 * its threads, Seconds_Behind_Master and how many transactions it is behind the primary), its memcached
 * tier (stats), and one watched key — its value in the region's database and in the region's cache, which
 * is where a trapped stale value becomes visible. Every part is read independently and reports its own
 * error, so one server down never blanks the page.
 */
import type memjs from 'memjs';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { decodeEnvelope, isTombstone } from '../app/index.js';
import type { CacheView, DatabaseView, RegionView, SampleView } from '../dashboard/index.js';
import { errorMessage } from '../errors.js';
import { DEMO_DB, PROFILE_TYPE, userKey, type User } from './app.js';

export interface RegionSource {
  name: string;
  role: 'master' | 'replica';
  db: Pool;
  dbAddress: string;
  cache: memjs.Client;
  cacheAddress: string;
  appUrl?: string;
}

export interface RegionsOptions {
  regions: readonly RegionSource[];
  /** The user whose name is watched in every region. */
  watchLogin: string;
}

export function regionsProvider(opts: RegionsOptions): () => Promise<RegionView[]> {
  return async () => {
    const views = await Promise.all(opts.regions.map((r) => regionView(r, opts.watchLogin)));
    // "Behind" needs both ends: the primary's logged position and the replica's applied one.
    const primaryGtid = views.find((v) => v.database.role === 'primary')?.database.gtid ?? null;
    for (const v of views) {
      if (v.database.role === 'replica')
        v.database.transactionsBehind = transactionsBehind(primaryGtid, v.database.gtid);
    }
    return views;
  };
}

async function regionView(r: RegionSource, login: string): Promise<RegionView> {
  const [database, cache, sample] = await Promise.all([databaseView(r), cacheView(r), sampleView(r, login)]);
  return { name: r.name, role: r.role, database, cache, sample, ...(r.appUrl ? { appUrl: r.appUrl } : {}) };
}

async function databaseView(r: RegionSource): Promise<DatabaseView> {
  const role = r.role === 'master' ? 'primary' : 'replica';
  const view: DatabaseView = { role, address: r.dbAddress, gtid: null };
  try {
    if (role === 'primary') {
      const [rows] = await r.db.query<RowDataPacket[]>('SELECT @@gtid_binlog_pos AS gtid');
      view.gtid = String(rows[0]?.gtid ?? '');
      return view;
    }
    const [[pos], [status]] = await Promise.all([
      r.db.query<RowDataPacket[]>('SELECT @@gtid_slave_pos AS gtid'),
      r.db.query<RowDataPacket[]>('SHOW SLAVE STATUS'),
    ]);
    view.gtid = String(pos[0]?.gtid ?? '');
    const s = status[0];
    view.ioThreadRunning = s ? s.Slave_IO_Running === 'Yes' : null;
    view.sqlThreadRunning = s ? s.Slave_SQL_Running === 'Yes' : null;
    const behind: unknown = s?.Seconds_Behind_Master;
    view.secondsBehindMaster = behind === null || behind === undefined ? null : Number(behind);
  } catch (err) {
    view.error = errorMessage(err);
  }
  return view;
}

function cacheView(r: RegionSource): Promise<CacheView> {
  const view: CacheView = {
    address: r.cacheAddress,
    items: null,
    getHits: null,
    getMisses: null,
    deleteHits: null,
  };
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ ...view, error: 'stats timed out' }), 2_000);
    // memjs calls back once per server; each region's client has exactly one.
    r.cache.stats((err, _server, stats) => {
      clearTimeout(timer);
      if (err || !stats) return resolve({ ...view, error: err ? errorMessage(err) : 'no stats' });
      const n = (k: string): number | null => (stats[k] === undefined ? null : Number(stats[k]));
      resolve({
        ...view,
        items: n('curr_items'),
        getHits: n('get_hits'),
        getMisses: n('get_misses'),
        deleteHits: n('delete_hits'),
      });
    });
  });
}

async function sampleView(r: RegionSource, login: string): Promise<SampleView> {
  const key = userKey(login);
  const [database, cache] = await Promise.all([
    r.db
      .query<RowDataPacket[]>(`SELECT name FROM ${DEMO_DB}.users WHERE login = ?`, [login])
      .then(([rows]) => (rows[0] ? String(rows[0].name) : null))
      .catch((err: unknown) => `(error: ${errorMessage(err)})`),
    r.cache
      .get(key)
      .then(({ value }) => cachedName(value))
      .catch((err: unknown) => `(error: ${errorMessage(err)})`),
  ]);
  return { key, database, cache };
}

/** The name inside a cached profile, '(tombstone)', or null when nothing is cached. */
export function cachedName(value: Buffer | null): string | null {
  if (value === null) return null;
  if (isTombstone(value)) return '(tombstone)';
  const decoded = decodeEnvelope(PROFILE_TYPE, value);
  if (!decoded.ok) return '(not a profile)';
  const user = decoded.value as Partial<User> | null;
  return typeof user?.name === 'string' ? user.name : '(no such user)';
}

/**
 * Transactions the primary has logged and the replica has not applied, from two MariaDB GTID positions
 * (`domain-server-seq` lists): per domain, the primary's seq minus the replica's. Null when unknown.
 */
export function transactionsBehind(primary: string | null, replica: string | null): number | null {
  if (primary === null || replica === null) return null;
  const seqs = (pos: string): Map<string, number> => {
    const out = new Map<string, number>();
    for (const part of pos
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const m = /^(\d+)-\d+-(\d+)$/.exec(part);
      if (!m) return new Map([['?', NaN]]);
      out.set(m[1], Number(m[2]));
    }
    return out;
  };
  const p = seqs(primary);
  const r = seqs(replica);
  let behind = 0;
  for (const [domain, seq] of p) {
    const applied = r.get(domain) ?? 0;
    if (Number.isNaN(seq) || Number.isNaN(applied)) return null;
    behind += Math.max(0, seq - applied);
  }
  return behind;
}
