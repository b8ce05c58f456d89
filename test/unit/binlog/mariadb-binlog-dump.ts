/**
 * Parser for `mariadb-binlog -vv` output, used as the expected values for the binlog fixtures.
 * It reads what the tool prints per event: the `# at N` lines, the header comment
 * (`#YYMMDD HH:MM:SS server id N  end_log_pos N [CRC32 0x…] \t<description>`) and, for statements,
 * the SQL text (QUERY) or the `#Q>` lines (ANNOTATE_ROWS).
 */

export interface DumpEvent {
  /** UTC `YYMMDD H:MM:SS` as printed (hour space-padded). */
  time: string;
  serverId: number;
  endLogPos: number;
  crc: number | undefined;
  description: string;
  /** Event type codes the description can stand for (rows events do not say v1 or v2). */
  typeCodes: number[];
  /** Query: thread_id, exec_time, error_code, xid (MariaDB Q_XID status var). */
  query?: {
    threadId: number;
    execTime: number;
    errorCode: number;
    xid: bigint;
    sql: string;
    /** Context lines mariadb-binlog printed because they changed: sql_mode, `use db`, collations. */
    printed: { sqlMode?: bigint; use?: string; collationConnection?: number; collationServer?: number };
  };
  annotate?: string;
  gtid?: string;
  xid?: bigint;
  rotate?: { nextFile: string; position: number };
  intvar?: { name: 'INSERT_ID' | 'LAST_INSERT_ID'; value: bigint };
  rand?: { seed1: bigint; seed2: bigint };
  userVar?: { name: string; isNull: boolean };
  checkpoint?: string;
  gtidList?: string[];
  tableMap?: { db: string; table: string; tableId: number };
  rows?: { tableId: number; stmtEnd: boolean };
  /** MySQL (mysqlbinlog-dump.ts): a Rows_query event's text, line prefixes removed. */
  rowsQuery?: string;
  /** MySQL: a Previous-GTIDs event's set as printed (`[empty]` → ''), line breaks removed. */
  previousGtids?: string;
  /** MySQL: a Transaction_Payload event's header fields. */
  payload?: { payloadSize: number; compression: string; uncompressedSize: number };
  /**
   * MySQL: an event mysqlbinlog printed from inside a Transaction_Payload (between `# Start of
   * compressed events.` and `# End of compressed events.`); its `# at` and end_log_pos are the
   * payload event's end.
   */
  inPayload?: boolean;
  /**
   * Rows events: the `meta=`/`nullable=` that -vv printed per column value. mariadb-binlog prints the
   * rows of a whole statement after its STMT_END event, so these are keyed by table (`db.table`).
   */
  columns?: { table: string; column: number; type: string; meta: number; nullable: boolean }[];
  /** Lines after the header line up to the next event. */
  body: string[];
}

export interface Dump {
  events: DumpEvent[];
  /** Every `# at N`. */
  at: number[];
  /** The trailer (`# ---- stderr (rc=N) ----`) if mariadb-binlog failed or warned. */
  exitCode: number;
  stderr: string[];
  /** mariadb-binlog reached `# End of log file` (some failures exit 1 without a stderr line). */
  complete: boolean;
}

/** `#YYMMDD HH:MM:SS server id N  end_log_pos N [CRC32 0x…] \t<description>` (mysqlbinlog prints it alike). */
export const EVENT_HEADER =
  /^#(\d{6} [ \d]\d:\d\d:\d\d) server id (\d+)\s+end_log_pos (\d+)\s*(?:CRC32 0x([0-9a-f]{8}))?\s*(?:\t(.*))?$/;

export function parseMariadbBinlogDump(text: string): Dump {
  const lines = text.split('\n');
  const events: DumpEvent[] = [];
  const at: number[] = [];
  const stderr: string[] = [];
  let exitCode = 0;
  let current: DumpEvent | undefined;
  let inStderr = false;
  let complete = false;
  for (const line of lines) {
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
      events.push(current);
      continue;
    }
    current?.body.push(line);
  }
  for (const e of events) classify(e);
  return { events, at, exitCode, stderr, complete };
}

function classify(e: DumpEvent): void {
  const d = e.description;
  let m: RegExpExecArray | null;
  if (d.startsWith('Start: ')) e.typeCodes = [15];
  else if (
    (m = /^(Query|Query_compressed)\tthread_id=(\d+)\texec_time=(\d+)\terror_code=(\d+)\txid=(\d+)$/.exec(d))
  ) {
    e.typeCodes = [m[1] === 'Query' ? 2 : 165];
    e.query = {
      threadId: Number(m[2]),
      execTime: Number(m[3]),
      errorCode: Number(m[4]),
      xid: BigInt(m[5]),
      sql: statementText(e.body),
      printed: printedContext(e.body),
    };
  } else if ((m = /^Xid = (\d+)$/.exec(d))) {
    e.typeCodes = [16];
    e.xid = BigInt(m[1]);
  } else if ((m = /^GTID (\d+-\d+-\d+)( .*)?$/.exec(d))) {
    e.typeCodes = [162];
    e.gtid = m[1]!;
  } else if ((m = /^Gtid list \[(.*)\]$/.exec(d))) {
    e.typeCodes = [163];
    e.gtidList = m[1] === '' ? [] : m[1].split(',');
  } else if ((m = /^Binlog checkpoint (.*)$/.exec(d))) {
    e.typeCodes = [161];
    e.checkpoint = m[1]!;
  } else if (d === 'Annotate_rows:') {
    e.typeCodes = [160];
    e.annotate = e.body
      .filter((l) => l.startsWith('#Q> '))
      .map((l) => l.slice(4))
      .join('\n');
  } else if ((m = /^Table_map: `(.*)`\.`(.*)` mapped to number (\d+)$/.exec(d))) {
    e.typeCodes = [19];
    e.tableMap = { db: m[1], table: m[2], tableId: Number(m[3]) };
  } else if (
    (m = /^(Write|Update|Delete)(_compressed)?_rows: table id (\d+)( flags: STMT_END_F)?$/.exec(d))
  ) {
    const base = { Write: 0, Update: 1, Delete: 2 }[m[1] as 'Write' | 'Update' | 'Delete'];
    e.typeCodes = m[2] ? [166 + base, 169 + base] : [23 + base, 30 + base];
    e.rows = { tableId: Number(m[3]), stmtEnd: m[4] !== undefined };
    e.columns = [];
    let table = '';
    for (const line of e.body) {
      const t = /^### (?:INSERT INTO|UPDATE|DELETE FROM) `(.*)`\.`(.*)`$/.exec(line);
      if (t) table = `${t[1]}.${t[2]}`;
      const c = /^### {3}@(\d+)=.* \/\* ([^*]*?) meta=(\d+) nullable=(\d) is_null=\d \*\/$/.exec(line);
      if (c) {
        e.columns.push({
          table,
          column: Number(c[1]),
          type: c[2],
          meta: Number(c[3]),
          nullable: c[4] === '1',
        });
      }
    }
  } else if ((m = /^Rotate to (.*) {2}pos: (\d+)$/.exec(d))) {
    e.typeCodes = [4];
    e.rotate = { nextFile: m[1], position: Number(m[2]) };
  } else if (d === 'Stop') e.typeCodes = [3];
  else if (d === 'Intvar') {
    e.typeCodes = [5];
    const v = /^SET (INSERT_ID|LAST_INSERT_ID)=(\d+)\/\*!\*\/;$/.exec(e.body[0] ?? '');
    if (v) e.intvar = { name: v[1] as 'INSERT_ID' | 'LAST_INSERT_ID', value: BigInt(v[2]) };
  } else if (d === 'Rand') {
    e.typeCodes = [13];
    const v = /^SET @@RAND_SEED1=(\d+), @@RAND_SEED2=(\d+)\/\*!\*\/;$/.exec(e.body[0] ?? '');
    if (v) e.rand = { seed1: BigInt(v[1]), seed2: BigInt(v[2]) };
  } else if (d === 'User_var') {
    e.typeCodes = [14];
    const v = /^SET @`(.*)`:=(.*)\/\*!\*\/;$/.exec(e.body[0] ?? '');
    if (v) e.userVar = { name: v[1], isNull: v[2] === 'NULL' };
  } else if (d.startsWith('Execute_load_query')) e.typeCodes = [18];
  else if (d === 'Ignorable') {
    const t = /^# Ignorable event type (\d+)/.exec(e.body[0] ?? '');
    if (t) e.typeCodes = [Number(t[1])];
  } else if (d === '') {
    if (e.body[0]?.startsWith('#Begin_load_query:')) e.typeCodes = [17];
    else if (e.body[0]?.startsWith('#Append_block:')) e.typeCodes = [9];
  }
}

/**
 * The statement of a QUERY: mariadb-binlog prints `SET ...` context lines, each ending with the
 * delimiter, then the statement, then the delimiter on a line of its own.
 */
export function statementText(body: string[]): string {
  const text = body.join('\n');
  const end = text.lastIndexOf('\n/*!*/;');
  if (end < 0) return '';
  const head = text.slice(0, end);
  const prev = head.lastIndexOf('/*!*/;\n');
  return prev < 0 ? head : head.slice(prev + '/*!*/;\n'.length);
}

function printedContext(body: string[]): NonNullable<DumpEvent['query']>['printed'] {
  const out: NonNullable<DumpEvent['query']>['printed'] = {};
  for (const line of body) {
    let m: RegExpExecArray | null;
    if ((m = /^SET @@session\.sql_mode=(\d+)\/\*!\*\/;$/.exec(line))) out.sqlMode = BigInt(m[1]);
    else if ((m = /^use `(.*)`\/\*!\*\/;$/.exec(line))) out.use = m[1]!;
    else if (
      (m = /,@@session\.collation_connection=(\d+),@@session\.collation_server=(\d+)\/\*!\*\/;$/.exec(line))
    ) {
      out.collationConnection = Number(m[1]);
      out.collationServer = Number(m[2]);
    }
  }
  return out;
}
