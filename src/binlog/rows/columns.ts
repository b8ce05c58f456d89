/**
 * Everything the row decoder needs per column, worked out once per TABLE_MAP (and cached with it) so
 * that decoding a row is a switch and a few reads per value: the real type behind CHAR-encoded
 * ENUM/SET, length-prefix sizes, DECIMAL precision, fsp, signedness, ENUM/SET member names and the
 * text encoding of string columns.
 *
 * Optional metadata lists (signedness bits, charsets, ENUM/SET names) cover a *kind* of column in
 * table order, not every column: SIGNEDNESS has one bit per numeric column, COLUMN_CHARSET one entry
 * per character column, ENUM_STR_VALUE one list per ENUM column. Indexes are counted per kind here.
 * The kinds differ between the servers, checked on MariaDB 10.11 (binlog_row_metadata=FULL): MariaDB
 * counts YEAR as numeric (MySQL's is_numeric_type does not), and both count GEOMETRY as a character
 * column (collation 63).
 */
import { ColumnType } from '../events/table-map.js';
import type { DefaultCharset, TableMapEvent } from '../events/types.js';
import type { TextEncoding } from './values.js';

export interface ColumnPlan {
  readonly index: number;
  /** Type code as decoded: the real type for STRING-encoded ENUM/SET/CHAR. */
  readonly type: number;
  /** Bytes of a length prefix (VARCHAR/CHAR 1-2, BLOB/JSON/GEOMETRY/VECTOR 1-4), ENUM/SET/BIT byte count,
   *  or FLOAT/DOUBLE size. */
  readonly length: number;
  /** TIMESTAMP2/DATETIME2/TIME2 fractional digits; DECIMAL precision. */
  readonly precision: number;
  /** DECIMAL scale. */
  readonly scale: number;
  readonly unsigned: boolean;
  /** ENUM/SET member names (FULL metadata), in definition order. */
  readonly names: readonly string[] | undefined;
  readonly binary: boolean;
  readonly encoding: TextEncoding;
}

export interface TablePlan {
  readonly columns: readonly ColumnPlan[];
  /** Number of MySQL JSON columns (PARTIAL_UPDATE_ROWS has one partial bit per JSON column). */
  readonly jsonColumns: number;
}

export interface ColumnHints {
  /**
   * Signedness per column index (true = UNSIGNED), for tables whose TABLE_MAP carries no SIGNEDNESS
   * metadata (MySQL binlog_row_metadata=MINIMAL writes it; MariaDB NO_LOG, the default, does not).
   * Entries left undefined fall back to the metadata, then to signed.
   */
  unsigned?: readonly (boolean | undefined)[];
  /**
   * Which server wrote the TABLE_MAP: MariaDB's SIGNEDNESS bits include YEAR columns. BinlogDecoder
   * passes its file's flavour; the default is MySQL.
   */
  flavor?: 'mysql' | 'mariadb';
}

const NUMERIC = new Set<number>([
  ColumnType.TINY,
  ColumnType.SHORT,
  ColumnType.INT24,
  ColumnType.LONG,
  ColumnType.LONGLONG,
  ColumnType.NEWDECIMAL,
  ColumnType.FLOAT,
  ColumnType.DOUBLE,
]);

const NUMERIC_MARIADB = new Set<number>([...NUMERIC, ColumnType.YEAR]);

const CHARACTER = new Set<number>([
  ColumnType.GEOMETRY,
  ColumnType.STRING,
  ColumnType.VAR_STRING,
  ColumnType.VARCHAR,
  ColumnType.TINY_BLOB,
  ColumnType.MEDIUM_BLOB,
  ColumnType.LONG_BLOB,
  ColumnType.BLOB,
  ColumnType.VARCHAR_COMPRESSED,
  ColumnType.BLOB_COMPRESSED,
]);

/** latin1 collations (ids 5, 8, 15, 31, 47, 48, 49, 94); every other charset is read as UTF-8. */
const LATIN1 = new Set([5, 8, 15, 31, 47, 48, 49, 94]);
const BINARY_COLLATION = 63;

const mysqlPlans = new WeakMap<TableMapEvent, TablePlan>();
const mariadbPlans = new WeakMap<TableMapEvent, TablePlan>();

/** The plan of a TABLE_MAP; cached per event object unless `unsigned` hints are given. */
export function tablePlan(tm: TableMapEvent, hints?: ColumnHints): TablePlan {
  if (hints?.unsigned !== undefined) return buildPlan(tm, hints);
  const cache = hints?.flavor === 'mariadb' ? mariadbPlans : mysqlPlans;
  let plan = cache.get(tm);
  if (!plan) cache.set(tm, (plan = buildPlan(tm, hints)));
  return plan;
}

function buildPlan(tm: TableMapEvent, hints: ColumnHints | undefined): TablePlan {
  const meta = tm.optionalMetadata;
  const signedness = meta.signednessBits;
  const numericTypes = hints?.flavor === 'mariadb' ? NUMERIC_MARIADB : NUMERIC;
  const charsets = charsetLookup(meta.defaultCharset, meta.columnCharsets);
  let numeric = 0;
  let character = 0;
  let enums = 0;
  let sets = 0;
  let jsonColumns = 0;
  const columns: ColumnPlan[] = [];
  for (let i = 0; i < tm.columnCount; i++) {
    const tableType = tm.columnTypes[i];
    const m = tm.columnMeta[i];
    let type = tableType;
    let length = 0;
    let precision = 0;
    let scale = 0;
    switch (tableType) {
      case ColumnType.STRING: {
        // CHAR stores its real type in the first metadata byte. For CHAR longer than 255 bytes two
        // bits of the length live in that byte (inverted), and the type is recovered by setting them.
        const b0 = m >> 8;
        const b1 = m & 0xff;
        if ((b0 & 0x30) !== 0x30) {
          type = b0 | 0x30;
          length = lengthPrefix(b1 | (((b0 & 0x30) ^ 0x30) << 4));
        } else {
          type = b0;
          length = type === ColumnType.ENUM || type === ColumnType.SET ? b1 : lengthPrefix(b1);
        }
        break;
      }
      case ColumnType.ENUM:
      case ColumnType.SET:
        length = m & 0xff;
        break;
      case ColumnType.VARCHAR:
      case ColumnType.VAR_STRING:
      case ColumnType.VARCHAR_COMPRESSED:
        length = lengthPrefix(m);
        break;
      case ColumnType.NEWDECIMAL:
        precision = m >> 8;
        scale = m & 0xff;
        break;
      case ColumnType.BIT:
        length = (m >> 8) + ((m & 0xff) === 0 ? 0 : 1);
        precision = (m >> 8) * 8 + (m & 0xff);
        break;
      case ColumnType.TIMESTAMP2:
      case ColumnType.DATETIME2:
      case ColumnType.TIME2:
        precision = m;
        break;
      case ColumnType.FLOAT:
        length = 4;
        break;
      case ColumnType.DOUBLE:
        length = 8;
        break;
      default:
        // BLOB family, JSON, GEOMETRY, VECTOR: bytes of the length prefix.
        length = m;
    }
    let unsigned = false;
    if (numericTypes.has(tableType)) unsigned = signedness?.[numeric++] ?? false;
    unsigned = hints?.unsigned?.[i] ?? unsigned;
    let names: readonly string[] | undefined;
    if (type === ColumnType.ENUM) names = meta.enumValues?.[enums++];
    else if (type === ColumnType.SET) names = meta.setValues?.[sets++];
    let collation: number | undefined;
    if (CHARACTER.has(type)) collation = charsets(character++);
    if (type === ColumnType.JSON) jsonColumns++;
    columns.push({
      index: i,
      type,
      length,
      precision,
      scale,
      unsigned,
      names,
      binary: collation === BINARY_COLLATION,
      encoding: collation !== undefined && LATIN1.has(collation) ? 'latin1' : 'utf8',
    });
  }
  return { columns, jsonColumns };
}

/** VARCHAR/CHAR: 1 length byte when the maximum (in bytes) fits one. */
function lengthPrefix(maxBytes: number): number {
  return maxBytes > 255 ? 2 : 1;
}

function charsetLookup(
  defaults: DefaultCharset | undefined,
  perColumn: readonly number[] | undefined,
): (charColumn: number) => number | undefined {
  if (perColumn) return (k) => perColumn[k];
  if (!defaults) return () => undefined;
  const exceptions = new Map(defaults.exceptions.map((e) => [e.charColumn, e.collation]));
  return (k) => exceptions.get(k) ?? defaults.defaultCollation;
}
