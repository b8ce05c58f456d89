/**
 * What a server logged for one transaction, as SHOW BINLOG EVENTS prints it: `Event_type: Info` per event
 * of the GTID's group, in order, across every binary log of the server.
 */
import type { RowDataPacket } from 'mysql2/promise';

type Query = (sql: string) => Promise<RowDataPacket[]>;

export async function eventsOfGtid(query: Query, gtid: string): Promise<string[]> {
  // The GTID event's text: MariaDB `BEGIN GTID 0-1-5` (`GTID 0-1-5` for DDL), MySQL
  // `SET @@SESSION.GTID_NEXT= 'uuid:5'`. A GTID has no regex metacharacters; the bounds keep 0-1-5 from
  // matching 0-1-57.
  const names = new RegExp(`(^|[\\s'])${gtid}($|[\\s'])`);
  const out: string[] = [];
  for (const f of await query('SHOW BINARY LOGS')) {
    let inGroup = false;
    for (const e of await query(`SHOW BINLOG EVENTS IN '${String(f.Log_name)}'`)) {
      if (e.Event_type === 'Gtid') inGroup = names.test(String(e.Info));
      if (inGroup) out.push(`${String(e.Event_type)}: ${String(e.Info)}`);
    }
  }
  return out;
}
