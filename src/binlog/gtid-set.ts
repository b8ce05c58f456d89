/**
 * GTID positions of both servers behind one immutable value, so the tailer's checkpoint and the edge
 * router's watermark need not care which server they follow:
 *
 * - MySQL: a GTID *set* (`uuid:1-5:7,uuid2:tag:1-3`). "Has reached g" means g is in the set.
 * - MariaDB: a GTID *position*, one `domain-server-seq` per domain. "Has reached d-s-n" means domain d
 *   is at seq >= n (see gtid/mariadb-state.ts).
 *
 * The flavour is detected from the text (a UUID or ':' means MySQL) or given. An empty text without a
 * flavour gives a flavourless empty state that takes the flavour of the first GTID added or state merged:
 * a fresh checkpoint need not know the server yet. Combining the two flavours is a GtidError
 * (GTID_FLAVOR_MISMATCH); unparsable text is a GtidError (GTID_PARSE) quoting the text.
 */
import type {
  MariadbGtid,
  MariadbGtidEvent,
  MariadbGtidListEvent,
  MysqlGtidEvent,
  PreviousGtidsEvent,
} from './events/types.js';
import { GtidError } from './gtid/error.js';
import {
  EMPTY_MARIADB_GTID_STATE,
  compareMariadbStates,
  formatMariadbGtidState,
  mariadbGtidStateFrom,
  mariadbStateAdd,
  mariadbStateCovers,
  mariadbStateHasReached,
  mariadbStateUnion,
  parseMariadbGtid,
  parseMariadbGtidState,
  type GtidOrder,
  type MariadbGtidState,
} from './gtid/mariadb-state.js';
import {
  EMPTY_MYSQL_GTID_SET,
  formatMysqlGtidSet,
  mysqlGtidSetAdd,
  mysqlGtidSetContains,
  mysqlGtidSetIsSubset,
  mysqlGtidSetUnion,
  normalizeMysqlGtidSet,
  parseMysqlGtid,
  parseMysqlGtidSet,
  type MysqlGtid,
  type MysqlGtidSet,
} from './gtid/mysql-set.js';

export { GtidError, type GtidErrorCode } from './gtid/error.js';
export * from './gtid/mysql-set.js';
export * from './gtid/mariadb-state.js';

export type GtidFlavor = 'mysql' | 'mariadb';

/** A GTID as text (`uuid:5`, `uuid:tag:5`, `0-1-5`), as parsed object, or the GTID event itself. */
export type GtidInput = string | MysqlGtid | MariadbGtid | MysqlGtidEvent | MariadbGtidEvent;

type Value =
  | { flavor: 'mysql'; set: MysqlGtidSet }
  | { flavor: 'mariadb'; state: MariadbGtidState }
  | { flavor: undefined };

export class GtidState {
  private constructor(private readonly v: Value) {
    Object.freeze(this);
  }

  private static readonly EMPTY = {
    mysql: new GtidState({ flavor: 'mysql', set: EMPTY_MYSQL_GTID_SET }),
    mariadb: new GtidState({ flavor: 'mariadb', state: EMPTY_MARIADB_GTID_STATE }),
    none: new GtidState({ flavor: undefined }),
  };

  static empty(flavor?: GtidFlavor): GtidState {
    return GtidState.EMPTY[flavor ?? 'none'];
  }

  static parse(text: string, flavor?: GtidFlavor): GtidState {
    return parseGtidState(text, flavor);
  }

  static fromMysqlSet(set: MysqlGtidSet): GtidState {
    return new GtidState({ flavor: 'mysql', set: normalizeMysqlGtidSet(set) });
  }

  static fromMariadbState(state: MariadbGtidState): GtidState {
    return new GtidState({ flavor: 'mariadb', state: mariadbGtidStateFrom(state) });
  }

  /** The state a file starts from: PREVIOUS_GTIDS (MySQL) or GTID_LIST (MariaDB). */
  static fromEvent(ev: PreviousGtidsEvent | MariadbGtidListEvent): GtidState {
    return ev.kind === 'previous_gtids'
      ? GtidState.fromMysqlSet(ev.sids)
      : GtidState.fromMariadbState(ev.gtids);
  }

  /** Undefined only for an empty state created without a flavour. */
  get flavor(): GtidFlavor | undefined {
    return this.v.flavor;
  }

  get isEmpty(): boolean {
    return (
      this.v.flavor === undefined || (this.v.flavor === 'mysql' ? this.v.set : this.v.state).length === 0
    );
  }

  /** The MySQL set (normal form), or undefined for a MariaDB state. */
  get mysqlSet(): MysqlGtidSet | undefined {
    return this.v.flavor === 'mysql'
      ? this.v.set
      : this.v.flavor === undefined
        ? EMPTY_MYSQL_GTID_SET
        : undefined;
  }

  /** The MariaDB position (sorted by domain), or undefined for a MySQL set. */
  get mariadbState(): MariadbGtidState | undefined {
    return this.v.flavor === 'mariadb'
      ? this.v.state
      : this.v.flavor === undefined
        ? EMPTY_MARIADB_GTID_STATE
        : undefined;
  }

  /** The state after the transaction `gtid` was applied. ANONYMOUS MySQL GTIDs leave it unchanged. */
  add(gtid: GtidInput): GtidState {
    const g = toGtid(gtid, this.v.flavor);
    if (g === undefined) return this;
    if (g.flavor === 'mysql') {
      const set = this.v.flavor === 'mysql' ? this.v.set : this.requireFlavor('mysql', EMPTY_MYSQL_GTID_SET);
      const next = mysqlGtidSetAdd(set, g.gtid);
      return next === set && this.v.flavor === 'mysql' ? this : new GtidState({ flavor: 'mysql', set: next });
    }
    const state =
      this.v.flavor === 'mariadb' ? this.v.state : this.requireFlavor('mariadb', EMPTY_MARIADB_GTID_STATE);
    return new GtidState({ flavor: 'mariadb', state: mariadbStateAdd(state, g.gtid) });
  }

  /** Whether the transaction `gtid` is already applied in this state (the edge router's question). */
  hasReached(gtid: GtidInput): boolean {
    const g = toGtid(gtid, this.v.flavor);
    if (g === undefined) return true;
    if (this.v.flavor === undefined) return false;
    if (g.flavor === 'mysql') return mysqlGtidSetContains(this.require('mysql').set, g.gtid);
    return mariadbStateHasReached(this.require('mariadb').state, g.gtid);
  }

  /** Every transaction of `other` is reached by this state. */
  covers(other: GtidState | string): boolean {
    const o = typeof other === 'string' ? parseGtidState(other, this.v.flavor) : other;
    if (o.isEmpty) return true;
    if (this.v.flavor === undefined) return false;
    if (o.v.flavor === 'mysql') return mysqlGtidSetIsSubset(o.v.set, this.require('mysql').set);
    if (o.v.flavor === 'mariadb') return mariadbStateCovers(this.require('mariadb').state, o.v.state);
    return true;
  }

  /** MySQL: the union of both sets; MariaDB: per domain the higher position. */
  union(other: GtidState | string): GtidState {
    const o = typeof other === 'string' ? parseGtidState(other, this.v.flavor) : other;
    if (o.v.flavor === undefined) return this;
    if (this.v.flavor === undefined) return o;
    if (o.v.flavor === 'mysql') {
      return new GtidState({ flavor: 'mysql', set: mysqlGtidSetUnion(this.require('mysql').set, o.v.set) });
    }
    return new GtidState({
      flavor: 'mariadb',
      state: mariadbStateUnion(this.require('mariadb').state, o.v.state),
    });
  }

  /** Partial order: 'before' = this is behind `other` (other covers this, not vice versa). */
  compare(other: GtidState | string): GtidOrder {
    const o = typeof other === 'string' ? parseGtidState(other, this.v.flavor) : other;
    if (this.v.flavor === 'mariadb' && o.v.flavor === 'mariadb')
      return compareMariadbStates(this.v.state, o.v.state);
    const thisCovers = this.covers(o);
    const otherCovers = o.covers(this);
    if (thisCovers && otherCovers) return 'equal';
    return thisCovers ? 'after' : otherCovers ? 'before' : 'diverged';
  }

  equals(other: GtidState | string): boolean {
    return this.compare(other) === 'equal';
  }

  /** Normal form: MySQL `uuid:1-5:7,uuid2:tag:1-3`; MariaDB `0-1-5,1-2-7` sorted by domain. */
  toString(): string {
    if (this.v.flavor === 'mysql') return formatMysqlGtidSet(this.v.set);
    if (this.v.flavor === 'mariadb') return formatMariadbGtidState(this.v.state);
    return '';
  }

  toJSON(): string {
    return this.toString();
  }

  private require<F extends GtidFlavor>(flavor: F): Extract<Value, { flavor: F }> {
    if (this.v.flavor !== flavor) throw mismatch(this.v.flavor, flavor, this.toString());
    return this.v as Extract<Value, { flavor: F }>;
  }

  private requireFlavor<T>(flavor: GtidFlavor, empty: T): T {
    if (this.v.flavor !== undefined && this.v.flavor !== flavor)
      throw mismatch(this.v.flavor, flavor, this.toString());
    return empty;
  }
}

/**
 * Parses a MySQL GTID set or a MariaDB position. Without `flavor`, text with a ':' or a UUID is MySQL,
 * other non-empty text MariaDB, and empty text gives the flavourless empty state.
 */
export function parseGtidState(text: string, flavor?: GtidFlavor): GtidState {
  const f = flavor ?? detectFlavor(text);
  if (f === 'mysql') return GtidState.fromMysqlSet(parseMysqlGtidSet(text));
  if (f === 'mariadb') return GtidState.fromMariadbState(parseMariadbGtidState(text));
  return GtidState.empty();
}

export function detectFlavor(text: string): GtidFlavor | undefined {
  if (text.trim() === '') return undefined;
  return text.includes(':') || /[0-9a-f]{8}-[0-9a-f]{4}-/i.test(text) ? 'mysql' : 'mariadb';
}

type ParsedGtid = { flavor: 'mysql'; gtid: MysqlGtid } | { flavor: 'mariadb'; gtid: MariadbGtid };

/** Undefined for MySQL ANONYMOUS (no GTID: nothing to add, nothing to wait for). */
function toGtid(input: GtidInput, stateFlavor: GtidFlavor | undefined): ParsedGtid | undefined {
  let g: ParsedGtid;
  if (typeof input === 'string') {
    const f = detectFlavor(input) ?? stateFlavor ?? 'mariadb';
    g =
      f === 'mysql'
        ? { flavor: f, gtid: parseMysqlGtid(input) }
        : { flavor: f, gtid: parseMariadbGtid(input) };
  } else if ('kind' in input) {
    if (input.kind === 'mariadb_gtid') g = { flavor: 'mariadb', gtid: input };
    else if (input.anonymous) return undefined;
    else
      g = {
        flavor: 'mysql',
        gtid: { uuid: input.sid, tag: input.tag ? input.tag.toLowerCase() : undefined, gno: input.gno },
      };
  } else if ('uuid' in input) {
    g = {
      flavor: 'mysql',
      gtid: { uuid: input.uuid.toLowerCase(), tag: input.tag?.toLowerCase(), gno: input.gno },
    };
  } else {
    g = { flavor: 'mariadb', gtid: input };
  }
  if (stateFlavor !== undefined && g.flavor !== stateFlavor) {
    throw mismatch(stateFlavor, g.flavor, typeof input === 'string' ? input : describe(g));
  }
  return g;
}

function describe(g: ParsedGtid): string {
  return g.flavor === 'mysql'
    ? `${g.gtid.uuid}${g.gtid.tag === undefined ? '' : `:${g.gtid.tag}`}:${g.gtid.gno}`
    : `${g.gtid.domainId}-${g.gtid.serverId}-${g.gtid.seqNo}`;
}

function mismatch(have: GtidFlavor | undefined, got: GtidFlavor, text: string): GtidError {
  return new GtidError(
    'GTID_FLAVOR_MISMATCH',
    `a ${have ?? 'flavourless'} GTID state cannot take a ${got} GTID`,
    text,
  );
}
