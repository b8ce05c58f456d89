/**
 * Committed transactions → Kafka records of the cachetail.v1 schema (proto/cachetail/v1/), and back.
 *
 * One record per key of a transaction: message key = cache key (one key's records share a partition,
 * so they stay in commit order), value = Invalidation, headers name the schema. The de-duplication id
 * is built only from what the binlog fixes — the transaction's GTID (or its binlog coordinates) and the
 * key's index in the transaction — so reading the same transaction again yields the same ids.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  Flavor,
  InvalidationAppliedSchema,
  InvalidationSchema,
  SourceServerSchema,
  type Invalidation,
  type InvalidationApplied,
  type SourceServer,
} from '../../gen/cachetail/v1/invalidation_pb.js';
import { CachetailError, errorMessage } from '../../errors.js';
import type { ServerIdentity } from '../../contracts/server.js';
import type { CommittedTransaction } from '../sink.js';
import type { KafkaRecord } from './producer.js';

export const INVALIDATION_TYPE = 'cachetail.v1.Invalidation';
export const APPLIED_TYPE = 'cachetail.v1.InvalidationApplied';
export const CONTENT_TYPE_HEADER = 'content-type';
/** The event id again, so a consumer can drop a duplicate without decoding it. */
export const EVENT_ID_HEADER = 'cachetail-event-id';

export const contentType = (messageType: string) => `application/x-protobuf; messageType=${messageType}`;

export function sourceServer(identity: ServerIdentity | null): SourceServer {
  return create(SourceServerSchema, {
    flavor:
      identity?.flavor === 'mariadb'
        ? Flavor.MARIADB
        : identity?.flavor === 'mysql'
          ? Flavor.MYSQL
          : Flavor.UNSPECIFIED,
    serverId: identity?.serverId ?? 0,
    serverUuid: identity?.serverUuid ?? '',
  });
}

/**
 * `gtid:<gtid>` when the transaction has one (the same on every server of the topology), else its end
 * in the source's binlog, qualified by the source (a position means nothing on another server).
 */
export function transactionId(txn: CommittedTransaction, source: ServerIdentity | null): string {
  if (txn.gtid !== undefined && txn.gtid !== '') return `gtid:${txn.gtid}`;
  const server = source?.serverUuid || String(source?.serverId ?? txn.serverId);
  return `pos:${server}:${txn.file}:${txn.nextPosition}`;
}

export const eventId = (transaction: string, keyIndex: number) => `${transaction}#${keyIndex}`;

export interface InvalidationContext {
  region: string;
  source: ServerIdentity | null;
}

/**
 * The Invalidations of `keys`, which are the transaction's keys from index `firstIndex` on (all of them,
 * or one chunk of a spilled transaction); `keyCount` is their total (0 when unknown).
 */
export function invalidationsOf(
  txn: CommittedTransaction,
  keys: readonly string[],
  firstIndex: number,
  keyCount: number,
  ctx: InvalidationContext,
): Invalidation[] {
  const id = transactionId(txn, ctx.source);
  const source = sourceServer(ctx.source);
  return keys.map((key, i) =>
    create(InvalidationSchema, {
      key,
      eventId: eventId(id, firstIndex + i),
      transactionId: id,
      keyIndex: firstIndex + i,
      keyCount,
      gtid: txn.gtid ?? '',
      position: { file: txn.file, position: BigInt(txn.nextPosition) },
      source,
      originServerId: txn.serverId,
      commitTime: timestampFromMs(txn.commitTimeMs),
      ...(txn.writerTimeMs !== undefined ? { writerTime: timestampFromMs(txn.writerTimeMs) } : {}),
      originRegion: ctx.region,
    }),
  );
}

export function invalidationRecord(inv: Invalidation): KafkaRecord {
  return {
    key: inv.key,
    value: toBinary(InvalidationSchema, inv),
    headers: { [CONTENT_TYPE_HEADER]: contentType(INVALIDATION_TYPE), [EVENT_ID_HEADER]: inv.eventId },
  };
}

export function appliedRecord(applied: InvalidationApplied): KafkaRecord {
  return {
    key: appliedKey(applied.region, applied.tailerId),
    value: toBinary(InvalidationAppliedSchema, applied),
    headers: { [CONTENT_TYPE_HEADER]: contentType(APPLIED_TYPE) },
  };
}

/** Key of a tailer's InvalidationApplied records: compaction keeps the latest one per tailer. */
export const appliedKey = (region: string, tailerId: string) => `${region}/${tailerId}`;

type Headers = Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;

function header(headers: Headers | undefined, name: string): string | undefined {
  const v = headers?.[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
}

/**
 * An Invalidation from a record, checked: the content type (when present) must name it, and the key
 * and event id must be there. Anything else is MALFORMED_MESSAGE: not an invalidation we can apply.
 */
export function decodeInvalidation(value: Uint8Array | null, headers?: Headers): Invalidation {
  const ct = header(headers, CONTENT_TYPE_HEADER);
  // Exact match: `…InvalidationApplied` starts with `…Invalidation`.
  if (ct !== undefined && /messageType=([^;\s]+)/.exec(ct)?.[1] !== INVALIDATION_TYPE) {
    throw malformed(`content-type ${JSON.stringify(ct)} is not ${INVALIDATION_TYPE}`);
  }
  if (!value) throw malformed('empty value');
  let inv: Invalidation;
  try {
    inv = fromBinary(InvalidationSchema, value);
  } catch (err) {
    throw malformed(`not a ${INVALIDATION_TYPE}: ${errorMessage(err)}`);
  }
  if (inv.key === '') throw malformed('no key');
  if (inv.eventId === '') throw malformed('no event_id');
  return inv;
}

export function decodeApplied(value: Uint8Array): InvalidationApplied {
  return fromBinary(InvalidationAppliedSchema, value);
}

function malformed(why: string): CachetailError {
  return new CachetailError('MALFORMED_MESSAGE', why);
}
