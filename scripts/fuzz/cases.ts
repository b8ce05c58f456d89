/**
 * Case generation: case `index` of run `seed` is a pure function of (corpus, seed, index), so a failure
 * is replayed from two numbers. 90 % of cases mutate one event decoded through a fresh decoder that first
 * read the event's context; 10 % mutate a window of consecutive events read as a file, so stateful paths
 * (FDE changes, ROTATE, table maps, transaction assembly across events) are exercised too.
 */
import { EVENT_HEADER_LENGTH, EventType } from '../../src/binlog/constants.js';
import { eventCrc32, storedCrc32 } from '../../src/binlog/checksum.js';
import type { Corpus } from './corpus.js';
import { mutateEvent, mutateStream } from './mutate.js';
import { Rng } from './rng.js';

export interface FuzzCase {
  seed: number;
  index: number;
  kind: 'event' | 'stream';
  /** Seed event (or stream window) it was made from. */
  source: string;
  /** Type code of the seed event (the mutated one may differ); -1 for streams. */
  typeCode: number;
  /** Unmutated context events decoded first (event cases only). */
  prelude: Buffer[];
  bytes: Buffer;
  ops: string[];
  crcFixed: boolean;
}

const MAGIC = Buffer.from([0xfe, 0x62, 0x69, 0x6e]);

export function makeCase(corpus: Corpus, seed: number, index: number): FuzzCase {
  const rng = new Rng(seed, index);
  const other = (): Buffer => rng.pick(corpus.seeds).event;
  if (corpus.streams.length > 0 && rng.chance(0.1)) {
    const s = rng.pick(corpus.streams);
    const { window, starts, crc, from } = streamWindow(rng, s.bytes, s.starts);
    const m = mutateStream(rng, window, starts, crc);
    return { seed, index, kind: 'stream', source: `${s.name}@${from}`, typeCode: -1, prelude: [], ...m };
  }
  const group = rng.pick(corpus.groups);
  const s = rng.pick(group);
  const m = mutateEvent(rng, s, other);
  return { seed, index, kind: 'event', source: s.name, typeCode: s.typeCode, prelude: s.prelude, ...m };
}

/** Magic + the governing FDE + 1–12 consecutive events, re-based to start at offset 4. */
function streamWindow(
  rng: Rng,
  bytes: Buffer,
  starts: number[],
): { window: Buffer; starts: number[]; crc: boolean; from: number } {
  if (starts.length === 0) return { window: Buffer.from(bytes), starts: [], crc: false, from: 0 };
  const i = rng.int(starts.length);
  const k = rng.range(1, 12);
  const size = (at: number): number => bytes.readUInt32LE(at + 9);
  const parts: Buffer[] = [MAGIC];
  for (let j = i - 1; j >= 0; j--) {
    if (bytes[starts[j] + 4] === EventType.FORMAT_DESCRIPTION) {
      parts.push(bytes.subarray(starts[j], starts[j] + size(starts[j])));
      break;
    }
  }
  for (let j = i; j < Math.min(starts.length, i + k); j++) {
    parts.push(bytes.subarray(starts[j], starts[j] + size(starts[j])));
  }
  const window = Buffer.concat(parts);
  const windowStarts: number[] = [];
  let pos = 4;
  for (const p of parts.slice(1)) {
    windowStarts.push(pos);
    pos += p.length;
  }
  const target = parts[parts.length - 1];
  const crc =
    target.length >= EVENT_HEADER_LENGTH + 4 &&
    eventCrc32(target, target[4] === EventType.FORMAT_DESCRIPTION) === storedCrc32(target);
  return { window, starts: windowStarts, crc, from: starts[i] };
}
