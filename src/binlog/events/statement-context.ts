import type { Cursor } from '../cursor.js';
import type { EventHeader, IntvarEvent, RandEvent, UserVarEvent } from './types.js';

/*
 * Events that carry session state for the statement-format QUERY that follows them.
 *
 * INTVAR (5):  type u8 (1 LAST_INSERT_ID, 2 INSERT_ID) | value u64
 * RAND (13):   seed1 u64 | seed2 u64
 * USER_VAR (14): name_length u32 | name | is_null u8
 *                | unless NULL: value_type u8 | charset u32 | value_length u32 | value
 *                | flags u8 (5.6+, when bytes remain; 1 = UNSIGNED)
 */
export function decodeIntvar(c: Cursor, header: EventHeader): IntvarEvent {
  return { kind: 'intvar', header, intvarType: c.u8('intvar type'), value: c.u64('intvar value') };
}

export function decodeRand(c: Cursor, header: EventHeader): RandEvent {
  return { kind: 'rand', header, seed1: c.u64('rand seed1'), seed2: c.u64('rand seed2') };
}

export function decodeUserVar(c: Cursor, header: EventHeader): UserVarEvent {
  const name = c.str(c.u32('user var name length'), 'user var name');
  const isNull = c.u8('user var is_null') !== 0;
  if (isNull) {
    return {
      kind: 'user_var',
      header,
      name,
      isNull,
      valueType: undefined,
      charset: undefined,
      value: undefined,
      flags: 0,
    };
  }
  const valueType = c.u8('user var type');
  const charset = c.u32('user var charset');
  const value = c.bytes(c.u32('user var value length'), 'user var value');
  const flags = c.remaining > 0 ? c.u8('user var flags') : 0;
  return { kind: 'user_var', header, name, isNull, valueType, charset, value, flags };
}
