/**
 * A refusal is not retried: a start or reconnect refused by the login, TLS or the preflight marks the
 * tailer failed and `refused` (alive, not ready, /status naming the fix); an unreachable replica is
 * retryable and leaves the tailer connecting, so `cachetail tail` keeps trying.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CachetailError } from '../../../src/errors.js';
import { createLogger } from '../../../src/observability/logger.js';
import { liveness, readiness } from '../../../src/observability/status.js';
import type { ReplicationConnection, StartPosition } from '../../../src/replication/client.js';
import type { Sink } from '../../../src/sinks/sink.js';
import { tailerStatus } from '../../../src/tailer/status.js';
import { Tailer } from '../../../src/tailer/tailer.js';

/** Answers what the tailer asks before a dump; records whether it was closed. */
class FakeConnection {
  readonly flavor = 'mariadb';
  readonly serverVersion = '10.11.19-MariaDB-log';
  closed = false;
  dumps: StartPosition[] = [];
  private onEnd: ((err?: Error) => void) | null = null;

  query(sql: string): Promise<unknown[]> {
    if (sql.startsWith('SELECT @@server_id')) return Promise.resolve([{ id: 2 }]);
    if (sql.startsWith('SELECT @@global.gtid')) return Promise.resolve([{ g: '0-1-5' }]);
    if (sql.startsWith('SHOW')) return Promise.resolve([{ File: 'bin.000001', Position: 400 }]);
    return Promise.reject(new Error(`unexpected statement ${sql}`));
  }

  startDump(_s: unknown, start: StartPosition, handlers: { onEnd(err?: Error): void }): Promise<void> {
    this.dumps.push(start);
    this.onEnd = (err) => handlers.onEnd(err);
    return Promise.resolve();
  }

  drop(): void {
    this.onEnd?.(new Error('read ECONNRESET'));
  }

  pause(): void {}
  resume(): void {}
  close(): void {
    this.closed = true;
  }
}

const DENIED = new CachetailError(
  'REPLICATION_ACCESS_DENIED',
  "cannot connect to replica:3306 as u: server error 1045: Access denied for user 'u'@'h' (using password: YES). Fix: check source.user …",
  { retryable: false },
);
const REFUSED_PREFLIGHT = new CachetailError('PREFLIGHT_FAILED', 'preflight refused replica:3306 …', {
  retryable: false,
});
const UNREACHABLE = new CachetailError(
  'REPLICATION_CONNECT',
  'cannot connect to replica:3306 as u: ECONNREFUSED',
  {
    retryable: true,
  },
);

const tailers: Tailer[] = [];
afterEach(async () => {
  for (const t of tailers.splice(0)) await t.stop(100).catch(() => undefined);
});

function makeTailer(
  connect: () => Promise<FakeConnection>,
  preflight: (n: number) => Promise<void> = () => Promise.resolve(),
): Tailer {
  let checks = 0;
  const sink: Sink = { name: 'null', deliver: () => Promise.resolve(), close: () => Promise.resolve() };
  const tailer = new Tailer({
    source: {
      host: 'replica',
      port: 3306,
      user: 'u',
      password: '',
      serverId: 9,
      connectTimeoutMs: 1_000,
      heartbeatMs: 0,
    },
    start: { kind: 'current' },
    sink,
    extract: () => ({ keys: [] }),
    log: createLogger('silent'),
    connect: () => connect() as unknown as Promise<ReplicationConnection>,
    preflight: () => preflight(checks++),
    maxBatchKeys: 10,
    maxPendingTransactions: 10,
    reconnect: { initialMs: 1, maxMs: 1 },
  });
  tailers.push(tailer);
  return tailer;
}

const status = (t: Tailer) => tailerStatus(t, 'eu', null);

describe('a refused start', () => {
  it('a refused login: failed, refused, alive and not ready with the fix', async () => {
    const tailer = makeTailer(() => Promise.reject(DENIED));
    await expect(tailer.start()).rejects.toBe(DENIED);
    expect({ state: tailer.state, refused: tailer.refused, lastError: tailer.lastError }).toEqual({
      state: 'failed',
      refused: true,
      lastError: DENIED,
    });
    const s = status(tailer);
    expect(liveness(s)).toEqual({ alive: true });
    expect(readiness(s)).toEqual({
      ready: false,
      reason: 'failed',
      message: `REPLICATION_ACCESS_DENIED: ${DENIED.message}`,
    });
  });

  it('a failed preflight: the connection is closed, the tailer failed and refused', async () => {
    const conn = new FakeConnection();
    const tailer = makeTailer(
      () => Promise.resolve(conn),
      () => Promise.reject(REFUSED_PREFLIGHT),
    );
    await expect(tailer.start()).rejects.toBe(REFUSED_PREFLIGHT);
    expect([tailer.state, tailer.refused, conn.closed, conn.dumps]).toEqual(['failed', true, true, []]);
  });

  it('an unreachable replica is retryable: still connecting, not refused, the next start() runs', async () => {
    let attempts = 0;
    const conn = new FakeConnection();
    const tailer = makeTailer(() => (attempts++ === 0 ? Promise.reject(UNREACHABLE) : Promise.resolve(conn)));
    await expect(tailer.start()).rejects.toBe(UNREACHABLE);
    expect([tailer.state, tailer.refused]).toEqual(['connecting', false]);
    expect(liveness(status(tailer))).toEqual({ alive: true });
    await tailer.start();
    expect([tailer.state, tailer.refused, conn.dumps]).toEqual([
      'streaming',
      false,
      [{ kind: 'file', file: 'bin.000001', position: 400 }],
    ]);
  });
});

describe('a refused reconnect', () => {
  it('stops the loop on a preflight that now fails: failed and refused, not retried', async () => {
    const conns = [new FakeConnection(), new FakeConnection(), new FakeConnection()];
    let next = 0;
    const tailer = makeTailer(
      () => Promise.resolve(conns[next++]),
      (n) => (n === 0 ? Promise.resolve() : Promise.reject(REFUSED_PREFLIGHT)),
    );
    await tailer.start();
    const ended = tailer.done.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    conns[0]?.drop();
    expect(await ended).toBe(REFUSED_PREFLIGHT);
    expect([tailer.refused, tailer.lastError, next, conns[1]?.closed, conns[1]?.dumps]).toEqual([
      true,
      REFUSED_PREFLIGHT,
      2,
      true,
      [],
    ]);
    expect(liveness(status(tailer))).toEqual({ alive: true });
  });
});
