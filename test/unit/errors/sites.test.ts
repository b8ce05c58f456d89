/**
 * Errors that used to be plain Errors now carry a registered code, and the log lines that report an
 * error carry it next to the message.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { kafkaErrorFields } from '../../../src/sinks/kafka/client.js';
import type { GroupResult, ServerConnection } from '../../../src/sinks/memcached/connection.js';
import { KetamaContinuum } from '../../../src/sinks/memcached/ketama.js';
import { encodeGroup, ResponseReader, type GroupRequest } from '../../../src/sinks/memcached/protocol.js';
import { createRouter, parseServer } from '../../../src/sinks/memcached/routing.js';
import { MemcachedSink } from '../../../src/sinks/memcached/sink.js';
import { CachetailError } from '../../../src/errors.js';

function thrown(fn: () => unknown): { code: unknown; message: string; retryable: unknown } {
  try {
    fn();
  } catch (err) {
    const e = err as CachetailError;
    expect(e).toBeInstanceOf(CachetailError);
    return { code: e.code, message: e.message, retryable: e.retryable };
  }
  throw new Error('expected a CachetailError');
}

describe('memcached routing and ketama', () => {
  const servers = ['a:11211', 'b:11211'].map(parseServer);

  it('a configuration they cannot route is CONFIG_INVALID, not retryable', () => {
    expect([
      thrown(() => parseServer('nohost')),
      thrown(() => createRouter('memjs', [])),
      thrown(() => createRouter('ketama', servers, [1])),
      thrown(() => createRouter('memjs', servers, [1, 2])),
      thrown(() => new KetamaContinuum([])),
    ]).toEqual([
      {
        code: 'CONFIG_INVALID',
        message: 'memcached server "nohost": expected host:port with a port 1-65535',
        retryable: false,
      },
      { code: 'CONFIG_INVALID', message: 'memcached: no servers configured', retryable: false },
      { code: 'CONFIG_INVALID', message: 'memcached: 1 weights for 2 servers', retryable: false },
      {
        code: 'CONFIG_INVALID',
        message: 'memcached: weights only apply to ketama hashing, not memjs',
        retryable: false,
      },
      { code: 'CONFIG_INVALID', message: 'ketama: no servers', retryable: false },
    ]);
  });
});

describe('memcached protocol', () => {
  it('an answer that is not a response is MEMCACHED_PROTOCOL (the connection is reopened: retryable)', () => {
    const reader = new ResponseReader();
    expect(thrown(() => reader.push(Buffer.from('VERSION 1.6\r\n'.padEnd(24)), () => undefined))).toEqual({
      code: 'MEMCACHED_PROTOCOL',
      message: 'memcached: bad response magic 0x56',
      retryable: true,
    });
  });

  it('a key the sink should have filtered out is INTERNAL', () => {
    expect(thrown(() => encodeGroup({ kind: 'delete', keys: ['x'.repeat(251)] }, 0))).toEqual({
      code: 'INTERNAL',
      message: 'memcached key of 251 bytes',
      retryable: false,
    });
  });
});

/** A server that answers every delete of its first `refusals` groups with status 0x82 (out of memory). */
class OutOfMemoryServer implements ServerConnection {
  readonly address = 'a:11211';
  groups = 0;
  constructor(private readonly refusals: number) {}
  send(group: GroupRequest): Promise<GroupResult> {
    const failures = new Map<number, number>();
    if (group.kind === 'delete' && this.groups++ < this.refusals)
      group.keys.forEach((_, i) => failures.set(i, 0x82));
    return Promise.resolve({ failures });
  }
  close(): void {}
}

describe('memcached lane', () => {
  it('retries a delete answered with an error status, logging MEMCACHED_ERROR_STATUS with the message', async () => {
    const lines: Record<string, unknown>[] = [];
    const raw: string[] = [];
    const log = createLogger(
      'debug',
      new Writable({
        write(chunk: Buffer, _enc, done) {
          raw.push(chunk.toString());
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    );
    const server = new OutOfMemoryServer(1);
    const sink = new MemcachedSink({
      servers: [server.address],
      timeoutMs: 100,
      log,
      backoff: { initialMs: 1, maxMs: 1 },
      connect: () => server,
    });
    await sink.deliver({ transactions: [], keys: ['user:1'] }, new AbortController().signal);
    await sink.close();
    expect(server.groups).toBe(2);
    expect(
      lines
        .filter((l) => l.msg === 'memcached deletes failed; retrying')
        .map((l) => [l.server, l.code, l.err]),
    ).toEqual([['a:11211', 'MEMCACHED_ERROR_STATUS', 'memcached a:11211: status 0x82 for a delete']]);
    // The lane's child logger carries `server`; no line repeats the key (JSON with a duplicated key).
    const retry = raw.filter((l) => l.includes('memcached deletes failed; retrying'));
    expect(retry.map((l) => l.match(/"server":/g)?.length)).toEqual([1]);
  });
});

describe('kafkaErrorFields', () => {
  it('classifies a Kafka error for the log line; our own error keeps its code', () => {
    class KafkaJSConnectionError extends Error {
      override name = 'KafkaJSConnectionError';
    }
    expect(kafkaErrorFields(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'))).toEqual({
      err: 'Connection error: connect ECONNREFUSED',
      code: 'KAFKA_UNAVAILABLE',
    });
    expect(kafkaErrorFields(new Error('Not authorized to access topics'))).toEqual({
      err: 'Not authorized to access topics',
      code: 'KAFKA_REFUSED',
    });
    expect(kafkaErrorFields(new CachetailError('STOPPED', 'delivery aborted'))).toEqual({
      err: 'delivery aborted',
      code: 'STOPPED',
    });
  });
});
