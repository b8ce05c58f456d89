/**
 * Differential test on live binlogs (issue #3): a workload on the devcluster's MariaDB primary (see
 * binlog-workload.ts) is decoded by us and by `mariadb-binlog -vv`, on the primary's binlog files and on
 * the replica's (which re-logs everything in ROW format), and the two must agree event by event: type,
 * position, end_log_pos, server id, GTID, statement/annotation text, table map, rows per statement and
 * every printed column value. Then the replica's binlog is read again through a live COM_BINLOG_DUMP,
 * from its first file at position 4, and every event must equal the file's bytes — which carries the
 * two >16 MB events through mysql2's packet reassembly and our stream handling end to end.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BinlogDecoder } from '../../src/binlog/decoder.js';
import { binlogCommand } from '../../src/commands/binlog.js';
import { readBinlogEvents } from '../../src/commands/binlog-input.js';
import { clusterControl, type ServerRole } from '../../src/devcluster/index.js';
import type { ReplicationSource } from '../../src/replication/client.js';
import { parseMariadbBinlogDump } from '../unit/binlog/mariadb-binlog-dump.js';
import { compareWithDump, type Compared, type DecodedEvent } from './binlog-diff-compare.js';
import { dumpUntilEndOf } from './binlog-stream.js';
import { BIG_BYTES, raiseMaxAllowedPacket, runWorkload, type ExpectedKeys } from './binlog-workload.js';

const info = inject('cluster');
const cluster = clusterControl(info);
/** From mariadb-client (10.11 here; .ci/run installs it); found on PATH. */
const MARIADB_BINLOG = 'mariadb-binlog';
/** One MySQL protocol packet carries at most this many bytes; bigger events arrive split. */
const MAX_PACKET_PAYLOAD = 0xffffff;

interface BinlogFile {
  name: string;
  path: string;
  size: number;
}

interface ServerBinlogs {
  files: BinlogFile[];
  /** Decoded through the CLI's streaming reader, with the raw bytes of each event. */
  events: Map<string, (DecodedEvent & { bytes: Buffer })[]>;
}

const binlogs: Partial<Record<ServerRole, ServerBinlogs>> = {};
let expectedKeys: ExpectedKeys = [];
let restorePacket: (() => Promise<void>) | undefined;
let restoreCompress: (() => Promise<void>) | undefined;

async function currentFile(server: ServerRole): Promise<string> {
  const [row] = await cluster.query<RowDataPacket[]>(server, 'SHOW MASTER STATUS');
  return String(row?.File);
}

/** The binlog files from `first` up to (not including) the one the server writes now. */
async function closedFilesFrom(server: ServerRole, first: string): Promise<BinlogFile[]> {
  const [dir] = await cluster.query<RowDataPacket[]>(server, 'SELECT @@datadir AS d');
  const logs = await cluster.query<RowDataPacket[]>(server, 'SHOW BINARY LOGS');
  const names = logs.map((r) => ({ name: String(r.Log_name), size: Number(r.File_size) }));
  const from = names.findIndex((f) => f.name === first);
  return names.slice(from, -1).map((f) => ({ ...f, path: path.join(String(dir?.d), f.name) }));
}

async function decodeFile(file: BinlogFile): Promise<(DecodedEvent & { bytes: Buffer })[]> {
  const decoder = new BinlogDecoder({ file: file.name });
  const out: (DecodedEvent & { bytes: Buffer })[] = [];
  for await (const { position, bytes } of readBinlogEvents(
    file.path,
    { name: file.name },
    Readable.from([]),
  )) {
    out.push({ position, bytes, event: decoder.decode(bytes, position) });
  }
  return out;
}

async function mariadbBinlog(file: string): Promise<string> {
  const { stdout } = await promisify(execFile)(MARIADB_BINLOG, ['-vv', '--base64-output=decode-rows', file], {
    encoding: 'buffer',
    maxBuffer: 512 * 1024 * 1024,
  });
  // Bytes as they are (row values are printed raw): one char per byte.
  return stdout.toString('latin1');
}

beforeAll(async () => {
  const [compress] = await cluster.query<RowDataPacket[]>('primary', 'SELECT @@GLOBAL.log_bin_compress AS v');
  const oldCompress = Number(compress?.v);
  restoreCompress = async () => {
    await cluster.query('primary', `SET GLOBAL log_bin_compress = ${oldCompress}`);
  };
  // Start both servers on fresh files so the workload's files hold nothing else.
  const first: Partial<Record<ServerRole, string>> = {};
  for (const server of ['primary', 'replica'] as const) {
    await cluster.query(server, 'FLUSH BINARY LOGS');
    first[server] = await currentFile(server);
  }
  restorePacket = await raiseMaxAllowedPacket(cluster);
  expectedKeys = await runWorkload(cluster, async () => {
    // Two files per server: the CLI reads several, and the live dump crosses a ROTATE.
    await cluster.waitForReplicaCatchUp();
    for (const server of ['primary', 'replica'] as const) await cluster.query(server, 'FLUSH BINARY LOGS');
  });
  await cluster.waitForReplicaCatchUp();
  for (const server of ['primary', 'replica'] as const) {
    await cluster.query(server, 'FLUSH BINARY LOGS');
    const files = await closedFilesFrom(server, first[server] ?? '');
    const events = new Map<string, (DecodedEvent & { bytes: Buffer })[]>();
    for (const f of files) events.set(f.name, await decodeFile(f));
    binlogs[server] = { files, events };
  }
}, 120_000);

afterAll(async () => {
  await restorePacket?.();
  await restoreCompress?.();
  // The workload's STATEMENT-format writes sit in the replica's current relay log, where the tailer's
  // preflight (rightly) reads them as "annotations are being lost". Rotate it so suites after this one
  // start from a clean relay log, as an operator would after switching the primary to ROW.
  await cluster.query('replica', 'FLUSH RELAY LOGS');
});

function sum(a: Compared, b: Compared): Compared {
  const types = { ...a.types };
  for (const [k, v] of Object.entries(b.types)) types[k] = (types[k] ?? 0) + v;
  return {
    events: a.events + b.events,
    gtids: a.gtids + b.gtids,
    queries: a.queries + b.queries,
    annotations: a.annotations + b.annotations,
    tableMaps: a.tableMaps + b.tableMaps,
    rowsEvents: a.rowsEvents + b.rowsEvents,
    statements: a.statements + b.statements,
    rows: a.rows + b.rows,
    columnCounts: a.columnCounts + b.columnCounts,
    values: a.values + b.values,
    types,
  };
}

async function differential(server: ServerRole): Promise<{ mismatches: string[]; compared: Compared }> {
  const b = binlogs[server];
  if (!b) throw new Error(`no binlogs of the ${server}`);
  let compared: Compared | undefined;
  const mismatches: string[] = [];
  for (const f of b.files) {
    const dumpText = await mariadbBinlog(f.path);
    const r = compareWithDump(
      `${server}:${f.name}`,
      b.events.get(f.name) ?? [],
      parseMariadbBinlogDump(dumpText),
    );
    mismatches.push(...r.mismatches);
    compared = compared ? sum(compared, r.compared) : r.compared;
  }
  if (!compared) throw new Error(`no binlog files of the ${server}`);
  return { mismatches, compared };
}

describe('binlog differential: our decoder vs mariadb-binlog -vv on live binlogs', () => {
  it("agree on every event of the primary's binlog", async () => {
    const { mismatches, compared } = await differential('primary');
    expect(mismatches).toEqual([]);
    expect(binlogs.primary?.files.length).toBe(2);
    expect(compared).toEqual({
      events: 129,
      gtids: 26,
      queries: 15,
      annotations: 17,
      tableMaps: 17,
      rowsEvents: 21,
      statements: 17,
      rows: 732,
      columnCounts: 732,
      values: 2122,
      types: {
        FORMAT_DESCRIPTION: 2,
        MARIA_GTID_LIST: 2,
        MARIA_BINLOG_CHECKPOINT: 4,
        MARIA_GTID: 26,
        QUERY: 14,
        MARIA_QUERY_COMPRESSED: 1,
        MARIA_ANNOTATE_ROWS: 17,
        TABLE_MAP: 17,
        WRITE_ROWS_V1: 14,
        UPDATE_ROWS_V1: 2,
        DELETE_ROWS_V1: 2,
        MARIA_WRITE_ROWS_COMPRESSED_V1: 1,
        MARIA_UPDATE_ROWS_COMPRESSED_V1: 1,
        MARIA_DELETE_ROWS_COMPRESSED_V1: 1,
        XID: 18,
        INTVAR: 1,
        USER_VAR: 3,
        RAND: 1,
        ROTATE: 2,
      },
    });
  });

  it("agree on every event of the replica's binlog (re-logged in ROW format)", async () => {
    const { mismatches, compared } = await differential('replica');
    expect(mismatches).toEqual([]);
    expect(binlogs.replica?.files.length).toBe(2);
    expect(compared).toEqual({
      events: 130,
      gtids: 26,
      queries: 8,
      annotations: 17,
      tableMaps: 23,
      rowsEvents: 27,
      statements: 23,
      rows: 738,
      columnCounts: 738,
      values: 2174,
      types: {
        FORMAT_DESCRIPTION: 2,
        MARIA_GTID_LIST: 2,
        MARIA_BINLOG_CHECKPOINT: 4,
        MARIA_GTID: 26,
        QUERY: 8,
        MARIA_ANNOTATE_ROWS: 17,
        TABLE_MAP: 23,
        WRITE_ROWS_V1: 20,
        UPDATE_ROWS_V1: 4,
        DELETE_ROWS_V1: 3,
        XID: 19,
        ROTATE: 2,
      },
    });
  });

  it('holds events over 16 MB on both servers', () => {
    for (const server of ['primary', 'replica'] as const) {
      const big = [...(binlogs[server]?.events.values() ?? [])]
        .flat()
        .filter((e) => e.bytes.length > MAX_PACKET_PAYLOAD);
      expect(big.map((e) => e.event.kind)).toEqual(
        server === 'primary' ? ['write_rows', 'query'] : ['write_rows', 'write_rows'],
      );
      for (const e of big) expect(e.bytes.length).toBeGreaterThan(BIG_BYTES);
    }
  });
});

describe('binlog differential: the live replication stream', () => {
  it("sends the replica's binlog byte for byte as the files hold it, >16 MB events included", async () => {
    const b = binlogs.replica;
    const first = b?.files[0];
    const last = b?.files.at(-1);
    if (!b || !first || !last) throw new Error('no replica binlog files');
    const source: ReplicationSource = {
      host: info.replica.host,
      port: info.replica.port,
      user: info.tailerUser.user,
      password: info.tailerUser.password,
      serverId: 7_950,
      connectTimeoutMs: 5_000,
      heartbeatMs: 0,
    };
    const streamed = await dumpUntilEndOf(
      source,
      { file: first.name, position: 4 },
      { file: last.name, size: last.size },
      40_000,
    );
    const fromFiles = new Map<string, Buffer>();
    for (const [file, events] of b.events)
      for (const e of events) fromFiles.set(`${file}:${e.position}`, e.bytes);

    const mismatches: string[] = [];
    const seen = new Set<string>();
    for (const s of streamed.events) {
      const key = `${s.file}:${s.position}`;
      const want = fromFiles.get(key);
      seen.add(key);
      if (!want) mismatches.push(`${key} ${s.event.kind}: not an event in the files`);
      else if (!want.equals(s.bytes))
        mismatches.push(
          `${key} ${s.event.kind}: ${s.bytes.length} bytes differ from the file's ${want.length}`,
        );
    }
    for (const key of fromFiles.keys())
      if (!seen.has(key)) mismatches.push(`${key}: in the file, not in the stream`);
    expect(mismatches).toEqual([]);
    expect(streamed.events.length).toBe(fromFiles.size);
    // MariaDB announces each file with a fake ROTATE (log_pos 0), the first one and the one after the
    // real ROTATE at the end of the first file.
    expect(streamed.artificial.map((e) => e.kind)).toEqual(['rotate', 'rotate']);
    expect([...new Set(streamed.events.map((e) => e.file))]).toEqual(b.files.map((f) => f.name));
    const big = streamed.events.filter((e) => e.bytes.length > MAX_PACKET_PAYLOAD);
    expect(big.map((e) => [e.event.kind, e.bytes.length > BIG_BYTES])).toEqual([
      ['write_rows', true],
      ['write_rows', true],
    ]);
  });
});

describe('binlog differential: cachetail binlog on the live files', () => {
  async function keysOnly(server: ServerRole): Promise<{ code: number; keys: string[][]; stderr: string }> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on('data', (c: Buffer) => out.push(c));
    stderr.on('data', (c: Buffer) => err.push(c));
    const files = binlogs[server]?.files.map((f) => f.path) ?? [];
    const code = await binlogCommand(['--keys-only', '--json', ...files], {
      stdout,
      stderr,
      stdin: Readable.from([]),
    });
    const lines = Buffer.concat(out).toString('utf8').trim().split('\n');
    const txns = lines
      .map((l) => JSON.parse(l) as { type: string; keys: string[] })
      .filter((o) => o.type === 'transaction');
    return { code, keys: txns.map((t) => t.keys), stderr: Buffer.concat(err).toString() };
  }

  it('finds the keys of every annotated transaction in the primary binlog, in commit order', async () => {
    const r = await keysOnly('primary');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.keys).toEqual(expectedKeys);
  });

  it('finds them in the replica binlog except where statement format lost the comment (DESIGN §2)', async () => {
    const r = await keysOnly('replica');
    expect(r.code).toBe(0);
    // Statement-format DML is re-logged as rows without an Annotate_rows event; DDL stays a statement.
    const lost = new Set(['stmt:1', 'stmt:2', 'c:2', 'big:2']);
    expect(r.keys).toEqual(expectedKeys.filter((k) => !k.some((key) => lost.has(key))));
  });

  it('--verify-only checks every CRC32 of both servers', async () => {
    const files = ['primary', 'replica'].flatMap(
      (s) => binlogs[s as ServerRole]?.files.map((f) => f.path) ?? [],
    );
    const stdout = new PassThrough();
    const lines: string[] = [];
    stdout.on('data', (c: Buffer) => lines.push(...c.toString().trim().split('\n')));
    const code = await binlogCommand(['--verify-only', ...files], {
      stdout,
      stderr: new PassThrough(),
      stdin: Readable.from([]),
    });
    expect(code).toBe(0);
    expect(lines).toHaveLength(files.length);
    for (const l of lines) expect(l).toMatch(/: OK events \d+ checksum crc32 end_position \d+$/);
  });
});
