/**
 * Renders a value our row decoder returned the way `mariadb-binlog -vv` (10.11, sql/log_event_client.cc
 * `log_event_print_value`) prints it after `###   @N=`, so the two can be compared as text. Strings are
 * handled as bytes in a latin1 string (one char per byte): mariadb-binlog writes raw bytes, and the dump
 * is read as latin1 so that no byte is lost.
 *
 * What mariadb-binlog does, per type:
 *   integers     signed; a negative value is followed by ` (unsigned)` (no signedness metadata)
 *   FLOAT        printf %-20g of the float widened to double (trailing pad trimmed by the caller)
 *   DOUBLE       printf %-.20g
 *   DECIMAL      the exact decimal string
 *   strings      '…' with every byte > 0x1f raw and every other byte as \xNN (quotes not escaped)
 *   TIMESTAMP    epoch seconds, `.fff` when fsp > 0
 *   DATETIME/TIME '…' as stored; DATE 'YYYY:MM:DD' (colons); YEAR 1900 + stored byte (zero year: 1900)
 *   ENUM         the 1-based index; SET and BIT b'…' (8 bits per SET byte, the column's bit count)
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

/** The text after `@N=` for one decoded value of column `col` (`meta` is the TABLE_MAP metadata). */
export function dumpValue(value: ColumnValue, col: ColumnPlan, meta: number): string {
  if (value === null) return 'NULL';
  if (value === undefined) return '<absent>';
  if (value instanceof StringValue) return quoteBytes(value.bytes);
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
    case ColumnType.SET:
      return bitsOf(BigInt(value as bigint), 8 * col.length);
    case ColumnType.BIT:
      return bitsOf(value as bigint, (meta >> 8) * 8 + (meta & 0xff));
    default:
      return `<type ${col.type}: ${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}>`;
  }
}
