/** Transaction assembly on built binlog events: what is delivered, when, with which keys and position. */
import { describe, expect, it } from 'vitest';
import { readBinlogFile } from '../../../src/binlog/index.js';
import {
  BinlogFileBuilder,
  buildAnnotateRows,
  buildMariadbGtid,
  buildQuery,
  buildRotate,
  buildRowsQuery,
  buildXid,
  buildMysqlGtid,
} from '../../helpers/binlog/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { CommittedTransaction } from '../../../src/sinks/sink.js';
import { annotationExtractor } from '../../../src/tailer/extract.js';
import { spillFactory } from '../../../src/tailer/spill.js';
import { TransactionAssembler } from '../../../src/tailer/transactions.js';
import { testTempDir } from '../../helpers/temp-dir.js';

const NO_BACKSLASH_ESCAPES = 1n << 20n; // MODE_NO_BACKSLASH_ESCAPES in sql_mode

/** Feeds every event of the built file; returns what each push committed (null = nothing yet). */
function run(file: BinlogFileBuilder, counters = { rejectedKeys: 0 }): (CommittedTransaction | null)[] {
  const asm = new TransactionAssembler(
    annotationExtractor(createLogger('silent'), () => counters.rejectedKeys++),
  );
  asm.reset('bin.000001');
  const out: (CommittedTransaction | null)[] = [];
  for (const { event } of readBinlogFile(file.toBuffer())) {
    if (event.kind === 'format_description') continue;
    out.push(asm.push(event));
  }
  return out;
}

const committed = (out: (CommittedTransaction | null)[]) =>
  out.filter((t): t is CommittedTransaction => t !== null);

describe('TransactionAssembler', () => {
  it('delivers a transaction once, at its XID, with the keys of all its statements in order', () => {
    const f = new BinlogFileBuilder({ serverId: 101, timestamp: 1_700_000_000 });
    f.add((o) => buildMariadbGtid({ seqNo: 5n }, o));
    f.add((o) => buildQuery({ sql: 'BEGIN' }, o));
    f.add((o) => buildAnnotateRows({ sql: 'UPDATE t SET a=1 /* MEMCACHE_DIRTY user:1,user:2 */' }, o));
    f.add((o) => buildAnnotateRows({ sql: 'UPDATE u SET b=2 /* MEMCACHE_DIRTY user:2,team:%2A */' }, o));
    f.add((o) => buildXid({ xid: 9n }, o));
    const out = run(f);
    expect(out.map((t) => t !== null)).toEqual([false, false, false, false, true]);
    expect(out[4]).toEqual({
      gtid: '0-101-5',
      file: 'bin.000001',
      nextPosition: f.nextPosition,
      serverId: 101,
      commitTimeMs: 1_700_000_000_000,
      keys: ['user:1', 'user:2', 'team:*'],
    });
  });

  it('delivers a standalone statement (DDL) right after its event', () => {
    const f = new BinlogFileBuilder();
    f.add((o) => buildMariadbGtid({ seqNo: 6n, standalone: true }, o));
    f.add((o) => buildQuery({ sql: 'ALTER TABLE t ADD c INT /* MEMCACHE_DIRTY schema:t */' }, o));
    expect(committed(run(f)).map((t) => [t.gtid, t.keys])).toEqual([['0-1-6', ['schema:t']]]);
  });

  it('delivers a statement outside any transaction right after it, and one with no GTID at all', () => {
    const f = new BinlogFileBuilder();
    f.add((o) => buildQuery({ sql: 'INSERT INTO m VALUES (1) /* MEMCACHE_DIRTY a */' }, o));
    f.add((o) => buildQuery({ sql: 'INSERT INTO m VALUES (2) /* MEMCACHE_DIRTY b */' }, o));
    expect(run(f).map((t) => t?.keys ?? null)).toEqual([['a'], ['b']]);
  });

  it('invalidates a group that ends in ROLLBACK (its non-transactional changes stay)', () => {
    const f = new BinlogFileBuilder();
    f.add((o) => buildMariadbGtid({ seqNo: 7n }, o));
    f.add((o) => buildQuery({ sql: 'BEGIN' }, o));
    f.add((o) => buildQuery({ sql: 'INSERT INTO myisam_t VALUES (1) /* MEMCACHE_DIRTY m:1 */' }, o));
    f.add((o) => buildQuery({ sql: 'ROLLBACK' }, o));
    expect(committed(run(f)).map((t) => t.keys)).toEqual([['m:1']]);
  });

  it('flushes a group cut off by the next GTID, ending it where the next group starts', () => {
    const f = new BinlogFileBuilder();
    f.add((o) => buildMariadbGtid({ seqNo: 8n }, o));
    f.add((o) => buildQuery({ sql: 'BEGIN' }, o));
    f.add((o) => buildAnnotateRows({ sql: 'DELETE FROM t /* MEMCACHE_DIRTY cut:1 */' }, o));
    const nextGroupStart = f.nextPosition;
    f.add((o) => buildMariadbGtid({ seqNo: 9n }, o));
    f.add((o) => buildQuery({ sql: 'BEGIN' }, o));
    f.add((o) => buildXid({ xid: 1n }, o));
    const txns = committed(run(f));
    expect(txns.map((t) => [t.gtid, t.keys, t.nextPosition])).toEqual([
      ['0-1-8', ['cut:1'], nextGroupStart],
      ['0-1-9', [], f.nextPosition],
    ]);
  });

  it('follows ROTATE into the next file', () => {
    const f = new BinlogFileBuilder();
    f.add((o) => buildRotate({ nextFile: 'bin.000002', position: 4 }, o));
    f.add((o) => buildQuery({ sql: 'DELETE FROM t /* MEMCACHE_DIRTY r */' }, o));
    expect(committed(run(f)).map((t) => t.file)).toEqual(['bin.000002']);
  });

  it('never takes keys from string literals, and counts rejected keys without delivering them', () => {
    const counters = { rejectedKeys: 0 };
    const f = new BinlogFileBuilder();
    f.add((o) => buildQuery({ sql: "INSERT INTO notes VALUES ('/* MEMCACHE_DIRTY admin:1 */')" }, o));
    f.add((o) => buildQuery({ sql: 'DELETE FROM t /* MEMCACHE_DIRTY ok,bad%ZZ,%FF */' }, o));
    expect(run(f, counters).map((t) => t?.keys ?? null)).toEqual([[], ['ok']]);
    expect(counters.rejectedKeys).toBe(2);
  });

  it("lexes Annotate_rows with the sql_mode of the transaction's BEGIN", () => {
    const text = "INSERT INTO p VALUES ('C:\\') /* MEMCACHE_DIRTY path:1 */";
    const build = (sqlMode: bigint) => {
      const f = new BinlogFileBuilder();
      f.add((o) => buildMariadbGtid({ seqNo: 1n }, o));
      f.add((o) => buildQuery({ sql: 'BEGIN', statusVars: { flags2: 0, sqlMode } }, o));
      f.add((o) => buildAnnotateRows({ sql: text }, o));
      f.add((o) => buildXid({ xid: 1n }, o));
      return committed(run(f)).map((t) => t.keys);
    };
    // With NO_BACKSLASH_ESCAPES the literal is 'C:\' and the comment is real; without it the literal
    // never ends, so nothing after it is trusted.
    expect(build(NO_BACKSLASH_ESCAPES)).toEqual([['path:1']]);
    expect(build(0n)).toEqual([[]]);
  });

  it('spills a transaction past the threshold to disk and keeps every key, in order', async () => {
    const dir = testTempDir('cachetail-asm-spill-');
    const asm = new TransactionAssembler(annotationExtractor(createLogger('silent')), {
      spill: { thresholdKeys: 3, create: spillFactory(dir) },
    });
    const f = new BinlogFileBuilder();
    f.add((o) => buildMariadbGtid({ seqNo: 1n }, o));
    f.add((o) => buildQuery({ sql: 'BEGIN' }, o));
    for (let i = 0; i < 4; i++) {
      f.add((o) =>
        buildAnnotateRows({ sql: `UPDATE t SET a=1 /* MEMCACHE_DIRTY s:${2 * i},s:${2 * i + 1} */` }, o),
      );
    }
    f.add((o) => buildXid({ xid: 1n }, o));
    let done: CommittedTransaction | null = null;
    for (const { event } of readBinlogFile(f.toBuffer()))
      if (event.kind !== 'format_description') done ??= asm.push(event);
    expect(done?.keys).toEqual([]);
    expect(done?.spilled?.count).toBe(8);
    const read: string[] = [];
    for await (const chunk of done!.spilled!.batches(5)) read.push(...chunk);
    expect(read).toEqual(['s:0', 's:1', 's:2', 's:3', 's:4', 's:5', 's:6', 's:7']);
    done!.spilled!.discard();
  });

  it('handles MySQL: GTID + BEGIN + Rows_query … XID, and a GTID + DDL', () => {
    const sid = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
    const f = new BinlogFileBuilder();
    f.add((o) => buildMysqlGtid({ sid, gno: 23n }, o));
    f.add((o) => buildQuery({ sql: 'BEGIN' }, o));
    f.add((o) => buildRowsQuery({ sql: 'UPDATE t SET x=1 /* MEMCACHE_DIRTY my:1 */' }, o));
    f.add((o) => buildXid({ xid: 3n }, o));
    f.add((o) => buildMysqlGtid({ sid, gno: 24n }, o));
    f.add((o) => buildQuery({ sql: 'CREATE TABLE z (i INT) /* MEMCACHE_DIRTY my:ddl */' }, o));
    expect(committed(run(f)).map((t) => [t.gtid, t.keys])).toEqual([
      [`${sid}:23`, ['my:1']],
      [`${sid}:24`, ['my:ddl']],
    ]);
  });
});
