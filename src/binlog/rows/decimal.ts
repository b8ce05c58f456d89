/*
 * NEWDECIMAL(precision, scale) (strings/decimal.cc bin2decimal), big-endian:
 *   integer digits = precision - scale, split into a leading group of (digits % 9) and full groups of 9;
 *   fraction digits = scale, split into full groups of 9 and a trailing group of (scale % 9).
 *   A full group takes 4 bytes; a partial group of n digits takes [0,1,1,2,2,3,3,4,4,4][n] bytes.
 *   The sign is the top bit of the first byte, flipped (set = positive); a negative number has every
 *   byte inverted. The result is exact text: leading zeros dropped, the scale's digits kept ('0.0001').
 */
import type { Cursor } from '../cursor.js';
import { BinlogDecodeError } from '../errors.js';

const DIG2BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

export function decimalSize(precision: number, scale: number): number {
  const intg = precision - scale;
  return Math.floor(intg / 9) * 4 + DIG2BYTES[intg % 9] + Math.floor(scale / 9) * 4 + DIG2BYTES[scale % 9];
}

export function readDecimal(c: Cursor, precision: number, scale: number): string {
  if (scale > precision || precision > 65 || precision === 0) {
    throw new BinlogDecodeError(
      'MALFORMED_EVENT',
      `DECIMAL(${precision},${scale}) is not a valid column type`,
    );
  }
  const size = decimalSize(precision, scale);
  c.need(size, 'row value');
  const buf = c.buf;
  let p = c.pos;
  c.pos += size;
  const negative = (buf[p] & 0x80) === 0;
  const mask = negative ? 0xff : 0;
  // The sign bit is flipped on the first byte read only, whichever group it belongs to.
  let flip = 0x80;
  const intg = precision - scale;
  let intPart = '';
  const lead = intg % 9;
  if (lead > 0) {
    const v = group(buf, p, DIG2BYTES[lead], mask, flip);
    p += DIG2BYTES[lead];
    flip = 0;
    if (v !== 0) intPart = `${v}`;
  }
  for (let k = Math.floor(intg / 9); k > 0; k--) {
    const v = group(buf, p, 4, mask, flip);
    p += 4;
    flip = 0;
    intPart = intPart === '' ? (v === 0 ? '' : `${v}`) : intPart + `${v}`.padStart(9, '0');
  }
  let fracPart = '';
  for (let k = Math.floor(scale / 9); k > 0; k--) {
    fracPart += `${group(buf, p, 4, mask, flip)}`.padStart(9, '0');
    p += 4;
    flip = 0;
  }
  const tail = scale % 9;
  if (tail > 0) fracPart += `${group(buf, p, DIG2BYTES[tail], mask, flip)}`.padStart(tail, '0');
  const text = `${intPart === '' ? '0' : intPart}${scale > 0 ? `.${fracPart}` : ''}`;
  return negative ? `-${text}` : text;
}

/** n bytes big-endian, each XORed with `mask`, the first also with `flip`. */
function group(buf: Buffer, p: number, n: number, mask: number, flip: number): number {
  let v = buf[p] ^ mask ^ flip;
  for (let k = 1; k < n; k++) v = v * 256 + (buf[p + k] ^ mask);
  return v;
}
