/*
 * Temporal row values, formatted as MySQL prints them (all big-endian unless marked LE):
 *
 *   DATE (10)        3 bytes LE: day 5 bits | month 4 | year 15
 *   TIME (11)        3 bytes LE signed: HHMMSS as a decimal number (pre-5.6.4)
 *   DATETIME (12)    8 bytes LE: YYYYMMDDhhmmss as a decimal number (pre-5.6.4)
 *   TIMESTAMP (7)    4 bytes LE: seconds since the epoch (pre-5.6.4)
 *   TIMESTAMP2 (17)  4 bytes: seconds | fraction
 *   DATETIME2 (18)   5 bytes: value + 0x8000000000, value = sign 1 | year*13+month 17 | day 5 | hour 5
 *                    | minute 6 | second 6 ; then fraction
 *   TIME2 (19)       3 bytes: value + 0x800000, value = sign 1 | unused 1 | hour 10 | minute 6
 *                    | second 6 ; then fraction. fsp 5-6: the 6 bytes together are one number
 *                    + 0x800000000000 in units of 1/2^24 s (packed time)
 *   fraction         (fsp+1)/2 bytes: fsp 1-2: 1 byte of 1/100 s, 3-4: 2 bytes of 1/10000 s, 5-6: 3 bytes µs.
 *
 * A negative TIME2 stores its fraction as the complement towards the next second (so that the bytes
 * sort like the values): -00:00:01.25 is stored as intpart -1 and fraction 0.75 -> read intpart + 1
 * and fraction - 1 (MySQL my_time_packed_from_binary). Everything stays below 2^53, so numbers suffice.
 */
import type { Cursor } from '../cursor.js';

const FRAC_BYTES = [0, 1, 1, 2, 2, 3, 3];
const FRAC_SCALE = [1, 10000, 10000, 100, 100, 1, 1];

function need(c: Cursor, n: number): number {
  c.need(n, 'row value');
  const p = c.pos;
  c.pos += n;
  return p;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function pad4(n: number): string {
  return n < 1000 ? `${n}`.padStart(4, '0') : `${n}`;
}

/** `.fff` with `fsp` digits of a microsecond count ('' for fsp 0). */
function fraction(micros: number, fsp: number): string {
  if (fsp <= 0) return '';
  return `.${`${micros}`.padStart(6, '0').slice(0, fsp)}`;
}

function dateString(year: number, month: number, day: number): string {
  return `${pad4(year)}-${pad2(month)}-${pad2(day)}`;
}

function timeOfDay(hour: number, minute: number, second: number): string {
  return `${pad2(hour)}:${pad2(minute)}:${pad2(second)}`;
}

function readFraction(c: Cursor, fsp: number): number {
  const n = FRAC_BYTES[fsp] ?? 3;
  if (n === 0) return 0;
  const p = need(c, n);
  return c.buf.readUIntBE(p, n) * (FRAC_SCALE[fsp] ?? 1);
}

export function readDate(c: Cursor): string {
  const v = c.buf.readUIntLE(need(c, 3), 3);
  return dateString(v >>> 9, (v >>> 5) & 15, v & 31);
}

export function readTimeV1(c: Cursor): string {
  const v = c.buf.readIntLE(need(c, 3), 3);
  const a = Math.abs(v);
  return `${v < 0 ? '-' : ''}${timeOfDay(Math.floor(a / 10000), Math.floor(a / 100) % 100, a % 100)}`;
}

export function readDatetimeV1(c: Cursor): string {
  const v = c.buf.readBigUInt64LE(need(c, 8));
  const s = `${v}`.padStart(14, '0');
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)} ${s.slice(8, 10)}:${s.slice(10, 12)}:${s.slice(12, 14)}`;
}

export function readTimestampV1(c: Cursor): string {
  return timestampString(c.buf.readUInt32LE(need(c, 4)), 0, 0);
}

export function readTimestamp2(c: Cursor, fsp: number): string {
  const seconds = c.buf.readUInt32BE(need(c, 4));
  return timestampString(seconds, readFraction(c, fsp), fsp);
}

export function readDatetime2(c: Cursor, fsp: number): string {
  const p = need(c, 5);
  // 40 bits: the top byte times 2^32 plus the low word keeps it exact in a double.
  let v = c.buf[p] * 0x100000000 + c.buf.readUInt32BE(p + 1) - 0x8000000000;
  const micros = readFraction(c, fsp);
  const neg = v < 0;
  if (neg) v = -v;
  const hms = v % 0x20000;
  const ymd = Math.floor(v / 0x20000);
  const ym = ymd >>> 5;
  return (
    `${neg ? '-' : ''}${dateString(Math.floor(ym / 13), ym % 13, ymd & 31)} ` +
    `${timeOfDay(hms >>> 12, (hms >>> 6) & 63, hms & 63)}${fraction(micros, fsp)}`
  );
}

export function readTime2(c: Cursor, fsp: number): string {
  // The value as MySQL's packed time: integer part << 24 | microseconds.
  let packed: number;
  if (fsp >= 5) {
    const p = need(c, 6);
    packed = c.buf.readUIntBE(p, 6) - 0x800000000000;
  } else {
    let intpart = c.buf.readUIntBE(need(c, 3), 3) - 0x800000;
    let frac = 0;
    if (fsp >= 1) {
      const bytes = fsp >= 3 ? 2 : 1;
      frac = c.buf.readUIntBE(need(c, bytes), bytes);
      if (intpart < 0 && frac !== 0) {
        intpart += 1;
        frac -= bytes === 2 ? 0x10000 : 0x100;
      }
      frac *= bytes === 2 ? 100 : 10000;
    }
    packed = intpart * 0x1000000 + frac;
  }
  const neg = packed < 0;
  if (neg) packed = -packed;
  const hms = Math.floor(packed / 0x1000000);
  const micros = packed % 0x1000000;
  return `${neg ? '-' : ''}${timeOfDay((hms >>> 12) & 1023, (hms >>> 6) & 63, hms & 63)}${fraction(micros, fsp)}`;
}

// Rows of one transaction mostly share their timestamps (an outbox's created_at): remember the last
// second formatted.
let lastSeconds = -1;
let lastCivil = '';

/** UTC civil time of an epoch second count (0 is MySQL's zero timestamp). */
function timestampString(seconds: number, micros: number, fsp: number): string {
  if (seconds === 0 && micros === 0) return `0000-00-00 00:00:00${fraction(0, fsp)}`;
  if (seconds !== lastSeconds) {
    lastCivil = civil(seconds);
    lastSeconds = seconds;
  }
  return `${lastCivil}${fraction(micros, fsp)}`;
}

function civil(seconds: number): string {
  const days = Math.floor(seconds / 86400);
  const sod = seconds - days * 86400;
  // Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days).
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${dateString(year, month, day)} ${timeOfDay(Math.floor(sod / 3600), Math.floor(sod / 60) % 60, sod % 60)}`;
}

/*
 * JSON opaque temporal values (DATE/DATETIME/TIMESTAMP/TIME inside a MySQL JSON document) are stored
 * as one little-endian int64 "packed" value: integer part << 24 | microseconds, negated when negative.
 * Integer part: DATETIME/DATE ((year*13+month) << 5 | day) << 17 | hour << 12 | minute << 6 | second;
 * TIME hour << 12 | minute << 6 | second. MySQL prints them with 6 fractional digits (DATE without).
 */
export function packedDatetimeString(packed: bigint, kind: 'date' | 'datetime'): string {
  const neg = packed < 0n;
  const v = neg ? -packed : packed;
  const micros = Number(v & 0xffffffn);
  const ymdhms = Number(v >> 24n);
  const hms = ymdhms % 0x20000;
  const ymd = Math.floor(ymdhms / 0x20000);
  const ym = ymd >>> 5;
  const date = `${neg ? '-' : ''}${dateString(Math.floor(ym / 13), ym % 13, ymd & 31)}`;
  if (kind === 'date') return date;
  return `${date} ${timeOfDay(hms >>> 12, (hms >>> 6) & 63, hms & 63)}${fraction(micros, 6)}`;
}

export function packedTimeString(packed: bigint): string {
  const neg = packed < 0n;
  const v = neg ? -packed : packed;
  const micros = Number(v & 0xffffffn);
  const hms = Number(v >> 24n);
  return `${neg ? '-' : ''}${timeOfDay((hms >>> 12) & 1023, (hms >>> 6) & 63, hms & 63)}${fraction(micros, 6)}`;
}
