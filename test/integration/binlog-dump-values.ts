/**
 * Renders a value our row decoder returned the way the server's own tool prints it after `###   @N=`,
 * so the two can be compared as text: `mariadb-binlog -vv` (sql/log_event_client.cc
 * `log_event_print_value`, 10.11 and 11.8 alike) or MySQL's `mysqlbinlog -vv` (sql/log_event.cc, 9.7).
 * Strings are handled as bytes in a latin1 string (one char per byte): both tools write raw bytes, and
 * the dump is read as latin1 so that no byte is lost.
 *
 * What the tools do, per type:
 *   integers     signed; a negative value is followed by ` (unsigned)` (no signedness metadata)
 *   FLOAT        printf %-20g of the float widened to double (trailing pad trimmed by the caller)
 *   DOUBLE       printf %-.20g
 *   DECIMAL      the exact decimal string
 *   strings      '…': MariaDB writes every byte > 0x1f raw and every other byte as \xNN (quotes and
 *                backslashes raw); MySQL escapes \b \f \n \r \t, the backslash and the quote, and
 *                other bytes < 0x20 as \xNN
 *   TIMESTAMP    epoch seconds, `.fff` when fsp > 0
 *   DATETIME/TIME '…' as stored; DATE 'YYYY:MM:DD' (colons); YEAR 1900 + stored byte (zero year: 1900)
 *   ENUM         the 1-based index; SET b'…' of its stored bytes (little-endian, in storage order);
 *                BIT b'…' of the column's bit count
 *   GEOMETRY     MariaDB: the stored bytes as a string; MySQL: cannot print it (the caller handles it)
 *   VECTOR       MySQL: `[` floats as printf %.5e joined by `,` `]`; MariaDB's VECTOR is a VARBINARY
 *   JSON         MySQL: see binlog-dump-json.ts; MariaDB's JSON is LONGTEXT
 */
import { ColumnType } from '../../src/binlog/events/table-map.js';
import type { ColumnPlan } from '../../src/binlog/rows/columns.js';
import { StringValue, type ColumnValue } from '../../src/binlog/rows/values.js';

/** C printf `%.<precision>g`. */
export function printfG(x: number, precision: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const [mantissa = '', exp = '0'] = x.toExponential(precision - 1).split('e');
  const e = Number(exp);
  const strip = (s: string): string => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
  if (e < -4 || e >= precision) {
    return `${strip(mantissa)}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return strip(x.toFixed(Math.max(0, precision - 1 - e)));
}

export type ToolFlavor = 'mariadb' | 'mysql';

/** mariadb-binlog's quoting of string bytes, as a latin1 string. */
export function quoteBytes(bytes: Buffer): string {
  let controls = 0;
  for (const b of bytes) if (b <= 0x1f) controls++;
  if (controls === 0) return `'${bytes.toString('latin1')}'`;
  const out = Buffer.allocUnsafe(bytes.length + controls * 3);
  let o = 0;
  for (const b of bytes) {
    if (b > 0x1f) out[o++] = b;
    else o += out.write(`\\x${b.toString(16).padStart(2, '0')}`, o, 'latin1');
  }
  return `'${out.toString('latin1', 0, o)}'`;
}

const MYSQL_ESCAPES: Record<number, string> = {
  8: '\\b',
  12: '\\f',
  10: '\\n',
  13: '\\r',
  9: '\\t',
  0x5c: '\\\\',
  0x27: "\\'",
};

/** mysqlbinlog's quoting of string bytes (log_event.cc get_quote_table), as a latin1 string. */
export function quoteBytesMysql(bytes: Buffer): string {
  let out = "'";
  for (const b of bytes) {
    const special = MYSQL_ESCAPES[b];
    if (special !== undefined) out += special;
    else if (b < 0x20) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(b);
  }
  return `${out}'`;
}

/** C printf `%.5e`. */
function printfE5(x: number): string {
  if (Object.is(x, -0)) return '-0.00000e+00';
  const [mantissa = '', exp = '0'] = x.toExponential(5).split('e');
  const e = Number(exp);
  return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

/** MySQL's text of a VECTOR: its little-endian float32 values. */
function vectorText(raw: Buffer): string {
  const parts: string[] = [];
  for (let i = 0; i + 4 <= raw.length; i += 4) parts.push(printfE5(raw.readFloatLE(i)));
  return `[${parts.join(',')}]`;
}

function signedWithUnsigned(v: number | bigint, bits: number): string {
  const big = BigInt(v);
  const mod = 1n << BigInt(bits);
  const signed = big >= mod >> 1n ? big - mod : big;
  return signed < 0n ? `${signed} (${signed + mod})` : `${signed}`;
}

function bitsOf(v: bigint, bits: number): string {
  return `b'${v.toString(2).padStart(bits, '0')}'`;
}

/** Epoch seconds of a UTC `YYYY-MM-DD HH:MM:SS[.fff]` string, with its fraction digits kept. */
function epoch(text: string): string {
  if (text.startsWith('0000-00-00')) return text.includes('.') ? `0.${text.split('.')[1]}` : '0';
  const [whole = '', frac] = text.split('.');
  const seconds = Date.parse(`${whole.replace(' ', 'T')}Z`) / 1000;
  return frac === undefined ? String(seconds) : `${seconds}.${frac}`;
}

/**
 * The text after `@N=` for one decoded value of column `col` (`meta` is the TABLE_MAP metadata), as
 * the `flavor`'s tool prints it. MySQL JSON and MariaDB compressed columns are compared by the caller.
 */
export function dumpValue(value: ColumnValue, col: ColumnPlan, meta: number, flavor: ToolFlavor): string {
  if (value === null) return 'NULL';
  if (value === undefined) return '<absent>';
  if (value instanceof StringValue)
    return flavor === 'mysql' ? quoteBytesMysql(value.bytes) : quoteBytes(value.bytes);
  switch (col.type) {
    case ColumnType.TINY:
      return signedWithUnsigned(value as number, 8);
    case ColumnType.SHORT:
      return signedWithUnsigned(value as number, 16);
    case ColumnType.INT24:
      return signedWithUnsigned(value as number, 24);
    case ColumnType.LONG:
      return signedWithUnsigned(value as number, 32);
    case ColumnType.LONGLONG:
      return signedWithUnsigned(value as bigint, 64);
    case ColumnType.FLOAT:
      return printfG(value as number, 6);
    case ColumnType.DOUBLE:
      return printfG(value as number, 20);
    case ColumnType.NEWDECIMAL:
      return value as string;
    case ColumnType.YEAR:
      return String((value as number) === 0 ? 1900 : (value as number));
    case ColumnType.DATE:
    case ColumnType.NEWDATE:
      return `'${(value as string).replaceAll('-', ':')}'`;
    case ColumnType.TIMESTAMP:
    case ColumnType.TIMESTAMP2:
      return epoch(value as string);
    case ColumnType.DATETIME:
    case ColumnType.DATETIME2:
    case ColumnType.TIME:
    case ColumnType.TIME2:
      return `'${value as string}'`;
    case ColumnType.ENUM:
      // Without ENUM names in the TABLE_MAP the decoder returns the 1-based index, as printed.
      return typeof value === 'number' ? String(value) : (value as string);
    case ColumnType.SET: {
      // The stored bytes (little-endian) in storage order, each byte's bits high to low.
      const bytes = Buffer.alloc(col.length);
      let v = BigInt(value as bigint);
      for (let i = 0; i < col.length; i++, v >>= 8n) bytes[i] = Number(v & 0xffn);
      return `b'${[...bytes].map((b) => b.toString(2).padStart(8, '0')).join('')}'`;
    }
    case ColumnType.BIT:
      return bitsOf(value as bigint, (meta >> 8) * 8 + (meta & 0xff));
    case ColumnType.GEOMETRY:
      // mariadb-binlog prints the stored bytes (SRID + WKB) like a BLOB.
      if (flavor === 'mariadb' && typeof value === 'object' && 'kind' in value && value.kind === 'raw')
        return quoteBytes(value.raw);
      break;
    case ColumnType.VECTOR:
      if (typeof value === 'object' && 'kind' in value && value.kind === 'raw') return vectorText(value.raw);
      break;
    default:
      break;
  }
  return `<type ${col.type}: ${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}>`;
}
