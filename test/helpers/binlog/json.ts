/**
 * Encoders for MySQL binary JSON and partial-JSON diffs (the inverse of rows/json-binary.ts and
 * rows/json-diff.ts, whose comments document the formats), for tests and the fuzzer's seeds.
 * Re-exported by builder.ts.
 */
import { packedInt } from './encoding.js';
import type { JsonDiff, JsonValue } from '../../../src/binlog/rows/values.js';

/** A SQL value inside JSON (JSONB opaque): MySQL field type + its bytes. */
export interface JsonOpaqueInput {
  $opaque: number;
  data: Buffer;
}

export type JsonInput =
  null | boolean | number | bigint | string | JsonOpaqueInput | JsonInput[] | { [key: string]: JsonInput };

export interface JsonEncodeOptions {
  /** Use the large (32-bit offset) container format even when the small one fits. */
  large?: boolean;
}

interface Encoded {
  type: number;
  /** The value without its type byte. */
  bytes: Buffer;
}

/** Binary JSON document (type byte + value). */
export function encodeJsonBinary(value: JsonInput, opts: JsonEncodeOptions = {}): Buffer {
  const e = encodeValue(value, opts.large ?? false);
  return Buffer.concat([Buffer.of(e.type), e.bytes]);
}

/** The bytes of a partial JSON column value (without its 4-byte length prefix). */
export function encodeJsonDiffs(diffs: readonly JsonDiff[], opts: JsonEncodeOptions = {}): Buffer {
  const parts: Buffer[] = [];
  for (const d of diffs) {
    const path = Buffer.from(d.path, 'utf8');
    parts.push(Buffer.of(['replace', 'insert', 'remove'].indexOf(d.operation)), packedInt(path.length), path);
    if (d.operation !== 'remove') {
      const v = encodeJsonBinary(d.value ?? null, opts);
      parts.push(packedInt(v.length), v);
    }
  }
  return Buffer.concat(parts);
}

/** JsonValue (what the decoder returns) as encoder input: the same thing for every non-opaque value. */
export function jsonInput(v: JsonValue): JsonInput {
  return v;
}

function encodeValue(v: JsonInput, large: boolean): Encoded {
  if (v === null) return { type: 0x04, bytes: Buffer.of(0) };
  if (v === true) return { type: 0x04, bytes: Buffer.of(1) };
  if (v === false) return { type: 0x04, bytes: Buffer.of(2) };
  if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER)
    return encodeInt(BigInt(v));
  if (typeof v === 'number') {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v, 0);
    return { type: 0x0b, bytes: b };
  }
  if (typeof v === 'bigint') return encodeInt(v);
  if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    return { type: 0x0c, bytes: Buffer.concat([varlen(s.length), s]) };
  }
  if (Array.isArray(v))
    return container(
      v.map((x) => encodeValue(x, large)),
      undefined,
      large,
    );
  if (isOpaque(v))
    return { type: 0x0f, bytes: Buffer.concat([Buffer.of(v.$opaque), varlen(v.data.length), v.data]) };
  const keys = Object.keys(v);
  return container(
    keys.map((k) => encodeValue(v[k], large)),
    keys.map((k) => Buffer.from(k, 'utf8')),
    large,
  );
}

function isOpaque(v: object): v is JsonOpaqueInput {
  return '$opaque' in v && 'data' in v && Buffer.isBuffer((v as JsonOpaqueInput).data);
}

function encodeInt(n: bigint): Encoded {
  const fit = (bytes: number, signed: boolean): Buffer => {
    const b = Buffer.alloc(bytes);
    if (bytes === 8) {
      if (signed) b.writeBigInt64LE(n, 0);
      else b.writeBigUInt64LE(n, 0);
    } else if (signed) b.writeIntLE(Number(n), 0, bytes);
    else b.writeUIntLE(Number(n), 0, bytes);
    return b;
  };
  if (n >= -0x8000n && n <= 0x7fffn) return { type: 0x05, bytes: fit(2, true) };
  if (n >= 0n && n <= 0xffffn) return { type: 0x06, bytes: fit(2, false) };
  if (n >= -0x80000000n && n <= 0x7fffffffn) return { type: 0x07, bytes: fit(4, true) };
  if (n >= 0n && n <= 0xffffffffn) return { type: 0x08, bytes: fit(4, false) };
  if (n >= -(1n << 63n) && n < 1n << 63n) return { type: 0x09, bytes: fit(8, true) };
  return { type: 0x0a, bytes: fit(8, false) };
}

function inlined(type: number, large: boolean): boolean {
  return type === 0x04 || type === 0x05 || type === 0x06 || (large && (type === 0x07 || type === 0x08));
}

/** Object (keys given) or array; the small format unless asked or too big for 16-bit offsets. */
function container(values: Encoded[], keys: Buffer[] | undefined, large: boolean): Encoded {
  if (!large) {
    const small = layout(values, keys, false);
    if (small) return small;
  }
  return layout(values, keys, true)!;
}

function layout(values: Encoded[], keys: Buffer[] | undefined, large: boolean): Encoded | undefined {
  const w = large ? 4 : 2;
  const max = large ? 0xffffffff : 0xffff;
  const n = values.length;
  const head = 2 * w + (keys ? n * (w + 2) : 0) + n * (1 + w);
  let offset = head;
  const keyOffsets = (keys ?? []).map((k) => {
    const at = offset;
    offset += k.length;
    return at;
  });
  const valueOffsets = values.map((v) => {
    if (inlined(v.type, large)) return -1;
    const at = offset;
    offset += v.bytes.length;
    return at;
  });
  if (offset > max || (keys ?? []).some((k) => k.length > 0xffff)) return undefined;
  const b = Buffer.alloc(offset);
  const put = (at: number, v: number): void => {
    if (large) b.writeUInt32LE(v, at);
    else b.writeUInt16LE(v, at);
  };
  put(0, n);
  put(w, offset);
  let p = 2 * w;
  keys?.forEach((k, i) => {
    put(p, keyOffsets[i]);
    b.writeUInt16LE(k.length, p + w);
    k.copy(b, keyOffsets[i]);
    p += w + 2;
  });
  values.forEach((v, i) => {
    b[p] = v.type;
    if (valueOffsets[i] < 0) v.bytes.copy(b, p + 1, 0, Math.min(v.bytes.length, w));
    else {
      put(p + 1, valueOffsets[i]);
      v.bytes.copy(b, valueOffsets[i]);
    }
    p += 1 + w;
  });
  return { type: keys ? (large ? 0x01 : 0x00) : large ? 0x03 : 0x02, bytes: b };
}

function varlen(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}
