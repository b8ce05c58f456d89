/**
 * Mutation operators. Random bit flips alone mostly hit bytes nobody bounds-checks (timestamps, ids);
 * the bugs live in lengths and counts, so most operators aim at the integer fields the decoder reads
 * (fields.ts), at event_size, and at truncation points next to those fields. Every operator keeps the
 * header's event_size consistent with the new length unless corrupting event_size is its point: an
 * inconsistent size is rejected by the framing check before any body decoder runs.
 */
import { crc32 } from 'node:zlib';
import { EVENT_HEADER_LENGTH, EventFlag, EventType } from '../../src/binlog/constants.js';
import type { Seed } from './corpus.js';
import { LENGTH_LABEL, type IntField } from './fields.js';
import type { Rng } from './rng.js';

export interface Mutated {
  bytes: Buffer;
  /** Operator names, in order (for the summary and the replay printout). */
  ops: string[];
  crcFixed: boolean;
}

/** Every type code the decoder or the servers know, for type swaps and garbage events. */
const TYPES = [
  ...Object.values(EventType),
  ...[1, 6, 7, 8, 9, 10, 11, 12, 17, 18, 20, 21, 22, 28, 36, 37, 38, 39, 43, 100, 255],
];

type Op = (rng: Rng, b: Buffer, fields: IntField[], other: () => Buffer) => Buffer;

const OPS: Record<string, [weight: number, op: Op]> = {
  field: [30, (rng, b, fields) => corruptField(rng, b, fields)],
  truncate: [14, (rng, b, fields) => truncate(rng, b, fields)],
  bitflip: [10, (rng, b) => bitflip(rng, b)],
  byte: [8, (rng, b) => setBytes(rng, b)],
  size: [5, (rng, b) => corruptSize(rng, b)],
  insert: [5, (rng, b) => insert(rng, b)],
  delete: [5, (rng, b) => remove(rng, b)],
  extend: [4, (rng, b) => sized(Buffer.concat([b, rng.bytes(rng.range(1, 64))]))],
  splice: [8, (rng, b, _f, other) => splice(rng, b, other())],
  type: [5, (rng, b) => withType(b, rng.pick(TYPES))],
  garbage: [
    3,
    (rng, b) => sized(Buffer.concat([b.subarray(0, EVENT_HEADER_LENGTH), rng.bytes(rng.int(257))])),
  ],
};
const OP_NAMES = Object.keys(OPS);
const TOTAL_WEIGHT = OP_NAMES.reduce((s, n) => s + OPS[n][0], 0);

function pickOp(rng: Rng): string {
  let r = rng.int(TOTAL_WEIGHT);
  for (const name of OP_NAMES) {
    r -= OPS[name][0];
    if (r < 0) return name;
  }
  return OP_NAMES[0];
}

/**
 * Mutates one seed event: 1–3 operators, or (for compressed events, a third of the time) the
 * uncompressed content re-wrapped into a well-formed event. With a CRC recomputed (most cases) the
 * body decoders see the mutation; without, the CRC check must catch it.
 */
export function mutateEvent(rng: Rng, seed: Seed, other: () => Buffer): Mutated {
  const ops: string[] = [];
  let b: Buffer;
  if (seed.inner && rng.chance(0.35)) {
    let content: Buffer = Buffer.from(seed.inner.content);
    const n = rng.range(1, 3);
    for (let i = 0; i < n; i++) {
      const name = rng.pick(['field', 'bitflip', 'byte', 'truncate', 'insert', 'delete', 'splice']);
      content = applyRaw(rng, name, content, seed.inner.fields, other);
      ops.push(`inner:${name}`);
    }
    const zstd = rng.chance(0.5);
    b = seed.inner.rewrap(content, zstd);
    ops.push(zstd ? 'rewrap:zstd' : 'rewrap');
  } else {
    b = Buffer.from(seed.event);
    const n = rng.chance(0.6) ? 1 : rng.range(2, 3);
    for (let i = 0; i < n; i++) {
      const name = pickOp(rng);
      b = OPS[name][1](rng, b, seed.fields, other);
      ops.push(name);
    }
  }
  let crcFixed = false;
  if (seed.crc && b.length >= EVENT_HEADER_LENGTH + 4 && rng.chance(0.75)) {
    writeCrc(b);
    crcFixed = true;
  }
  return { bytes: b, ops, crcFixed };
}

/** Operators on content without an event header (payload content, compressed text/rows). */
function applyRaw(rng: Rng, name: string, b: Buffer, fields: IntField[], other: () => Buffer): Buffer {
  if (b.length === 0) return rng.bytes(rng.range(1, 32));
  switch (name) {
    case 'field':
      return fields.length > 0 ? corruptField(rng, b, fields) : setBytes(rng, b, 0);
    case 'bitflip':
      return bitflip(rng, b, 0);
    case 'byte':
      return setBytes(rng, b, 0);
    case 'truncate':
      return b.subarray(0, truncationPoint(rng, b, fields, 0));
    case 'insert': {
      const at = rng.int(b.length + 1);
      return Buffer.concat([b.subarray(0, at), rng.bytes(rng.range(1, 8)), b.subarray(at)]);
    }
    case 'delete': {
      const at = rng.int(b.length);
      return Buffer.concat([b.subarray(0, at), b.subarray(at + rng.range(1, 8))]);
    }
    default: {
      const o = other();
      return Buffer.concat([b.subarray(0, rng.int(b.length + 1)), o.subarray(rng.int(o.length))]);
    }
  }
}

/** Mutates a whole multi-event window in place (event boundaries stay where they were). */
export function mutateStream(rng: Rng, window: Buffer, starts: number[], crc: boolean): Mutated {
  const ops: string[] = [];
  let b: Buffer = Buffer.from(window);
  const n = rng.range(1, 3);
  for (let i = 0; i < n; i++) {
    const name = rng.pick(['bitflip', 'byte', 'size', 'body-byte', 'truncate', 'type']);
    const whole = starts.filter((s) => s + EVENT_HEADER_LENGTH <= b.length);
    if (whole.length === 0 || b.length <= 4) continue;
    ops.push(name);
    const start = rng.pick(whole);
    if (name === 'bitflip') b = bitflip(rng, b, 4);
    else if (name === 'byte') b = setBytes(rng, b, 4);
    else if (name === 'size')
      b.writeUInt32LE(
        rng.pick([0, 18, 19, 23, b.readUInt32LE(start + 9) + rng.range(-3, 3), rng.next()]) >>> 0,
        start + 9,
      );
    else if (name === 'type') b[start + 4] = rng.pick(TYPES);
    else if (name === 'truncate') b = b.subarray(0, rng.range(4, b.length));
    else {
      const size = b.readUInt32LE(start + 9);
      const at = start + EVENT_HEADER_LENGTH + rng.int(Math.max(1, size - EVENT_HEADER_LENGTH));
      if (at < b.length)
        b[at] = rng.pick([0, 1, 0x7f, 0x80, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, rng.next() & 0xff]);
    }
  }
  let crcFixed = false;
  if (crc && rng.chance(0.75)) {
    crcFixed = true;
    // Re-checksum every event the (possibly corrupted) sizes still delimit, as a writer that
    // computes CRCs over garbage would.
    let pos = 4;
    while (pos + EVENT_HEADER_LENGTH + 4 <= b.length) {
      const size = b.readUInt32LE(pos + 9);
      if (size < EVENT_HEADER_LENGTH + 4 || pos + size > b.length) break;
      writeCrc(b.subarray(pos, pos + size));
      pos += size;
    }
  }
  return { bytes: b, ops, crcFixed };
}

function sized(b: Buffer): Buffer {
  if (b.length >= EVENT_HEADER_LENGTH) b.writeUInt32LE(b.length, 9);
  return b;
}

function withType(b: Buffer, type: number): Buffer {
  if (b.length > 4) b[4] = type;
  return b;
}

/** (Re)computes the trailing CRC32 as the server does (an FDE's IN_USE flag counts as cleared). */
export function writeCrc(b: Buffer): void {
  const flags = b[17];
  if (b[4] === EventType.FORMAT_DESCRIPTION) b[17] = flags & ~EventFlag.BINLOG_IN_USE;
  b.writeUInt32LE(crc32(b.subarray(0, b.length - 4)), b.length - 4);
  b[17] = flags;
}

const INTERESTING_BYTES = [0, 1, 2, 0x7f, 0x80, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff];

function bitflip(rng: Rng, b: Buffer, from = EVENT_HEADER_LENGTH): Buffer {
  const n = rng.range(1, 4);
  for (let i = 0; i < n; i++) {
    const lo = rng.chance(0.85) && b.length > from ? from : 0;
    const at = rng.range(lo, b.length - 1);
    b[at] = b[at] ^ (1 << rng.int(8));
  }
  return b;
}

function setBytes(rng: Rng, b: Buffer, from = EVENT_HEADER_LENGTH): Buffer {
  const n = rng.range(1, 4);
  for (let i = 0; i < n; i++) {
    const at = rng.range(b.length > from ? from : 0, b.length - 1);
    b[at] = rng.chance(0.7) ? rng.pick(INTERESTING_BYTES) : rng.next() & 0xff;
  }
  return b;
}

/** event_size values around every check: < header, = header, off by one, beyond the buffer, huge. */
function corruptSize(rng: Rng, b: Buffer): Buffer {
  const len = b.length;
  if (len < 13) return b;
  const v = rng.pick([
    0,
    1,
    18,
    19,
    22,
    23,
    len - 1,
    len + 1,
    len - 4,
    len + 4,
    0x7fffffff,
    0xffffffff,
    rng.next(),
  ]);
  b.writeUInt32LE(v >>> 0, 9);
  return b;
}

/** Writes an extreme or off-by-one value into one of the integer fields the decoder reads. */
function corruptField(rng: Rng, b: Buffer, fields: IntField[]): Buffer {
  const usable = fields.filter((f) => f.offset < b.length);
  if (usable.length === 0) return setBytes(rng, b);
  const lengths = usable.filter((f) => LENGTH_LABEL.test(f.label));
  const f = lengths.length > 0 && rng.chance(0.7) ? rng.pick(lengths) : rng.pick(usable);
  const room = b.length - f.offset;
  if (f.width === 0) {
    // Packed integer: rewrite it in place with an extreme value in any of its four widths (0xfb NULL
    // and 0xff are invalid here), the bytes after it shifting meaning accordingly.
    const v = rng.chance(0.2) ? rng.pick([0xfb, 0xff]) : -1;
    const enc = v >= 0 ? Buffer.of(v) : packed(rng.pick(PACKED_VALUES), rng.int(4));
    enc.copy(b, f.offset, 0, Math.min(enc.length, room));
    return b;
  }
  const width = Math.min(f.width, room, 6);
  if (width <= 0) return b;
  const max = 2 ** (8 * width) - 1;
  const old = b.readUIntLE(f.offset, width);
  const candidates = [
    0,
    1,
    2,
    max,
    max - 1,
    2 ** (8 * width - 1),
    old + 1,
    old - 1,
    old * 2,
    room,
    room + 1,
    room - 1,
  ];
  const v = rng.chance(0.85) ? rng.pick(candidates) : rng.int(max + 1);
  b.writeUIntLE(Math.min(max, Math.max(0, v)), f.offset, width);
  if (f.width === 8 && room >= 8 && rng.chance(0.3))
    b.writeUInt16LE(rng.pick([0, 0xffff, 0x8000]), f.offset + 6);
  return b;
}

const PACKED_VALUES = [
  0,
  1,
  250,
  251,
  0xffff,
  0x10000,
  0xffffff,
  2 ** 24,
  2 ** 31,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 40,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 64 - 1,
];

/** A packed integer of `value` in the 1-, 3-, 4- or 9-byte form (`form` 0..3), truncating the value. */
function packed(value: number, form: number): Buffer {
  if (form === 0) return Buffer.of(Math.min(value, 250));
  if (form === 1) return Buffer.from([0xfc, value & 0xff, (value >>> 8) & 0xff]);
  if (form === 2) return Buffer.from([0xfd, value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff]);
  const b = Buffer.alloc(9);
  b[0] = 0xfe;
  b.writeBigUInt64LE(BigInt(Math.min(value, 2 ** 64 - 1)) & 0xffffffffffffffffn, 1);
  return b;
}

/** Truncation points by class: inside the header, at the body start, at and around each field, before the CRC. */
function truncationPoint(rng: Rng, b: Buffer, fields: IntField[], bodyStart: number): number {
  const len = b.length;
  const classes = [
    () => rng.int(Math.min(len, EVENT_HEADER_LENGTH)),
    () => bodyStart,
    () => {
      const f = fields.length > 0 ? rng.pick(fields) : undefined;
      return f ? f.offset + rng.pick([0, 1, Math.max(1, f.width) - 1, Math.max(1, f.width)]) : rng.int(len);
    },
    () => len - rng.range(1, 5),
    () => rng.int(len),
  ];
  return Math.max(0, Math.min(len, rng.pick(classes)()));
}

function truncate(rng: Rng, b: Buffer, fields: IntField[]): Buffer {
  const cut = truncationPoint(rng, b, fields, EVENT_HEADER_LENGTH);
  const out = Buffer.from(b.subarray(0, cut));
  // Mostly keep event_size consistent, so the body decoders see the short body.
  return rng.chance(0.8) ? sized(out) : out;
}

function insert(rng: Rng, b: Buffer): Buffer {
  const at = rng.range(Math.min(EVENT_HEADER_LENGTH, b.length), b.length);
  return sized(Buffer.concat([b.subarray(0, at), rng.bytes(rng.range(1, 8)), b.subarray(at)]));
}

function remove(rng: Rng, b: Buffer): Buffer {
  if (b.length <= EVENT_HEADER_LENGTH) return b;
  const at = rng.range(EVENT_HEADER_LENGTH, b.length - 1);
  return sized(Buffer.concat([b.subarray(0, at), b.subarray(at + rng.range(1, 8))]));
}

/** The head of this event and the tail of another: a body that starts as one type and ends as another. */
function splice(rng: Rng, b: Buffer, o: Buffer): Buffer {
  const cut = rng.range(Math.min(EVENT_HEADER_LENGTH, b.length), b.length);
  const from = rng.range(Math.min(EVENT_HEADER_LENGTH, o.length), o.length);
  return sized(Buffer.concat([b.subarray(0, cut), o.subarray(from)]));
}
