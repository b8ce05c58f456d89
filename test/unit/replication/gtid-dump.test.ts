/**
 * COM_BINLOG_DUMP_GTID and the binary GTID set it carries (MySQL `Gtid_set::encode`). The set layout is
 * the PREVIOUS_GTIDS body, so every encoding is also read back with the binlog decoder's own parser:
 * the encoder must be its exact inverse, untagged and tagged (8.3+).
 */
import { describe, expect, it } from 'vitest';
import { buildEvent, buildFormatDescription, buildMysqlGtidTagged } from '../../helpers/binlog/index.js';
import { EventType } from '../../../src/binlog/constants.js';
import { Cursor } from '../../../src/binlog/cursor.js';
import { MYSQL_8_0_POST_HEADER_LENGTHS } from '../../../src/binlog/events/context.js';
import { decodePreviousGtids } from '../../../src/binlog/events/mysql-gtid.js';
import { decodeHeader } from '../../../src/binlog/header.js';
import {
  BinlogDecoder,
  GtidState,
  MAX_GNO,
  normalizeMysqlGtidSet,
  parseMysqlGtidSet,
  type MysqlGtidSet,
} from '../../../src/binlog/index.js';
import {
  COM_BINLOG_DUMP_GTID,
  encodeBinlogDumpGtid,
  encodeMysqlGtidSet,
} from '../../../src/replication/protocol.js';

const U1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const U1_HEX = '3e11fa4771ca11e19e33c80aa9429562';
const U2 = '00000000-0000-0000-0000-000000000001';

const u64 = (v: bigint | number): string => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b.toString('hex');
};

/** Reads an encoded set back through the PREVIOUS_GTIDS decoder, as a PREVIOUS_GTIDS event body. */
function decodeBack(data: Buffer): { tagged: boolean; set: MysqlGtidSet; text: string } {
  const ev = buildEvent(EventType.PREVIOUS_GTIDS, data, { checksum: 'none' });
  const c = new Cursor(ev, 19);
  const decoded = decodePreviousGtids(c, decodeHeader(ev));
  expect(c.remaining).toBe(0);
  return { tagged: decoded.tagged, set: normalizeMysqlGtidSet(decoded.sids), text: decoded.gtidSet };
}

describe('encodeMysqlGtidSet', () => {
  it('the empty set is n_sids = 0 and nothing else', () => {
    expect(encodeMysqlGtidSet(parseMysqlGtidSet('')).toString('hex')).toBe(u64(0));
  });

  it('untagged: n_sids, then uuid, n_intervals and [start, end) pairs (end exclusive)', () => {
    const data = encodeMysqlGtidSet(parseMysqlGtidSet(`${U1}:1-5:7`));
    expect(data.toString('hex')).toBe(u64(1) + U1_HEX + u64(2) + u64(1) + u64(6) + u64(7) + u64(8));
  });

  it('untagged with two UUIDs: in UUID order whatever the input order, intervals merged', () => {
    const data = encodeMysqlGtidSet(parseMysqlGtidSet(`${U1}:3-4:1-2, ${U2}:9`));
    expect(data.toString('hex')).toBe(
      u64(2) +
        '00000000000000000000000000000001' +
        u64(1) +
        u64(9) +
        u64(10) +
        U1_HEX +
        u64(1) +
        u64(1) +
        u64(5),
    );
  });

  it('tagged (any tag in the set): format byte 1 on top and at the bottom, n_sids in between, a varlen tag length per sid', () => {
    const data = encodeMysqlGtidSet(parseMysqlGtidSet(`${U1}:1-2:Tag_A:5`));
    expect(data.toString('hex')).toBe(
      '0102000000000001' + // (1 << 56) | (2 << 8) | 1
        U1_HEX +
        '00' + // untagged: tag length 0
        u64(1) +
        u64(1) +
        u64(3) +
        U1_HEX +
        '0a' + // varlen 5 = 5 << 1
        Buffer.from('tag_a').toString('hex') + // tags are kept lower-case, as MySQL does
        u64(1) +
        u64(5) +
        u64(6),
    );
  });

  it('a 32-character tag (the longest MySQL allows) still has a one-byte length', () => {
    const tag = `t${'x'.repeat(31)}`;
    const data = encodeMysqlGtidSet(parseMysqlGtidSet(`${U2}:${tag}:1`));
    expect(data.subarray(8 + 16, 8 + 17).toString('hex')).toBe('40'); // 32 << 1
    expect(data.subarray(8 + 17, 8 + 17 + 32).toString()).toBe(tag);
  });

  it('refuses an entry whose uuid is not a UUID', () => {
    expect(() =>
      encodeMysqlGtidSet([{ uuid: 'nope', tag: undefined, intervals: [{ start: 1n, end: 2n }] }]),
    ).toThrow(expect.objectContaining({ code: 'PROTOCOL_FIELD_INVALID' }));
  });

  describe('round trip through the PREVIOUS_GTIDS decoder', () => {
    const cases: [string, string, boolean][] = [
      ['empty', '', false],
      ['one interval', `${U1}:1-100`, false],
      ['holes and two UUIDs', `${U1}:1-5:7:9-12,${U2}:1-3:20`, false],
      ['largest gno', `${U2}:${MAX_GNO - 1n}-${MAX_GNO}`, false],
      ['tagged only', `${U1}:blue:1-4`, true],
      ['tagged and untagged, several tags per UUID', `${U1}:1-5:alpha:1-2:7:zeta:3,${U2}:_x9:10-11`, true],
    ];
    for (const [name, text, tagged] of cases) {
      it(name, () => {
        const set = parseMysqlGtidSet(text);
        const back = decodeBack(encodeMysqlGtidSet(set));
        expect(back.tagged).toBe(tagged);
        expect(back.set).toEqual(set);
        expect(GtidState.fromMysqlSet(back.set).toString()).toBe(GtidState.fromMysqlSet(set).toString());
      });
    }

    it('random sets (seeded)', () => {
      let s = 42;
      const rnd = (n: number): number => {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        return s % n;
      };
      for (let round = 0; round < 200; round++) {
        let state = GtidState.empty('mysql');
        for (let i = rnd(20); i > 0; i--) {
          const uuid = rnd(2) === 0 ? U1 : U2;
          const tag = [undefined, 'a', 'b_2'][rnd(3)];
          state = state.add({ uuid, tag, gno: BigInt(1 + rnd(40)) });
        }
        const set = state.mysqlSet!;
        const back = decodeBack(encodeMysqlGtidSet(set));
        expect(back.set).toEqual(set);
        expect(back.tagged).toBe(set.some((e) => e.tag !== undefined));
      }
    });
  });
});

describe('encodeBinlogDumpGtid', () => {
  it('encodes COM_BINLOG_DUMP_GTID byte for byte', () => {
    const gtidSet = parseMysqlGtidSet(`${U1}:1-5:7`);
    const p = encodeBinlogDumpGtid({ serverId: 7000, file: '', position: 4, flags: 0, gtidSet });
    expect(p.toString('hex')).toBe(
      '1e' + // COM_BINLOG_DUMP_GTID
        '0000' + // flags: none (bit 2 would be SKIP_TAGGED_GTIDS on MySQL 8.3+)
        '581b0000' + // server_id 7000
        '00000000' + // name_size 0: auto-positioning
        u64(4) + // pos
        '40000000' + // data_size 64 = 8 + 16 + 8 + 2 × 16
        u64(1) +
        U1_HEX +
        u64(2) +
        u64(1) +
        u64(6) +
        u64(7) +
        u64(8),
    );
    expect(p[0]).toBe(COM_BINLOG_DUMP_GTID);
  });

  it('with a file name and a tagged set: name_size and data_size frame them', () => {
    const gtidSet = parseMysqlGtidSet(`${U1}:t:1`);
    const p = encodeBinlogDumpGtid({
      serverId: 1,
      file: 'bin.000003',
      position: 0x1_0000_0004,
      flags: 1,
      gtidSet,
    });
    expect(p.readUInt16LE(1)).toBe(1);
    expect(p.readUInt32LE(7)).toBe(10);
    expect(p.subarray(11, 21).toString()).toBe('bin.000003');
    expect(p.readBigUInt64LE(21)).toBe(0x1_0000_0004n);
    const size = p.readUInt32LE(29);
    expect(p.length).toBe(33 + size);
    expect(decodeBack(p.subarray(33)).set).toEqual(gtidSet);
  });

  it('refuses a position below 4 (the server would)', () => {
    expect(() =>
      encodeBinlogDumpGtid({ serverId: 1, file: '', position: 0, flags: 0, gtidSet: parseMysqlGtidSet('') }),
    ).toThrow(expect.objectContaining({ code: 'PROTOCOL_POSITION_RANGE' }));
  });
});

describe('tagged GTIDs (8.3+, SET gtid_next = AUTOMATIC:<tag>) from event to dump packet', () => {
  it('GTID_TAGGED → GtidState.add → text (checkpoint) → parse → COM_BINLOG_DUMP_GTID → decoder', () => {
    const decoder = new BinlogDecoder({ checksumBeforeFde: 'detect' });
    decoder.decode(
      buildFormatDescription({ serverVersion: '9.7.0', postHeaderLengths: MYSQL_8_0_POST_HEADER_LENGTHS }),
    );
    const ev = decoder.decode(buildMysqlGtidTagged({ sid: U1.toUpperCase(), tag: 'Orders_1', gno: 5n }));
    if (ev.kind !== 'mysql_gtid') throw new Error(`decoded ${ev.kind}`);
    expect(ev.tagged).toBe(true);

    // The tailer adds the transaction's GTID text; the event object gives the same state.
    const base = GtidState.parse(`${U1}:1-3:orders_1:1-4`, 'mysql');
    const state = base.add(ev.gtid);
    expect(base.add(ev)).toEqual(state);
    const text = state.toString();
    expect(text).toBe(`${U1}:1-3:orders_1:1-5`);
    expect(state.hasReached(`${U1}:ORDERS_1:5`)).toBe(true);
    expect(state.hasReached(`${U1}:5`)).toBe(false);

    const parsed = GtidState.parse(text);
    expect(parsed.equals(state)).toBe(true);
    const packet = encodeBinlogDumpGtid({
      serverId: 1,
      file: '',
      position: 4,
      flags: 0,
      gtidSet: parseMysqlGtidSet(text),
    });
    const back = decodeBack(packet.subarray(23)); // 1 + 2 + 4 + 4 + 0 (no name) + 8 + 4
    expect(back.tagged).toBe(true);
    // The decoded set's text is MySQL's (one entry per uuid, tags after its untagged intervals).
    expect(back.text).toBe(text);
    expect(GtidState.fromMysqlSet(back.set).toString()).toBe(text);
  });
});
