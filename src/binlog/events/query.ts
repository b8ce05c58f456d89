import { Cursor } from '../cursor.js';
import { BinlogDecodeError } from '../errors.js';
import { EventType } from '../constants.js';
import type { BodyContext } from './context.js';
import { mariadbUncompress } from './mariadb-compression.js';
import type { EventHeader, QueryEvent, QueryStatusVars } from './types.js';

/*
 * QUERY (2) / MariaDB QUERY_COMPRESSED (165):
 *   post-header (13 bytes in v4): thread_id u32 | exec_time u32 | db_len u8 | error_code u16
 *                                 | status_vars_len u16 (absent when the post-header is 11 bytes)
 *   body: status_vars[status_vars_len] | db[db_len] | NUL | sql (to the end of the body)
 * For QUERY_COMPRESSED the sql part is a MariaDB compressed payload.
 *
 * Status variables are key u8 + a key-specific value, in no particular key order. A key we do not
 * know has no length, so decoding the block stops there (`unknownKey`) and the rest is skipped; the SQL
 * text is found through status_vars_len either way.
 *   MySQL:   0 FLAGS2 u32 | 1 SQL_MODE u64 | 2 CATALOG len u8 + str + NUL | 3 AUTO_INCREMENT u16 u16
 *            | 4 CHARSET u16 u16 u16 | 5 TIME_ZONE len u8 + str | 6 CATALOG_NZ len u8 + str
 *            | 7 LC_TIME_NAMES u16 | 8 CHARSET_DATABASE u16 | 9 TABLE_MAP_FOR_UPDATE u64
 *            | 10 MASTER_DATA_WRITTEN u32 | 11 INVOKER len u8 + user + len u8 + host
 *            | 12 UPDATED_DB_NAMES count u8 (254 = too many) + count × NUL-terminated name
 *            | 13 MICROSECONDS u24 | 16 EXPLICIT_DEFAULTS_FOR_TIMESTAMP u8 | 17 DDL_LOGGED_WITH_XID u64
 *            | 18 DEFAULT_COLLATION_FOR_UTF8MB4 u16 | 19 SQL_REQUIRE_PRIMARY_KEY u8
 *            | 20 DEFAULT_TABLE_ENCRYPTION u8
 *   MariaDB: 128 HRNOW u24 | 129 XID u64 | 130 GTID_FLAGS3 u8 (+ u64 start-alter seq_no when flags3 has
 *            COMMIT_ALTER 4 or ROLLBACK_ALTER 8) | 131 CHARACTER_SET_COLLATIONS count u8 + count × 4
 */
export function decodeQuery(c: Cursor, header: EventHeader, ctx: BodyContext): QueryEvent {
  const postHeader = ctx.postHeaderLength(header.typeCode) || 13;
  const start = c.pos;
  const threadId = c.u32('thread_id');
  const execTime = c.u32('exec_time');
  const dbLen = c.u8('db_len');
  const errorCode = c.u16('error_code');
  const statusLen = postHeader >= 13 ? c.u16('status_vars_len') : 0;
  c.pos = start;
  c.skip(postHeader, 'query post-header');
  const statusEnd = c.pos + statusLen;
  c.need(statusLen, 'status vars');
  const statusVars = decodeStatusVars(c, statusEnd);
  c.pos = statusEnd;
  const db = c.str(dbLen, 'db');
  c.skip(1, 'db NUL');
  const compressed = header.typeCode === EventType.MARIA_QUERY_COMPRESSED;
  const sql = compressed ? mariadbUncompress(c.rest()).toString('utf8') : c.restStr();
  return { kind: 'query', header, threadId, execTime, errorCode, db, sql, statusVars, compressed };
}

function decodeStatusVars(c: Cursor, end: number): QueryStatusVars {
  const v: QueryStatusVars = {};
  const sub = new Cursor(c.buf, c.pos, end);
  let key = -1;
  try {
    while (sub.pos < end) {
      key = sub.u8('status var key');
      if (!decodeStatusVar(sub, key, v)) {
        v.unknownKey = key;
        return v;
      }
    }
  } catch (err) {
    // A value running past the block: the SQL text is still located through status_vars_len, so keep
    // what was decoded and say where it stopped rather than fail the event.
    if (!(err instanceof BinlogDecodeError)) throw err;
    v.malformedKey = key;
  }
  return v;
}

/** Decodes one status variable into `v`; false for a key we do not know. */
function decodeStatusVar(sub: Cursor, key: number, v: QueryStatusVars): boolean {
  {
    switch (key) {
      case 0:
        v.flags2 = sub.u32('FLAGS2');
        break;
      case 1:
        v.sqlMode = sub.u64('SQL_MODE');
        break;
      case 2:
        v.catalog = sub.str(sub.u8('CATALOG length'), 'CATALOG');
        sub.skip(1, 'CATALOG NUL');
        break;
      case 3:
        v.autoIncrementIncrement = sub.u16('AUTO_INCREMENT');
        v.autoIncrementOffset = sub.u16('AUTO_INCREMENT');
        break;
      case 4:
        v.charset = {
          client: sub.u16('CHARSET'),
          collationConnection: sub.u16('CHARSET'),
          collationServer: sub.u16('CHARSET'),
        };
        break;
      case 5:
        v.timeZone = sub.str(sub.u8('TIME_ZONE length'), 'TIME_ZONE');
        break;
      case 6:
        v.catalog = sub.str(sub.u8('CATALOG_NZ length'), 'CATALOG_NZ');
        break;
      case 7:
        v.lcTimeNames = sub.u16('LC_TIME_NAMES');
        break;
      case 8:
        v.charsetDatabase = sub.u16('CHARSET_DATABASE');
        break;
      case 9:
        v.tableMapForUpdate = sub.u64('TABLE_MAP_FOR_UPDATE');
        break;
      case 10:
        v.masterDataWritten = sub.u32('MASTER_DATA_WRITTEN');
        break;
      case 11: {
        const user = sub.str(sub.u8('INVOKER user length'), 'INVOKER user');
        const host = sub.str(sub.u8('INVOKER host length'), 'INVOKER host');
        v.invoker = { user, host };
        break;
      }
      case 12: {
        const count = sub.u8('UPDATED_DB_NAMES count');
        if (count === 254) {
          v.updatedDbNames = null;
        } else {
          const names: string[] = [];
          for (let i = 0; i < count; i++) names.push(sub.cstr('UPDATED_DB_NAMES name'));
          v.updatedDbNames = names;
        }
        break;
      }
      case 13:
        v.microseconds = sub.u24('MICROSECONDS');
        break;
      case 16:
        v.explicitDefaultsForTimestamp = sub.u8('EXPLICIT_DEFAULTS_FOR_TIMESTAMP');
        break;
      case 17:
        v.ddlLoggedWithXid = sub.u64('DDL_LOGGED_WITH_XID');
        break;
      case 18:
        v.defaultCollationForUtf8mb4 = sub.u16('DEFAULT_COLLATION_FOR_UTF8MB4');
        break;
      case 19:
        v.sqlRequirePrimaryKey = sub.u8('SQL_REQUIRE_PRIMARY_KEY');
        break;
      case 20:
        v.defaultTableEncryption = sub.u8('DEFAULT_TABLE_ENCRYPTION');
        break;
      case 128:
        v.hrnow = sub.u24('HRNOW');
        break;
      case 129:
        v.xid = sub.u64('XID');
        break;
      case 130: {
        const flags3 = sub.u8('GTID_FLAGS3');
        v.gtidFlags3 = flags3;
        if ((flags3 & (0x04 | 0x08)) !== 0) v.startAlterSeqNo = sub.u64('GTID_FLAGS3 seq_no');
        break;
      }
      case 131: {
        const count = sub.u8('CHARACTER_SET_COLLATIONS count');
        v.characterSetCollations = sub.bytes(count * 4, 'CHARACTER_SET_COLLATIONS');
        break;
      }
      default:
        return false;
    }
  }
  return true;
}
