/**
 * Runs `cachetail binlog` in-process with captured stdout/stderr, and builds a small annotated MariaDB
 * binlog whose every byte the tests know.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import {
  BinlogFileBuilder,
  buildAnnotateRows,
  buildMariadbGtid,
  buildMariadbGtidList,
  buildQuery,
  buildRotate,
  buildRows,
  buildTableMap,
  buildXid,
} from '../../helpers/binlog/index.js';
import { binlogCommand } from '../../../src/commands/binlog.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  lines: string[];
}

export async function runBinlog(
  args: string[],
  stdin: Buffer | Readable = Buffer.alloc(0),
): Promise<RunResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const input = Buffer.isBuffer(stdin) ? Readable.from([stdin]) : stdin;
  const code = await binlogCommand(args, { stdout, stderr, stdin: input });
  const text = Buffer.concat(out).toString('utf8');
  return {
    code,
    stdout: text,
    stderr: Buffer.concat(err).toString('utf8'),
    lines: text === '' ? [] : text.replace(/\n$/, '').split('\n'),
  };
}

const tempDirs: string[] = [];

/** A path in a fresh temporary directory; removed by `removeTempFiles` (call it in afterAll). */
export function tempPath(name: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cachetail-binlog-'));
  tempDirs.push(dir);
  return path.join(dir, name);
}

export function removeTempFiles(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** INT + VARCHAR(64) row image: null bitmap, int32, 1-byte length + text. */
function row(id: number, name: string): Buffer {
  const text = Buffer.from(name, 'utf8');
  const b = Buffer.alloc(1 + 4 + 1 + text.length);
  b.writeInt32LE(id, 1);
  b[5] = text.length;
  text.copy(b, 6);
  return b;
}

export const TS = 1_700_000_000;

/**
 * Four transactions: a row-format UPDATE annotated with two keys (one percent-encoded), a standalone
 * DDL with a key, a statement-format transaction with a valid key, a rejected one, a line comment and
 * a decoy inside a string literal, and an unannotated DELETE; then a ROTATE.
 */
export function annotatedBinlog(): BinlogFileBuilder {
  const b = new BinlogFileBuilder({ serverId: 1, timestamp: TS, serverVersion: '10.11.19-MariaDB-log' });
  const users = (o: object) =>
    buildTableMap(
      { tableId: 5, db: 'app', table: 'users', columnTypes: [3, 15], columnMetaRaw: Buffer.of(64, 0) },
      o,
    );
  b.add((o) => buildMariadbGtidList({ gtids: [{ domainId: 0, serverId: 1, seqNo: 9n }] }, o));
  b.add((o) => buildMariadbGtid({ seqNo: 10n }, o));
  b.add((o) =>
    buildAnnotateRows(
      { sql: "UPDATE users SET name = 'Monkey' WHERE id = 1 /* MEMCACHE_DIRTY user:1,user%3Aname:1 */" },
      o,
    ),
  );
  b.add(users);
  b.add((o) =>
    buildRows(
      {
        kind: 'update_rows',
        tableId: 5,
        columnCount: 2,
        rows: Buffer.concat([row(1, 'Jason'), row(1, 'Monkey')]),
      },
      o,
    ),
  );
  b.add((o) => buildXid({ xid: 77n }, o));
  b.add((o) => buildMariadbGtid({ seqNo: 11n, standalone: true }, o));
  b.add((o) =>
    buildQuery({ db: 'app', sql: 'ALTER TABLE users ADD COLUMN x INT /* MEMCACHE_DIRTY schema:users */' }, o),
  );
  b.add((o) => buildMariadbGtid({ seqNo: 12n }, o));
  b.add((o) => buildQuery({ db: 'app', sql: 'BEGIN' }, o));
  b.add((o) =>
    buildQuery(
      {
        db: 'app',
        sql: "INSERT INTO notes VALUES ('/* MEMCACHE_DIRTY admin:1 */') /* MEMCACHE_DIRTY ok:3,bad%zz */ -- MEMCACHE_DIRTY x",
      },
      o,
    ),
  );
  b.add((o) => buildXid({ xid: 78n }, o));
  b.add((o) => buildMariadbGtid({ seqNo: 13n }, o));
  b.add((o) => buildAnnotateRows({ sql: 'DELETE FROM users WHERE id = 2' }, o));
  b.add(users);
  b.add((o) => buildRows({ kind: 'delete_rows', tableId: 5, columnCount: 2, rows: row(2, 'Bob') }, o));
  b.add((o) => buildXid({ xid: 79n }, o));
  b.add((o) => buildRotate({ nextFile: 'mysql-bin.000002' }, o));
  return b;
}

/** The annotated binlog written to a temporary file named mysql-bin.000001. */
export function annotatedBinlogFile(): { file: string; builder: BinlogFileBuilder; bytes: Buffer } {
  const builder = annotatedBinlog();
  const bytes = builder.toBuffer();
  const file = tempPath('mysql-bin.000001');
  writeFileSync(file, bytes);
  return { file, builder, bytes };
}
