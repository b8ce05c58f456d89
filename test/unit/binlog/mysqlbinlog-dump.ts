/**
 * Parser for Oracle MySQL's `mysqlbinlog -vv --base64-output=decode-rows` output (checked on 9.7.4),
 * into the same `Dump` shape as parseMariadbBinlogDump so one comparison serves both tools.
 *
 * What differs from mariadb-binlog's output:
 *  - GTID events are `GTID\tlast_committed=…` (tagged ones too) with the GTID in the body
 *    (`SET @@SESSION.GTID_NEXT= 'uuid[:tag]:n'`); Previous-GTIDs print the set as `# …` lines.
 *  - Rows_query events print the statement as `# `-prefixed lines, one per line of the text.
 *  - A Transaction_Payload event is followed by its inner events, framed by `# Start of compressed
 *    events.` / `# End of compressed events.`; each inner event gets `# at <payload end>`.
 *  - Query events end `\tXid = N` when they carry one (DDL logged with an XID), nothing otherwise.
 *  - Rows events are `Write_rows`/`Update_rows`/`Update_rows_partial`/`Delete_rows` with every flag
 *    named (`STMT_END_F USE_SQL_FOREIGN_KEY_F`), rows are printed at STMT_END without a
 *    `# Number of rows` line, and a column it cannot print (GEOMETRY) ends the event's row output with
 *    `!! Don't know how to handle column type=N …`.
 */
import { EVENT_HEADER, statementText, type Dump, type DumpEvent } from './mariadb-binlog-dump.js';

const START_PAYLOAD = '# Start of compressed events.';
const END_PAYLOAD = '# End of compressed events.';

export function parseMysqlbinlogDump(text: string): Dump {
  const events: DumpEvent[] = [];
  const at: number[] = [];
  const stderr: string[] = [];
  let exitCode = 0;
  let current: DumpEvent | undefined;
  let inStderr = false;
  let complete = false;
  let inPayload = false;
  for (const line of text.split('\n')) {
    if (inStderr) {
      if (line.startsWith('# ')) stderr.push(line.slice(2));
      continue;
    }
    const rc = /^# ---- stderr \(rc=(\d+)\) ----$/.exec(line);
    if (rc) {
      exitCode = Number(rc[1]);
      inStderr = true;
      continue;
    }
    if (line === '# End of log file') complete = true;
    if (line === START_PAYLOAD) inPayload = true;
    if (line === END_PAYLOAD) inPayload = false;
    const atm = /^# at (\d+)$/.exec(line);
    if (atm) {
      at.push(Number(atm[1]));
      current = undefined;
      continue;
    }
    const h = EVENT_HEADER.exec(line);
    if (h) {
      current = {
        time: h[1],
        serverId: Number(h[2]),
        endLogPos: Number(h[3]),
        crc: h[4] === undefined ? undefined : parseInt(h[4], 16),
        description: (h[5] ?? '').trimEnd(),
        typeCodes: [],
        body: [],
      };
      // The payload event itself comes before its `# Start of compressed events.` line.
      if (inPayload) current.inPayload = true;
      events.push(current);
      continue;
    }
    current?.body.push(line);
  }
  for (const e of events) classify(e);
  return { events, at, exitCode, stderr, complete };
}

/** The body lines of an event up to the first line that is not a `# ` comment of it. */
function commentLines(body: string[]): string[] {
  const out: string[] = [];
  for (const line of body) {
    if (line === START_PAYLOAD || line === END_PAYLOAD || !line.startsWith('# ')) break;
    out.push(line.slice(2));
  }
  return out;
}

function classify(e: DumpEvent): void {
  const d = e.description;
  let m: RegExpExecArray | null;
  if (d.startsWith('Start: ')) e.typeCodes = [15];
  else if (d === 'Previous-GTIDs') {
    e.typeCodes = [35];
    const set = commentLines(e.body).join('');
    e.previousGtids = set === '[empty]' ? '' : set;
  } else if ((m = /^(GTID|Anonymous_GTID)\tlast_committed=/.exec(d))) {
    const next = e.body
      .map((l) => /^SET @@SESSION\.GTID_NEXT= '(.*)'\/\*!\*\/;$/.exec(l)?.[1])
      .find((g) => g !== undefined);
    if (m[1] === 'Anonymous_GTID') e.typeCodes = [34];
    else {
      // uuid:n is GTID (33); uuid:tag:n is GTID_TAGGED (42), which 8.3+ also writes for uuid:n.
      e.typeCodes = next !== undefined && next.split(':').length === 3 ? [42] : [33, 42];
      if (next !== undefined) e.gtid = next;
    }
  } else if ((m = /^Query\tthread_id=(\d+)\texec_time=(\d+)\terror_code=(\d+)(?:\tXid = (\d+))?$/.exec(d))) {
    e.typeCodes = [2];
    e.query = {
      threadId: Number(m[1]),
      execTime: Number(m[2]),
      errorCode: Number(m[3]),
      xid: BigInt(m[4] ?? 0),
      sql: statementText(e.body),
      printed: {},
    };
  } else if (d === 'Rows_query') {
    e.typeCodes = [29];
    e.rowsQuery = commentLines(e.body).join('\n');
  } else if ((m = /^Xid = (\d+)$/.exec(d))) {
    e.typeCodes = [16];
    e.xid = BigInt(m[1]);
  } else if ((m = /^Table_map: `(.*)`\.`(.*)` mapped to number (\d+)$/.exec(d))) {
    e.typeCodes = [19];
    e.tableMap = { db: m[1], table: m[2], tableId: Number(m[3]) };
  } else if ((m = /^(Write|Update|Delete)_rows(_partial)?: table id (\d+) flags:((?: \w+)*)$/.exec(d))) {
    const base = { Write: 0, Update: 1, Delete: 2 }[m[1] as 'Write' | 'Update' | 'Delete'];
    e.typeCodes = m[2] ? [39] : [23 + base, 30 + base];
    e.rows = { tableId: Number(m[3]), stmtEnd: m[4].split(' ').includes('STMT_END_F') };
  } else if (
    (m = /^Transaction_Payload\t\tpayload_size=(\d+)\tcompression_type=(\w+)\tuncompressed_size=(\d+)$/.exec(
      d,
    ))
  ) {
    e.typeCodes = [40];
    e.payload = { payloadSize: Number(m[1]), compression: m[2], uncompressedSize: Number(m[3]) };
  } else if ((m = /^Rotate to (.*) {2}pos: (\d+)$/.exec(d))) {
    e.typeCodes = [4];
    e.rotate = { nextFile: m[1], position: Number(m[2]) };
  } else if (d === 'Stop') e.typeCodes = [3];
  else if (d === 'Intvar') {
    e.typeCodes = [5];
    const v = e.body.map((l) => /^SET (INSERT_ID|LAST_INSERT_ID)=(\d+)\/\*!\*\/;$/.exec(l)).find(Boolean);
    if (v) e.intvar = { name: v[1] as 'INSERT_ID' | 'LAST_INSERT_ID', value: BigInt(v[2]) };
  } else if (d === 'Rand') {
    e.typeCodes = [13];
    const v = e.body
      .map((l) => /^SET @@RAND_SEED1=(\d+), @@RAND_SEED2=(\d+)\/\*!\*\/;$/.exec(l))
      .find(Boolean);
    if (v) e.rand = { seed1: BigInt(v[1]), seed2: BigInt(v[2]) };
  } else if (d === 'User_var') {
    e.typeCodes = [14];
    // mysqlbinlog brackets the SET with `/*!\C … */` charset lines.
    const v = e.body.map((l) => /^SET @`(.*)`:=(.*)\/\*!\*\/;$/.exec(l)).find(Boolean);
    if (v) e.userVar = { name: v[1], isNull: v[2] === 'NULL' };
  }
}
