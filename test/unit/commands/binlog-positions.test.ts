/**
 * Positions on MariaDB 11.4+, which writes end_log_pos 0 into the events inside a transaction group
 * (Annotate_rows, Table_map, rows events, statements; the GTID and the commit event keep theirs —
 * checked on 11.8.9, notes/binlog-protocol.md pitfall 9). Everything `cachetail binlog` and the
 * tailer's assembler say about positions must come out as for the same file with every end_log_pos
 * filled in (MariaDB 10.11, or 11.4+ with binlog_legacy_event_pos=ON).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { setNextPosition } from '../../helpers/binlog/index.js';
import { BinlogDecoder } from '../../../src/binlog/decoder.js';
import { readBinlogFile } from '../../../src/binlog/file.js';
import { TransactionAssembler } from '../../../src/tailer/transactions.js';
import { extractAnnotations } from '../../../src/annotate/index.js';
import { annotatedBinlog, removeTempFiles, runBinlog, tempPath } from './binlog-helpers.js';

afterAll(removeTempFiles);

const GROUP_INNER = new Set([
  160 /* ANNOTATE_ROWS */, 19 /* TABLE_MAP */, 23, 24, 25 /* rows v1 */, 2 /* QUERY */,
]);

/** The annotated test binlog as 11.4+ writes it: end_log_pos 0 inside every (non-standalone) group. */
function files(): { legacy: string; zeroed: string; zeroedCount: number } {
  const builder = annotatedBinlog();
  const legacy = tempPath('mysql-bin.000001');
  writeFileSync(legacy, builder.toBuffer());
  let inGroup = false;
  let zeroedCount = 0;
  for (const { bytes } of builder.events) {
    const type = bytes[4];
    if (type === 162 /* MARIA_GTID */) {
      inGroup = (bytes[19 + 12] & 1) === 0; // flags2 STANDALONE: a DDL is its own group, no commit event
      continue;
    }
    if (type === 16 /* XID */) inGroup = false;
    if (inGroup && GROUP_INNER.has(type ?? -1)) {
      setNextPosition(bytes, 0, builder.checksum);
      zeroedCount++;
    }
  }
  const zeroed = tempPath('mysql-bin.000001');
  writeFileSync(zeroed, builder.toBuffer());
  return { legacy, zeroed, zeroedCount };
}

/** A text line without its `end_log_pos N` field (the stored header value, printed as it is). */
const withoutEndLogPos = (l: string): string => l.replace(/^(# at \d+) end_log_pos \d+/, '$1');

describe('cachetail binlog on a MariaDB 11.4+ binlog (end_log_pos 0 inside transaction groups)', () => {
  it('prints the same events, transactions and summary; only the stored end_log_pos differs', async () => {
    const { legacy, zeroed, zeroedCount } = files();
    expect(zeroedCount).toBe(8);
    const a = await runBinlog([legacy]);
    const b = await runBinlog([zeroed]);
    expect(b.code).toBe(0);
    expect(b.lines.map(withoutEndLogPos)).toEqual(
      a.lines.map(withoutEndLogPos).map((l) => l.replaceAll(legacy, zeroed)),
    );
    // Transaction lines (`#>`) carry computed positions: identical, end_log_pos included.
    expect(b.lines.filter((l) => l.startsWith('#>'))).toEqual(a.lines.filter((l) => l.startsWith('#>')));
    expect(b.lines.filter((l) => / end_log_pos 0 /.test(l))).toHaveLength(zeroedCount);
  });

  it('a stop position inside a group: the incomplete transaction ends where the last event read ends', async () => {
    const { legacy, zeroed } = files();
    for (const file of [legacy, zeroed]) {
      const r = await runBinlog(['--keys-only', '--json', '--stop-position', '1054', file]);
      const txn = r.lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((o) => o.incomplete === true);
      expect(txn).toMatchObject({
        gtid: '0-1-12',
        startPosition: 765,
        commitPosition: null,
        endLogPos: 1054,
      });
    }
  });

  it("the tailer's assembler commits at the same positions", () => {
    const { legacy, zeroed } = files();
    const commits = (
      file: string,
    ): { gtid: string | undefined; nextPosition: number; keys: readonly string[] }[] => {
      const out: { gtid: string | undefined; nextPosition: number; keys: readonly string[] }[] = [];
      const assembler = new TransactionAssembler((sql, lex) => extractAnnotations(sql, lex));
      assembler.reset('mysql-bin.000001');
      for (const { event } of readBinlogFile(readFileSync(file), { decoder: new BinlogDecoder() })) {
        const txn = assembler.push(event);
        if (txn) out.push({ gtid: txn.gtid, nextPosition: txn.nextPosition, keys: txn.keys });
      }
      return out;
    };
    const want = commits(legacy);
    expect(want.map((c) => c.gtid)).toEqual(['0-1-10', '0-1-11', '0-1-12', '0-1-13']);
    expect(commits(zeroed)).toEqual(want);
  });
});
