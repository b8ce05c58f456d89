/**
 * The row values `mariadb-binlog -vv` prints (`### @N=value /* TYPE meta=M nullable=N is_null=N *\/`),
 * and our decoded values rendered the way it prints them (MariaDB log_event_client.cc
 * log_event_print_value), so that the two can be compared as text, value by value.
 *
 * Dumps are read as latin1: mariadb-binlog writes string bytes above 0x1f raw (whatever the charset)
 * and bytes up to 0x1f as `\xNN`, so one char per byte keeps the comparison byte-exact.
 */
import { StringValue, type ColumnValue } from '../../../src/binlog/index.js';

export interface DumpColumn {
  /** 1-based, as printed (`@N`). */
  column: number;
  text: string;
  /** The type as printed, e.g. `VARSTRING(100)`, `DATETIME(6)`, `INT`. */
  type: string;
}

export interface DumpImage {
  statement: 'INSERT' | 'UPDATE' | 'DELETE';
  table: string;
  /** WHERE = before image, SET = after image. */
  part: 'WHERE' | 'SET';
  columns: DumpColumn[];
}

const STATEMENT = /^### (INSERT INTO|UPDATE|DELETE FROM) (.*)$/;
const VALUE = /^### {3}@(\d+)=(.*) \/\* ([^*]*?) meta=\d+ nullable=\d is_null=\d \*\/$/;

/** Every row image of a dump, in file order. */
export function parseDumpImages(latin1: string): DumpImage[] {
  const out: DumpImage[] = [];
  let statement: DumpImage['statement'] | undefined;
  let table = '';
  let current: DumpImage | undefined;
  for (const line of latin1.split('\n')) {
    if (!line.startsWith('###')) continue;
    const s = STATEMENT.exec(line);
    if (s) {
      statement = s[1] === 'INSERT INTO' ? 'INSERT' : s[1] === 'UPDATE' ? 'UPDATE' : 'DELETE';
      table = s[2];
      current = undefined;
      continue;
    }
    if ((line === '### WHERE' || line === '### SET') && statement) {
      current = { statement, table, part: line === '### WHERE' ? 'WHERE' : 'SET', columns: [] };
      out.push(current);
      continue;
    }
    const v = VALUE.exec(line);
    if (v && current) current.columns.push({ column: Number(v[1]), text: v[2], type: v[3] });
  }
  return out;
}

const INT_BITS: Record<string, number> = { TINYINT: 8, SHORTINT: 16, MEDIUMINT: 24, INT: 32, LONGINT: 64 };

/**
 * Our value as mariadb-binlog prints a column of the printed `type`. `names`: the ENUM/SET members our
 * decoder used (FULL metadata), mapped back to the index/bitmap mariadb-binlog prints.
 */
export function renderForDump(value: ColumnValue, type: string, names?: readonly string[]): string {
  if (value === null) return 'NULL';
  if (names && typeof value === 'string') value = value === '' ? 0 : names.indexOf(value) + 1;
  if (names && Array.isArray(value)) {
    value = (value as string[]).reduce((bits, n) => bits | (1n << BigInt(names.indexOf(n))), 0n);
  }
  const bits = INT_BITS[type];
  if (bits !== undefined) return renderInt(BigInt(value as number | bigint), bits);
  if (value instanceof StringValue) return quote(value.bytes);
  if (typeof value === 'object' && 'kind' in value && value.kind === 'raw') return quote(value.raw);
  if (type === 'DOUBLE') return formatG(value as number, 20);
  if (type === 'FLOAT') return formatG(value as number, 6).padEnd(20);
  // mariadb-binlog prints the zero year as 1900 + 0.
  if (type === 'YEAR') return value === 0 ? '1900' : `${value as number}`;
  if (type.startsWith('DECIMAL(') || type.startsWith('ENUM(')) {
    return `${value as string | number}`;
  }
  if (type === 'DATE') return `'${(value as string).replaceAll('-', ':')}'`;
  if (type.startsWith('DATETIME') || type.startsWith('TIME(')) return `'${value as string}'`;
  if (type.startsWith('TIMESTAMP')) return epoch(value as string);
  let m = /^BIT\((\d+)\)$/.exec(type);
  if (m) return `b'${(value as bigint).toString(2).padStart(Number(m[1]), '0')}'`;
  m = /^SET\((\d+) bytes?\)$/.exec(type);
  if (m) return `b'${(value as bigint).toString(2).padStart(Number(m[1]) * 8, '0')}'`;
  throw new Error(`no rendering for dump type ${type}`);
}

/** Signed, plus the unsigned reading in parentheses when negative (as mariadb-binlog prints). */
function renderInt(v: bigint, bits: number): string {
  const range = 1n << BigInt(bits);
  const signed = v >= range / 2n ? v - range : v;
  return signed < 0n ? `${signed} (${signed + range})` : `${signed}`;
}

function quote(bytes: Buffer): string {
  let s = "'";
  for (const b of bytes) s += b > 0x1f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return `${s}'`;
}

/** TIMESTAMP: seconds since the epoch, then the fraction digits as stored. */
function epoch(utc: string): string {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?$/.exec(utc);
  if (!m) throw new Error(`not a timestamp: ${utc}`);
  const seconds = m[1] === '0000' ? 0 : Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000;
  return m[7] === undefined ? `${seconds}` : `${seconds}.${m[7]}`;
}

/** C's %.<p>g. */
export function formatG(x: number, p: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const [, e] = x.toExponential(p - 1).split('e');
  const exp = Number(e);
  const strip = (s: string): string => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
  if (exp < -4 || exp >= p) {
    const [mant] = x.toExponential(p - 1).split('e');
    const sign = exp < 0 ? '-' : '+';
    return `${strip(mant)}e${sign}${`${Math.abs(exp)}`.padStart(2, '0')}`;
  }
  return strip(x.toFixed(p - 1 - exp));
}
