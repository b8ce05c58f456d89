/** Transactions → Invalidation records and back: exact fields, ids, headers; malformed input refused. */
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import {
  Flavor,
  InvalidationAppliedSchema,
  InvalidationSchema,
} from '../../../src/gen/cachetail/v1/invalidation_pb.js';
import {
  appliedRecord,
  decodeApplied,
  decodeInvalidation,
  invalidationRecord,
  invalidationsOf,
  transactionId,
} from '../../../src/sinks/kafka/messages.js';
import type { ServerIdentity } from '../../../src/tailer/checkpoint.js';
import { txn } from './fakes.js';

const replica: ServerIdentity = { flavor: 'mariadb', serverId: 2, address: '127.0.0.1:3307' };
const ctx = { region: 'eu', source: replica };

describe('Invalidation messages', () => {
  it('one record per key: key = cache key, the schema in the headers, every field set', () => {
    const t = txn(42, ['user:1', 'team:9'], { writerTimeMs: 1_700_000_041_500 });
    const records = invalidationsOf(t, t.keys, 0, 2, ctx).map(invalidationRecord);
    expect(records.map((r) => r.key)).toEqual(['user:1', 'team:9']);
    expect(records[1]?.headers).toEqual({
      'content-type': 'application/x-protobuf; messageType=cachetail.v1.Invalidation',
      'cachetail-event-id': 'gtid:0-1-42#1',
    });
    const decoded = decodeInvalidation(Buffer.from(records[1]?.value ?? []), records[1]?.headers);
    expect({
      key: decoded.key,
      eventId: decoded.eventId,
      transactionId: decoded.transactionId,
      keyIndex: decoded.keyIndex,
      keyCount: decoded.keyCount,
      gtid: decoded.gtid,
      file: decoded.position?.file,
      position: decoded.position?.position,
      source: {
        flavor: decoded.source?.flavor,
        serverId: decoded.source?.serverId,
        uuid: decoded.source?.serverUuid,
      },
      originServerId: decoded.originServerId,
      commitSeconds: decoded.commitTime?.seconds,
      writerNanos: [decoded.writerTime?.seconds, decoded.writerTime?.nanos],
      originRegion: decoded.originRegion,
    }).toEqual({
      key: 'team:9',
      eventId: 'gtid:0-1-42#1',
      transactionId: 'gtid:0-1-42',
      keyIndex: 1,
      keyCount: 2,
      gtid: '0-1-42',
      file: 'mysql-bin.000001',
      position: 5200n,
      source: { flavor: Flavor.MARIADB, serverId: 2, uuid: '' },
      originServerId: 1,
      commitSeconds: 1_700_000_042n,
      writerNanos: [1_700_000_041n, 500_000_000],
      originRegion: 'eu',
    });
  });

  it('no writer timestamp in the annotation: writer_time absent', () => {
    const [inv] = invalidationsOf(txn(1, ['k']), ['k'], 0, 1, ctx);
    expect(inv?.writerTime).toBeUndefined();
  });

  it('without a GTID the transaction id is the binlog end on the source, qualified by the source', () => {
    expect(transactionId(txn(7, ['k'], { gtid: undefined }), replica)).toBe('pos:2:mysql-bin.000001:1700');
    const mysql: ServerIdentity = { flavor: 'mysql', serverId: 5, serverUuid: 'a1b2', address: 'x:1' };
    expect(transactionId(txn(7, ['k'], { gtid: undefined }), mysql)).toBe('pos:a1b2:mysql-bin.000001:1700');
    expect(transactionId(txn(7, ['k'], { gtid: '3e11fa47:7' }), mysql)).toBe('gtid:3e11fa47:7');
  });

  it('the same transaction read twice gives the same event ids', () => {
    const ids = () =>
      invalidationsOf(txn(9, ['a', 'b', 'c']), ['a', 'b', 'c'], 0, 3, ctx).map((i) => i.eventId);
    expect(ids()).toEqual(['gtid:0-1-9#0', 'gtid:0-1-9#1', 'gtid:0-1-9#2']);
    expect(ids()).toEqual(ids());
  });

  it('refuses what is not an Invalidation', () => {
    expect(() => decodeInvalidation(null)).toThrow(expect.objectContaining({ code: 'MALFORMED_MESSAGE' }));
    expect(() => decodeInvalidation(Buffer.from([0xff, 0xff, 0xff]))).toThrow(
      expect.objectContaining({ code: 'MALFORMED_MESSAGE' }),
    );
    const noKey = toBinary(InvalidationSchema, create(InvalidationSchema, { eventId: 'x#0' }));
    expect(() => decodeInvalidation(noKey)).toThrow('no key');
    const ok = toBinary(InvalidationSchema, create(InvalidationSchema, { key: 'k', eventId: 'x#0' }));
    expect(() =>
      decodeInvalidation(ok, {
        'content-type': 'application/x-protobuf; messageType=cachetail.v1.InvalidationApplied',
      }),
    ).toThrow('is not cachetail.v1.Invalidation');
    expect(decodeInvalidation(ok).key).toBe('k');
  });

  it('InvalidationApplied: key region/tailer, its own content type', () => {
    const msg = create(InvalidationAppliedSchema, {
      region: 'eu',
      tailerId: 'host-1',
      watermarkGtid: '0-1-42',
      watermarkPosition: { file: 'mysql-bin.000001', position: 5200n },
      appliedTime: timestampFromMs(1_700_000_000_000),
    });
    const r = appliedRecord(msg);
    expect(r.key).toBe('eu/host-1');
    expect(r.headers).toEqual({
      'content-type': 'application/x-protobuf; messageType=cachetail.v1.InvalidationApplied',
    });
    expect(decodeApplied(r.value).watermarkGtid).toBe('0-1-42');
  });
});
