/**
 * Which sql_mode the assembler lexes a statement with. A MariaDB ROW transaction has no BEGIN query, so
 * its Annotate_rows text comes with no sql_mode at all — and the mode of some earlier QUERY event (another
 * session's DDL) must not stand in for it. Found on a real server by test/integration/app-adversarial:
 * user data stored under NO_BACKSLASH_ESCAPES was read as an annotation.
 */
import { describe, expect, it } from 'vitest';
import { extractAnnotations } from '../../../src/annotate/index.js';
import { readBinlogFile } from '../../../src/binlog/index.js';
import {
  BinlogFileBuilder,
  buildAnnotateRows,
  buildMariadbGtid,
  buildQuery,
  buildRowsQuery,
  buildXid,
  buildMysqlGtid,
} from '../../helpers/binlog/index.js';
import { TransactionAssembler, type KeyExtractor } from '../../../src/tailer/transactions.js';

const NO_BACKSLASH_ESCAPES = 1n << 20n;
const extract: KeyExtractor = (sql, lex) => ({ keys: extractAnnotations(sql, lex).keys });

function keysPerTransaction(f: BinlogFileBuilder): string[][] {
  const asm = new TransactionAssembler(extract);
  const out: string[][] = [];
  for (const { event } of readBinlogFile(f.toBuffer())) {
    const t = asm.push(event);
    if (t) out.push([...t.keys]);
  }
  return out;
}

/** A user's text stored under NO_BACKSLASH_ESCAPES, quotes doubled: one string literal. */
const INJECTION = "INSERT INTO notes (body) VALUES ('\\'' /* MEMCACHE_DIRTY admin:1 */')";

describe('the sql_mode of Annotate_rows', () => {
  it('MariaDB group without BEGIN: user data is never read as an annotation, whatever the session mode', () => {
    const f = new BinlogFileBuilder({ serverVersion: '10.11.19-MariaDB' });
    // Another session's DDL in the default mode, just before.
    f.add((o) => buildMariadbGtid({ seqNo: 1n, standalone: true }, o));
    f.add((o) =>
      buildQuery({ sql: 'CREATE TABLE notes (body TEXT)', statusVars: { flags2: 0, sqlMode: 0n } }, o),
    );
    f.add((o) => buildMariadbGtid({ seqNo: 2n }, o));
    f.add((o) => buildAnnotateRows({ sql: INJECTION }, o));
    f.add((o) => buildXid({ xid: 2n }, o));
    f.add((o) => buildMariadbGtid({ seqNo: 3n }, o));
    f.add((o) => buildAnnotateRows({ sql: `${INJECTION} /* MEMCACHE_DIRTY real:1 */` }, o));
    f.add((o) => buildXid({ xid: 3n }, o));
    expect(keysPerTransaction(f)).toEqual([[], [], ['real:1']]);
  });

  it("keeps the keys of ordinary statements: mysql2's 'it\\'s', double quotes, backslashes", () => {
    const f = new BinlogFileBuilder();
    for (const [i, sql] of [
      "UPDATE u SET bio = 'it\\'s' WHERE id = 1 /* MEMCACHE_DIRTY user:1 */",
      'UPDATE u SET bio = "say \\"hi\\"" /* MEMCACHE_DIRTY user:2 */',
      "UPDATE u SET path = 'C:\\\\dir\\\\' /* MEMCACHE_DIRTY user:3 */",
      "INSERT INTO t VALUES ('a''b', 'c') /* MEMCACHE_DIRTY user:4 */",
    ].entries()) {
      f.add((o) => buildMariadbGtid({ seqNo: BigInt(i + 10) }, o));
      f.add((o) => buildAnnotateRows({ sql }, o));
      f.add((o) => buildXid({ xid: 1n }, o));
    }
    expect(keysPerTransaction(f)).toEqual([['user:1'], ['user:2'], ['user:3'], ['user:4']]);
  });

  it('uses the mode of the BEGIN query of the same group (MySQL), and forgets it at the next GTID', () => {
    const sid = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
    const text = "INSERT INTO p VALUES ('C:\\') /* MEMCACHE_DIRTY path:1 */";
    const f = new BinlogFileBuilder();
    f.add((o) => buildMysqlGtid({ sid, gno: 1n }, o));
    f.add((o) => buildQuery({ sql: 'BEGIN', statusVars: { flags2: 0, sqlMode: NO_BACKSLASH_ESCAPES } }, o));
    f.add((o) => buildRowsQuery({ sql: text }, o));
    f.add((o) => buildXid({ xid: 1n }, o));
    f.add((o) => buildMysqlGtid({ sid, gno: 2n }, o));
    f.add((o) => buildQuery({ sql: 'BEGIN', statusVars: { flags2: 0, sqlMode: 0n } }, o));
    f.add((o) => buildRowsQuery({ sql: text }, o));
    f.add((o) => buildXid({ xid: 2n }, o));
    expect(keysPerTransaction(f)).toEqual([['path:1'], []]);
  });

  it('lexes a MySQL binlog as MySQL did: /*M! is a plain comment there, with a known or unknown sql_mode', () => {
    // MySQL executes this (the comment ends at the first */); MariaDB would read SQL after /*M! and
    // find an unterminated string, swallowing the annotation.
    const text = "INSERT INTO t VALUES ('a') /*M! it's */ /* MEMCACHE_DIRTY ok:1 */";
    const sid = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
    const mysql = new BinlogFileBuilder({ serverVersion: '9.7.4' });
    mysql.add((o) => buildMysqlGtid({ sid, gno: 1n }, o));
    mysql.add((o) => buildQuery({ sql: 'BEGIN', statusVars: { flags2: 0, sqlMode: 0n } }, o));
    mysql.add((o) => buildRowsQuery({ sql: text }, o));
    mysql.add((o) => buildXid({ xid: 1n }, o));
    mysql.add((o) => buildMysqlGtid({ sid, gno: 2n }, o));
    mysql.add((o) => buildRowsQuery({ sql: text }, o)); // no BEGIN before it: sql_mode unknown
    mysql.add((o) => buildXid({ xid: 2n }, o));
    expect(keysPerTransaction(mysql)).toEqual([['ok:1'], ['ok:1']]);

    const mariadb = new BinlogFileBuilder({ serverVersion: '11.8.9-MariaDB' });
    mariadb.add((o) => buildMariadbGtid({ seqNo: 1n }, o));
    mariadb.add((o) => buildAnnotateRows({ sql: text }, o));
    mariadb.add((o) => buildXid({ xid: 1n }, o));
    expect(keysPerTransaction(mariadb)).toEqual([[]]);
  });
});
