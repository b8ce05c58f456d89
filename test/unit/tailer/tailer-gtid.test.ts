/**
 * The tailer's GTID state through the real Tailer loop, on built events and a fake connection. A MySQL
 * GTID set is a resume point only when complete (the server resends everything not in it), so it stays
 * null until a complete base is known — @@gtid_executed, a checkpoint, a configured set or a file's
 * PREVIOUS_GTIDS — and then grows per transaction (tagged GTIDs included). MariaDB is unchanged: its
 * position is complete from the first GTID.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildFormatDescription,
  buildMariadbGtid,
  buildQuery,
  buildRotate,
  buildXid,
  setNextPosition,
  type EventOptions,
  buildMysqlGtid,
  buildMysqlGtidTagged,
  buildPreviousGtids,
} from '../../helpers/binlog/index.js';
import { EventFlag } from '../../../src/binlog/constants.js';
import { MYSQL_8_0_POST_HEADER_LENGTHS } from '../../../src/binlog/events/context.js';
import { parseMysqlGtidSet } from '../../../src/binlog/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import type {
  BinlogStreamHandlers,
  Flavor,
  ReplicationConnection,
  StartPosition,
} from '../../../src/replication/client.js';
import type { Sink } from '../../../src/sinks/sink.js';
import { CheckpointStore, type Checkpoint } from '../../../src/tailer/checkpoint.js';
import { Tailer, type TailerOptions } from '../../../src/tailer/tailer.js';
import { waitFor } from '../../helpers/wait.js';

const SRC = '3e11fa47-71ca-11e1-9e33-c80aa9429562'; // the primary that wrote the transactions
const REPLICA_UUID = '00000000-0000-0000-0000-0000000000aa';

/** One dump on a fake connection: what it was asked to start from, and a way to feed it events. */
class FakeConnection {
  readonly dumps: StartPosition[] = [];
  private handlers: BinlogStreamHandlers | null = null;

  constructor(
    readonly flavor: Flavor,
    readonly serverVersion: string,
    private readonly end: { gtid: string; file: string; position: number },
  ) {}

  query(sql: string): Promise<unknown[]> {
    if (sql.startsWith('SELECT @@server_id')) return Promise.resolve([{ id: 2, uuid: REPLICA_UUID }]);
    if (sql.startsWith('SELECT @@global.gtid')) return Promise.resolve([{ g: this.end.gtid }]);
    if (sql.startsWith('SHOW')) {
      return Promise.resolve([{ File: this.end.file, Position: this.end.position }]);
    }
    return Promise.reject(new Error(`unexpected statement ${sql}`));
  }

  startDump(_source: unknown, start: StartPosition, handlers: BinlogStreamHandlers): Promise<void> {
    this.dumps.push(start);
    this.handlers = handlers;
    return Promise.resolve();
  }

  send(events: Buffer[]): void {
    for (const e of events) this.handlers!.onEvent(e);
  }

  /** The link drops: the tailer reconnects. */
  drop(): void {
    this.handlers!.onEnd(new Error('read ECONNRESET'));
  }

  pause(): void {}
  resume(): void {}
  close(): void {}
}

/** Events of one binlog file as the server streams them, each with log_pos = its end. */
class FileStream {
  constructor(
    readonly file: string,
    private pos: number,
  ) {}

  at(build: (o: EventOptions) => Buffer): Buffer {
    const b = build({ timestamp: 1_700_000_000, checksum: 'crc32' });
    setNextPosition(b, this.pos + b.length, 'crc32');
    this.pos += b.length;
    return b;
  }

  get position(): number {
    return this.pos;
  }

  /** What a dump sends first: the fake ROTATE (log_pos 0, artificial), then the file's FDE. */
  opening(flavor: Flavor): Buffer[] {
    const rotate = buildRotate(
      { position: this.pos, nextFile: this.file },
      { flags: EventFlag.ARTIFICIAL, checksum: 'crc32' },
    );
    const fde = buildFormatDescription(
      flavor === 'mysql'
        ? { serverVersion: '9.7.0', postHeaderLengths: MYSQL_8_0_POST_HEADER_LENGTHS, checksum: 'crc32' }
        : { serverVersion: '10.11.19-MariaDB-log', checksum: 'crc32' },
      { timestamp: 1_700_000_000 },
    );
    return [rotate, fde];
  }

  /** A MySQL transaction: GTID (GTID_TAGGED when tagged), BEGIN, XID. */
  mysqlTxn(gno: number, tag?: string): Buffer[] {
    return [
      this.at((o) =>
        tag === undefined
          ? buildMysqlGtid({ sid: SRC, gno: BigInt(gno) }, o)
          : buildMysqlGtidTagged({ sid: SRC, tag, gno: BigInt(gno) }, o),
      ),
      this.at((o) => buildQuery({ sql: 'BEGIN' }, o)),
      this.at((o) => buildXid({ xid: BigInt(gno) }, o)),
    ];
  }

  mariadbTxn(seqNo: number): Buffer[] {
    return [
      this.at((o) => buildMariadbGtid({ domainId: 0, seqNo: BigInt(seqNo), flags2: 0 }, o)),
      this.at((o) => buildXid({ xid: BigInt(seqNo) }, o)),
    ];
  }
}

const tailers: Tailer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const t of tailers.splice(0)) await t.stop(1_000).catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function makeTailer(
  conns: FakeConnection[],
  start: TailerOptions['start'],
  checkpoints?: CheckpointStore,
): { tailer: Tailer; connected: () => FakeConnection } {
  let next = 0;
  const sink: Sink = { name: 'null', deliver: () => Promise.resolve(), close: () => Promise.resolve() };
  const tailer = new Tailer({
    source: {
      host: 'replica',
      port: 3306,
      user: 'u',
      password: '',
      serverId: 9,
      connectTimeoutMs: 1_000,
      heartbeatMs: 0,
    },
    start,
    sink,
    extract: () => ({ keys: [] }),
    log: createLogger('silent'),
    connect: () => Promise.resolve(conns[next++] as unknown as ReplicationConnection),
    checkpoints,
    checkpointIntervalMs: 10_000,
    maxBatchKeys: 100,
    maxPendingTransactions: 100,
    reconnect: { initialMs: 1, maxMs: 1 },
  });
  tailers.push(tailer);
  return { tailer, connected: () => conns[next - 1] };
}

const acked = (tailer: Tailer, file: string, position: number): Promise<true> =>
  waitFor(`acknowledged ${file}:${position}`, () =>
    tailer.acknowledged?.file === file && tailer.acknowledged.nextPosition === position ? true : undefined,
  );

const gtidOf = (tailer: Tailer): string | null => tailer.readPosition?.gtid?.toString() ?? null;

async function reconnectStart(conn: FakeConnection, next: FakeConnection): Promise<StartPosition> {
  conn.drop();
  return waitFor('the reconnect dump', () => next.dumps[0]);
}

describe('MySQL GTID state in the tailer', () => {
  it('a file/position start keeps no set (it would be partial) until PREVIOUS_GTIDS of the next file makes it complete', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-gtid-'));
    dirs.push(dir);
    const store = new CheckpointStore(dir);
    const end = { gtid: '', file: 'x', position: 4 };
    const conns = [
      new FakeConnection('mysql', '9.7.0', end),
      new FakeConnection('mysql', '9.7.0', end),
      // What the replica has executed when the tailer resumes by GTID (the history check reads it).
      new FakeConnection('mysql', '9.7.0', { ...end, gtid: `${SRC}:1-53:tag_a:1` }),
    ];
    const { tailer } = makeTailer(conns, { kind: 'file', file: 'bin.000001', position: 1000 }, store);
    await tailer.start();
    expect(conns[0].dumps).toEqual([{ kind: 'file', file: 'bin.000001', position: 1000 }]);

    const f1 = new FileStream('bin.000001', 1000);
    conns[0].send([...f1.opening('mysql'), ...f1.mysqlTxn(51), ...f1.mysqlTxn(52)]);
    await acked(tailer, 'bin.000001', f1.position);
    // uuid:51-52 alone would make a resume by GTID resend uuid:1-50: no set at all.
    expect(gtidOf(tailer)).toBeNull();
    expect(tailer.acknowledged?.gtid).toBeNull();

    // A reconnect now resumes by file/position.
    expect(await reconnectStart(conns[0], conns[1])).toEqual({
      kind: 'file',
      file: 'bin.000001',
      position: f1.position,
    });

    // The server rotates: bin.000002 opens with PREVIOUS_GTIDS = everything before it.
    const rotate = f1.at((o) => buildRotate({ position: 4, nextFile: 'bin.000002' }, o));
    const f2 = new FileStream('bin.000002', 4);
    const fde2 = f2.at((o) =>
      buildFormatDescription(
        { serverVersion: '9.7.0', postHeaderLengths: MYSQL_8_0_POST_HEADER_LENGTHS, checksum: 'crc32' },
        o,
      ),
    );
    const prev = f2.at((o) =>
      buildPreviousGtids({ sids: [{ uuid: SRC, tag: undefined, intervals: [{ start: 1n, end: 53n }] }] }, o),
    );
    conns[1].send([rotate, fde2, prev]);
    expect(gtidOf(tailer)).toBe(`${SRC}:1-52`);
    conns[1].send([...f2.mysqlTxn(53), ...f2.mysqlTxn(1, 'Tag_A')]);
    await acked(tailer, 'bin.000002', f2.position);
    expect(gtidOf(tailer)).toBe(`${SRC}:1-53:tag_a:1`);

    // From here a reconnect resumes by GTID (COM_BINLOG_DUMP_GTID) with the complete set.
    expect(await reconnectStart(conns[1], conns[2])).toEqual({ kind: 'gtid', gtid: `${SRC}:1-53:tag_a:1` });

    await tailer.stop(1_000);
    const cp = (await store.load()) as Checkpoint;
    expect(cp.gtid).toBe(`${SRC}:1-53:tag_a:1`);
    expect(cp.file).toBe('bin.000002');
    expect(cp.position).toBe(f2.position);
    expect(cp.server).toEqual({
      flavor: 'mysql',
      serverId: 2,
      serverUuid: REPLICA_UUID,
      address: 'replica:3306',
    });
  });

  it('a start at the current end takes gtid_executed as the base and grows it per transaction, tagged ones too', async () => {
    const end = { gtid: `${SRC}:1-50`, file: 'bin.000004', position: 777 };
    const conns = [
      new FakeConnection('mysql', '9.7.0', end),
      new FakeConnection('mysql', '9.7.0', { ...end, gtid: `${SRC}:1-52:blue:7` }),
    ];
    const { tailer } = makeTailer(conns, { kind: 'current' });
    await tailer.start();
    expect(conns[0].dumps).toEqual([{ kind: 'file', file: 'bin.000004', position: 777 }]);
    expect(gtidOf(tailer)).toBe(`${SRC}:1-50`);

    const f = new FileStream('bin.000004', 777);
    conns[0].send([...f.opening('mysql'), ...f.mysqlTxn(51), ...f.mysqlTxn(7, 'blue'), ...f.mysqlTxn(52)]);
    await acked(tailer, 'bin.000004', f.position);
    expect(gtidOf(tailer)).toBe(`${SRC}:1-52:blue:7`);

    const start = await reconnectStart(conns[0], conns[1]);
    expect(start).toEqual({ kind: 'gtid', gtid: `${SRC}:1-52:blue:7` });
    // The set the dump packet will carry parses back to the same set.
    expect(parseMysqlGtidSet((start as { gtid: string }).gtid)).toEqual(
      parseMysqlGtidSet(`${SRC}:blue:7,${SRC}:1-52`),
    );

    // Resumed by GTID, the server sends the first file's PREVIOUS_GTIDS (a subset): the set is unchanged.
    const g = new FileStream('bin.000004', 4);
    const fde = g.at((o) =>
      buildFormatDescription(
        { serverVersion: '9.7.0', postHeaderLengths: MYSQL_8_0_POST_HEADER_LENGTHS, checksum: 'crc32' },
        o,
      ),
    );
    const prev = g.at((o) =>
      buildPreviousGtids({ sids: [{ uuid: SRC, tag: undefined, intervals: [{ start: 1n, end: 41n }] }] }, o),
    );
    conns[1].send([fde, prev]);
    expect(gtidOf(tailer)).toBe(`${SRC}:1-52:blue:7`);
  });

  it('an empty gtid_executed is a complete (empty) base: the first transaction makes it usable', async () => {
    const end = { gtid: '', file: 'bin.000001', position: 157 };
    const conns = [
      new FakeConnection('mysql', '8.0.36', end),
      new FakeConnection('mysql', '8.0.36', { ...end, gtid: `${SRC}:1` }),
    ];
    const { tailer } = makeTailer(conns, { kind: 'current' });
    await tailer.start();
    const f = new FileStream('bin.000001', 157);
    conns[0].send([...f.opening('mysql'), ...f.mysqlTxn(1)]);
    await acked(tailer, 'bin.000001', f.position);
    expect(gtidOf(tailer)).toBe(`${SRC}:1`);
    expect(await reconnectStart(conns[0], conns[1])).toEqual({ kind: 'gtid', gtid: `${SRC}:1` });
  });

  it('a configured GTID set starts a GTID dump and is the base', async () => {
    const end = { gtid: '', file: 'x', position: 4 };
    const conns = [new FakeConnection('mysql', '9.7.0', end)];
    const { tailer } = makeTailer(conns, { kind: 'gtid', gtid: `${SRC}:1-9` });
    await tailer.start();
    expect(conns[0].dumps).toEqual([{ kind: 'gtid', gtid: `${SRC}:1-9` }]);
    const f = new FileStream('bin.000002', 4);
    conns[0].send([...f.opening('mysql'), ...f.mysqlTxn(10)]);
    await acked(tailer, 'bin.000002', f.position);
    expect(gtidOf(tailer)).toBe(`${SRC}:1-10`);
  });
});

describe('MariaDB GTID state in the tailer (unchanged)', () => {
  it('a file/position start builds the position from the first GTID and resumes by it', async () => {
    const end = { gtid: '', file: 'x', position: 4 };
    const conns = [
      new FakeConnection('mariadb', '10.11.19-MariaDB-log', end),
      new FakeConnection('mariadb', '10.11.19-MariaDB-log', { ...end, gtid: '0-1-42' }),
    ];
    const { tailer } = makeTailer(conns, { kind: 'file', file: 'm-bin.000003', position: 500 });
    await tailer.start();
    const f = new FileStream('m-bin.000003', 500);
    conns[0].send([...f.opening('mariadb'), ...f.mariadbTxn(41), ...f.mariadbTxn(42)]);
    await acked(tailer, 'm-bin.000003', f.position);
    expect(gtidOf(tailer)).toBe('0-1-42');
    expect(await reconnectStart(conns[0], conns[1])).toEqual({ kind: 'gtid', gtid: '0-1-42' });
  });
});
