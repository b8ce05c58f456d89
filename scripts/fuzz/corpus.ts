/**
 * The fuzzer's seed corpus: every event of every binlog under shared/fixtures/binlog (read in place,
 * never copied into the repository) plus builder-made events of every type. Each seed carries what a
 * fresh decoder needs to reach the event's body decoder — the file's FORMAT_DESCRIPTION and, for a rows
 * event, its TABLE_MAP — and the integer fields the decoder read from it (see fields.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import {
  BinlogDecoder,
  BINLOG_MAGIC,
  EVENT_HEADER_LENGTH,
  type BinlogEvent,
} from '../../src/binlog/index.js';
import { buildTransactionPayload } from '../../test/helpers/binlog/index.js';
import { eventCrc32, storedCrc32 } from '../../src/binlog/checksum.js';
import { EventType } from '../../src/binlog/constants.js';
import { mariadbCompress, mariadbUncompress } from '../../src/binlog/events/mariadb-compression.js';
import { builderSeeds, builderStreams, deflate } from './builder-seeds.js';
import { recordIntFields, type IntField } from './fields.js';

/** Rebuilds a compressed event around new uncompressed content (sizes, framing and CRC made consistent). */
export type Rewrap = (content: Buffer, zstd: boolean) => Buffer;

export interface Seed {
  name: string;
  typeCode: number;
  prelude: Buffer[];
  event: Buffer;
  /** The event ends with a valid CRC32 (so the mutator can recompute one after mutating). */
  crc: boolean;
  fields: IntField[];
  /** Compressed events: the uncompressed content, its integer fields, and how to re-wrap it. */
  inner?: { content: Buffer; fields: IntField[]; rewrap: Rewrap };
}

export interface StreamSeed {
  name: string;
  bytes: Buffer;
  /** Start offsets of the events (after the magic), from a header walk. */
  starts: number[];
}

export interface Corpus {
  seeds: Seed[];
  /** Seeds grouped by source file and type, so 1,374 Sakila inserts do not drown a lone HEARTBEAT_V2. */
  groups: Seed[][];
  streams: StreamSeed[];
  fixtureFiles: number;
}

/** shared/fixtures/binlog next to the repository (the same place test/helpers/fixtures.ts looks). */
export const binlogFixturesDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../shared/fixtures/binlog',
);

const NOT_BINLOG = /\.(txt|txt\.gz|json|md|sql|cnf|index|result)$/;

export function loadCorpus(fixturesDir: string | undefined): Corpus {
  const seeds: Seed[] = [];
  const streams: StreamSeed[] = [];
  let fixtureFiles = 0;
  if (fixturesDir !== undefined && existsSync(fixturesDir)) {
    for (const file of listFiles(fixturesDir)) {
      const bytes = readBinlog(file);
      if (!bytes) continue;
      fixtureFiles++;
      const name = path.relative(fixturesDir, file);
      const starts = walk(bytes);
      streams.push({ name, bytes, starts });
      seeds.push(...fileSeeds(name, bytes, starts));
    }
  }
  for (const b of builderSeeds()) seeds.push(makeSeed(`builder:${b.name}`, b.prelude, own(b.event)));
  for (const s of builderStreams()) streams.push({ name: s.name, bytes: s.bytes, starts: walk(s.bytes) });
  const byGroup = new Map<string, Seed[]>();
  for (const s of seeds) {
    const key = `${s.name.replace(/@\d+$/, '')}|${s.typeCode}`;
    const list = byGroup.get(key) ?? [];
    list.push(s);
    byGroup.set(key, list);
  }
  return { seeds, groups: [...byGroup.values()], streams, fixtureFiles };
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else if (!NOT_BINLOG.test(entry.name)) out.push(full);
  }
  return out.sort();
}

function readBinlog(file: string): Buffer | undefined {
  let bytes = readFileSync(file);
  if (file.endsWith('.gz')) bytes = gunzipSync(bytes);
  return bytes.length >= 4 && bytes.subarray(0, 4).equals(BINLOG_MAGIC) ? bytes : undefined;
}

/** Event start offsets by event_size alone, up to the first impossible header. */
function walk(bytes: Buffer): number[] {
  const starts: number[] = [];
  let pos = 4;
  while (pos + EVENT_HEADER_LENGTH <= bytes.length) {
    const size = bytes.readUInt32LE(pos + 9);
    if (size < EVENT_HEADER_LENGTH || pos + size > bytes.length) break;
    starts.push(pos);
    pos += size;
  }
  return starts;
}

/** A copy in its own ArrayBuffer: field offsets are found by ArrayBuffer identity (fields.ts). */
function own(b: Buffer): Buffer {
  const copy = Buffer.alloc(b.length);
  b.copy(copy);
  return copy;
}

function fileSeeds(name: string, bytes: Buffer, starts: number[]): Seed[] {
  const seeds: Seed[] = [];
  const decoder = new BinlogDecoder({ file: 'fixture' });
  let fde: Buffer | undefined;
  const tableMaps = new Map<number, Buffer>();
  for (const start of starts) {
    const event = own(bytes.subarray(start, start + bytes.readUInt32LE(start + 9)));
    const type = event[4];
    let decoded: BinlogEvent | undefined;
    try {
      decoded = decoder.decode(event, start);
    } catch {
      // Corrupt fixtures: the bytes are still a good seed.
    }
    const prelude: Buffer[] = [];
    if (fde && type !== EventType.FORMAT_DESCRIPTION) prelude.push(fde);
    if (decoded && 'tableId' in decoded && decoded.kind !== 'table_map') {
      const map = tableMaps.get(decoded.tableId);
      if (map) prelude.push(map);
    }
    seeds.push(makeSeed(`${name}@${start}`, prelude, event));
    if (type === EventType.FORMAT_DESCRIPTION) {
      fde = event;
      tableMaps.clear();
    }
    if (decoded?.kind === 'table_map') tableMaps.set(decoded.tableId, event);
  }
  return seeds;
}

function makeSeed(name: string, prelude: Buffer[], event: Buffer): Seed {
  const typeCode = event[4];
  const isFde = typeCode === EventType.FORMAT_DESCRIPTION;
  const crc = event.length >= EVENT_HEADER_LENGTH + 4 && eventCrc32(event, isFde) === storedCrc32(event);
  const decoder = new BinlogDecoder({ file: 'seed' });
  for (const p of prelude) decoder.decode(p);
  let decoded: BinlogEvent | undefined;
  const fields = recordIntFields(event, () => {
    decoded = decoder.decode(event);
  });
  const seed: Seed = { name, typeCode, prelude, event, crc, fields };
  if (decoded) seed.inner = innerOf(decoded, event, crc, prelude);
  return seed;
}

/** For compressed events: the content and a way to rebuild the event around a mutated copy of it. */
function innerOf(ev: BinlogEvent, event: Buffer, crc: boolean, prelude: Buffer[]): Seed['inner'] {
  const checksum = crc ? 'crc32' : 'none';
  const opts = { checksum, serverId: ev.header.serverId, timestamp: ev.header.timestamp } as const;
  if (ev.kind === 'transaction_payload') {
    const content = own(ev.payload);
    const decoder = new BinlogDecoder({ file: 'seed' });
    for (const p of prelude) decoder.decode(p);
    const payload = { ...ev, payload: content };
    const fields = recordIntFields(content, () => {
      for (const inner of decoder.payloadEvents(payload)) void inner;
    });
    const rewrap: Rewrap = (c, zstd) =>
      buildTransactionPayload({ events: [c], compression: zstd ? 'zstd' : 'none' }, opts);
    return { content, fields, rewrap };
  }
  let content: Buffer;
  if (ev.kind === 'query' && ev.compressed) content = Buffer.from(ev.sql, 'utf8');
  else if ('rows' in ev && ev.compressed) content = own(ev.rows);
  else return undefined;
  const end = event.length - (crc ? 4 : 0);
  // The compressed part runs to the end of the body; find where it starts.
  for (let at = EVENT_HEADER_LENGTH; at < end; at++) {
    if ((event[at] & 0x80) === 0) continue;
    let inflated: Buffer;
    try {
      inflated = mariadbUncompress(event.subarray(at, end));
    } catch {
      continue;
    }
    if (!inflated.equals(content)) continue;
    const head = event.subarray(0, at);
    const rewrap: Rewrap = (c) => {
      const body = Buffer.concat([head, mariadbCompress(c, deflate), Buffer.alloc(crc ? 4 : 0)]);
      body.writeUInt32LE(body.length, 9);
      if (crc) body.writeUInt32LE(eventCrc32(body, false), body.length - 4);
      return body;
    };
    return { content, fields: [], rewrap };
  }
  return undefined;
}
