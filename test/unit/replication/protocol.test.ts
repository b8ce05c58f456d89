import { describe, expect, it } from 'vitest';
import {
  encodeBinlogDump,
  encodeRegisterReplica,
  parseStreamPacket,
} from '../../../src/replication/protocol.js';

describe('replication packets', () => {
  it('encodes COM_REGISTER_SLAVE byte for byte', () => {
    const p = encodeRegisterReplica({ serverId: 0x01020304, host: 'h', user: 'u', password: '', port: 3307 });
    expect(p.toString('hex')).toBe(
      '15' + '04030201' + '01' + '68' + '01' + '75' + '00' + 'eb0c' + '00000000' + '00000000',
    );
  });

  it('encodes COM_BINLOG_DUMP byte for byte', () => {
    const p = encodeBinlogDump({ serverId: 7000, file: 'bin.000002', position: 0x1234, flags: 2 });
    expect(p.toString('hex')).toBe(
      '12' + '34120000' + '0200' + '581b0000' + Buffer.from('bin.000002').toString('hex'),
    );
  });

  it('refuses a position that does not fit 32 bits', () => {
    expect(() => encodeBinlogDump({ serverId: 1, file: 'f', position: 2 ** 32, flags: 0 })).toThrow(
      expect.objectContaining({ code: 'PROTOCOL_POSITION_RANGE' }),
    );
  });

  it('splits stream packets: event, semi-sync event, EOF, error', () => {
    const ev = Buffer.from([1, 2, 3]);
    expect(parseStreamPacket(Buffer.concat([Buffer.from([0]), ev]), false)).toEqual({
      kind: 'event',
      event: ev,
      ackRequested: false,
    });
    expect(parseStreamPacket(Buffer.concat([Buffer.from([0, 0xef, 1]), ev]), true)).toEqual({
      kind: 'event',
      event: ev,
      ackRequested: true,
    });
    expect(parseStreamPacket(Buffer.from([0xfe, 0, 0, 2, 0]), false)).toEqual({ kind: 'eof' });
    const err = Buffer.concat([Buffer.from([0xff, 0xd4, 0x04]), Buffer.from('#HY000boom')]);
    expect(parseStreamPacket(err, false)).toEqual({ kind: 'error', message: 'boom' });
  });
});
