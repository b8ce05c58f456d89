import { writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BinlogFileBuilder,
  buildMariadbGtid,
  buildMariadbGtidList,
  buildQuery,
  buildRotate,
  buildXid,
} from '../../helpers/binlog/index.js';
import { inRange, parseBound, type ReplayRange } from '../../../src/commands/replay-range.js';
import { replayCommand } from '../../../src/commands/replay.js';
import { removeTempFiles, tempPath, TS } from './binlog-helpers.js';

afterAll(removeTempFiles);

interface Txn {
  gtid: string;
  start: number;
  time: number;
  keys: string[];
}

/**
 * Two files of one server. mysql-bin.000001: 0-1-10 (a:1 a:2), 0-1-11 (b:1), 0-1-12 (no key),
 * 1-1-5 (c:1, domain 1); mysql-bin.000002: 0-1-13 (d:1). Commit times TS, TS+10, … 10 s apart.
 */
function writeBinlogs(): { files: string[]; txns: Txn[]; ends: number[] } {
  const txns: Txn[] = [];
  const add = (b: BinlogFileBuilder, domainId: number, seqNo: bigint, keys: string[]): void => {
    const time = TS + 10 * txns.length;
    const o = { timestamp: time };
    txns.push({ gtid: `${domainId}-1-${seqNo}`, start: b.nextPosition, time, keys });
    b.add((e) => buildMariadbGtid({ seqNo, domainId }, e), o);
    b.add((e) => buildQuery({ db: 'app', sql: 'BEGIN' }, e), o);
    const note = keys.length > 0 ? ` /* MEMCACHE_DIRTY ${keys.join(',')} */` : '';
    b.add((e) => buildQuery({ db: 'app', sql: `UPDATE t SET v = ${txns.length}${note}` }, e), o);
    b.add((e) => buildXid({ xid: BigInt(txns.length) }, e), o);
  };
  const opts = { serverId: 1, timestamp: TS, serverVersion: '10.11.19-MariaDB-log' };
  const one = new BinlogFileBuilder(opts);
  one.add((e) => buildMariadbGtidList({ gtids: [{ domainId: 0, serverId: 1, seqNo: 9n }] }, e));
  add(one, 0, 10n, ['a:1', 'a:2']);
  add(one, 0, 11n, ['b:1']);
  add(one, 0, 12n, []);
  add(one, 1, 5n, ['c:1']);
  one.add((e) => buildRotate({ nextFile: 'mysql-bin.000002' }, e));
  const two = new BinlogFileBuilder(opts);
  two.add((e) => buildMariadbGtidList({ gtids: [{ domainId: 0, serverId: 1, seqNo: 12n }] }, e));
  add(two, 0, 13n, ['d:1']);
  const dir = tempPath('x').replace(/x$/, '');
  const files = [`${dir}mysql-bin.000001`, `${dir}mysql-bin.000002`];
  writeFileSync(files[0], one.toBuffer());
  writeFileSync(files[1], two.toBuffer());
  return { files, txns, ends: [one.nextPosition, two.nextPosition] };
}

const { files, txns, ends } = writeBinlogs();
const iso = (s: number): string => new Date(s * 1000).toISOString();

async function replay(
  args: string[],
  tty = false,
): Promise<{ code: number; lines: string[]; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY: tty });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await replayCommand(args, { stdout, stderr, env: {} });
  const text = Buffer.concat(out).toString('utf8');
  return {
    code,
    lines: text === '' ? [] : text.replace(/\n$/, '').split('\n'),
    stderr: Buffer.concat(err).toString(),
  };
}

/** The key lines a dry run prints (comments and summary dropped). */
async function keysOf(from: string, to?: string): Promise<string[]> {
  const r = await replay([
    '--dry-run',
    '--from',
    from,
    ...(to ? ['--to', to] : []),
    ...files.flatMap((f) => ['--file', f]),
  ]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.lines.filter((l) => !l.startsWith('#'));
}

describe('cachetail replay: which transactions a range holds', () => {
  it('GTID: inclusive at both ends, per domain; a domain a bound does not name is not limited by it', async () => {
    expect(await keysOf('0-1-11', '0-1-12')).toEqual(['b:1', 'c:1']);
    expect(await keysOf('0-1-10', '0-1-10')).toEqual(['a:1', 'a:2', 'c:1']);
    expect(await keysOf('0-1-11,1-1-6')).toEqual(['b:1', 'd:1']);
    expect(await keysOf('0-1-13')).toEqual(['c:1', 'd:1']);
    expect(await keysOf('0-1-10,1-1-1', '0-1-10,1-1-4')).toEqual(['a:1', 'a:2']);
  });

  it('file:position: half-open, from a transaction start (included) to one (excluded), across files', async () => {
    const [, b, , c, d] = txns;
    expect(await keysOf(`mysql-bin.000001:${b.start}`, `mysql-bin.000001:${c.start}`)).toEqual(['b:1']);
    expect(await keysOf(`mysql-bin.000001:${c.start}`, `mysql-bin.000002:${d.start}`)).toEqual(['c:1']);
    expect(await keysOf(`mysql-bin.000001:${c.start}`, `mysql-bin.000002:${d.start + 1}`)).toEqual([
      'c:1',
      'd:1',
    ]);
    expect(await keysOf(`mysql-bin.000002:4`)).toEqual(['d:1']);
    // A --to past the end of its file ends the range at the end of that file.
    expect(await keysOf(`mysql-bin.000001:${b.start}`, 'mysql-bin.000001:999999')).toEqual(['b:1', 'c:1']);
  });

  it('time: inclusive at both ends at one-second precision; --from rounds down to its second', async () => {
    const t = txns.map((x) => x.time);
    expect(await keysOf(iso(t[1]), iso(t[3]))).toEqual(['b:1', 'c:1']);
    expect(await keysOf(`${iso(t[1]).slice(0, -5)}.900Z`, iso(t[1]))).toEqual(['b:1']);
    expect(await keysOf(iso(t[1] + 1), `${iso(t[3]).slice(0, -5)}.999Z`)).toEqual(['c:1']);
    // No offset: UTC. An offset moves the instant.
    expect(await keysOf(iso(t[4]).replace(/\.000Z$/, ''))).toEqual(['d:1']);
    expect(await keysOf(iso(t[4] + 3600).replace(/\.000Z$/, '+01:00'))).toEqual(['d:1']);
  });

  it('mixes kinds: a GTID --from and a time --to', async () => {
    expect(await keysOf('0-1-11', iso(txns[3].time - 1))).toEqual(['b:1']);
  });

  it('MySQL GTID sets: per uuid, from the lowest number --from names to the highest --to names', () => {
    const u = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
    const v = '4e11fa47-71ca-11e1-9e33-c80aa9429562';
    const range: ReplayRange = {
      from: parseBound(`${u}:5-7`, '--from'),
      to: parseBound(`${u}:1-9:12`, '--to'),
    };
    const t = (gtid: string | undefined) => ({ gtid, file: 'b.000001', startPosition: 4, commitTimeMs: 0 });
    expect([4n, 5n, 12n, 13n].map((n) => inRange(range, t(`${u}:${n}`)))).toEqual([false, true, true, false]);
    expect(inRange(range, t(`${v}:1`))).toBe(true);
    expect(inRange(range, t('ANONYMOUS'))).toBe(true);
    expect(inRange(range, t(undefined))).toBe(true);
    const tagged: ReplayRange = { from: parseBound(`${u}:tg:3`, '--from'), to: undefined };
    expect([
      inRange(tagged, t(`${u}:tg:2`)),
      inRange(tagged, t(`${u}:tg:3`)),
      inRange(tagged, t(`${u}:2`)),
    ]).toEqual([false, true, true]);
  });
});

describe('cachetail replay --dry-run output', () => {
  it('prints each transaction of the range with keys as a comment, its keys, and a summary', async () => {
    const [a, b, , c, d] = txns;
    const r = await replay(['--dry-run', '--from', '0-1-10', ...files.flatMap((f) => ['--file', f])]);
    expect(r.stderr).toBe('');
    expect(r.lines).toEqual([
      `# 0-1-10 mysql-bin.000001:${a.start} ${iso(a.time)}`,
      'a:1',
      'a:2',
      `# 0-1-11 mysql-bin.000001:${b.start} ${iso(b.time)}`,
      'b:1',
      `# 1-1-5 mysql-bin.000001:${c.start} ${iso(c.time)}`,
      'c:1',
      `# 0-1-13 mysql-bin.000002:${d.start} ${iso(d.time)}`,
      'd:1',
      `# summary read 5 transactions up to mysql-bin.000002:${ends[1]} in_range 5 with_keys 4 keys 5 dry_run` +
        ` first 0-1-10 mysql-bin.000001:${a.start} last 0-1-13 mysql-bin.000002:${d.start}`,
    ]);
  });

  it('--json: one transaction object per line, then the summary', async () => {
    const [, b] = txns;
    const r = await replay([
      '--dry-run',
      '--json',
      '--from',
      '0-1-11',
      '--to',
      '0-1-11,1-1-4',
      '--file',
      files[0],
    ]);
    expect(r.code).toBe(0);
    const objects = r.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objects[0]).toEqual({
      type: 'transaction',
      gtid: '0-1-11',
      file: 'mysql-bin.000001',
      startPosition: b.start,
      endLogPos: txns[2].start,
      commitTimeMs: b.time * 1000,
      keys: ['b:1'],
    });
    expect(objects.slice(1).map((o) => o.type)).toEqual(['summary']);
    expect(objects[1]).toMatchObject({
      dryRun: true,
      transactionsRead: 4,
      inRange: 1,
      withKeys: 1,
      keys: 1,
      deleted: null,
    });
  });

  it('says so on stderr when nothing of the range was read (exit 0)', async () => {
    const r = await replay(['--dry-run', '--from', '0-1-50,1-1-50', '--file', files[0]]);
    expect(r.code).toBe(0);
    expect(r.lines.filter((l) => !l.startsWith('# summary'))).toEqual([]);
    expect(r.stderr).toBe('cachetail replay: no transaction of the range was found in what was read\n');
  });
});

describe('cachetail replay: progress', () => {
  it('on a terminal, stderr shows transactions, keys and position, and is cleared at the end', async () => {
    const r = await replay(['--dry-run', '--from', '0-1-10', '--file', files[0]], true);
    expect(r.code).toBe(0);
    // The first line is written at the first transaction; later ones at most every 250 ms.
    expect(
      r.stderr.startsWith(
        `\r\x1b[Kreplay: 1 transactions read, 0 in range, 0 keys, at mysql-bin.000001:${txns[1].start}`,
      ),
    ).toBe(true);
    expect(r.stderr.endsWith('\r\x1b[K')).toBe(true);
    expect(r.lines.at(-1)).toMatch(/^# summary read 4 transactions /);
  });

  it('is not shown when stderr is not a terminal', async () => {
    const r = await replay(['--dry-run', '--from', '0-1-10', '--file', files[0]]);
    expect(r.stderr).toBe('');
  });
});

describe('cachetail replay: command line', () => {
  it('--help prints the usage on stdout', async () => {
    const r = await replay(['--help']);
    expect(r.code).toBe(0);
    expect(r.lines[0]).toBe('usage: cachetail replay --from BOUND [--to BOUND] [--file PATH…] [options]');
  });

  it.each([
    [
      [],
      'cachetail replay: --from is required (a GTID, FILE:POSITION or time) (see cachetail replay --help) [USAGE]\n',
    ],
    [
      ['--from', 'yesterday'],
      'cachetail replay: --from "yesterday": expected a GTID (0-1-100, uuid:100), FILE:POSITION or an ISO 8601 time (see cachetail replay --help) [USAGE]\n',
    ],
    [
      ['--from', '0-1-1', '--to', '2026-13-45T00:00:00Z'],
      'cachetail replay: --to "2026-13-45T00:00:00Z": not a valid time (see cachetail replay --help) [USAGE]\n',
    ],
    [
      ['--from', '0-1-1', '--server-id', 'x'],
      'cachetail replay: --server-id must be a positive integer, not "x" (see cachetail replay --help) [USAGE]\n',
    ],
  ])('%j is a usage error (exit 2)', async (args, stderr) => {
    const r = await replay(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(stderr);
  });

  it('reading the replica without a config is a config error (exit 1)', async () => {
    const r = await replay(['--from', '0-1-1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'cachetail replay: invalid configuration:\n' +
        '  source.user is required (set it in the config file or CACHETAIL_SOURCE_USER)\n' +
        '  memcached.servers is required (set it in the config file or CACHETAIL_MEMCACHED_SERVERS) [CONFIG_INVALID]\n',
    );
  });
});
