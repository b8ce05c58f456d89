/** The status server's routes, answered for each tailer state, and where it listens. */
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { createTailerMetrics } from '../../../src/observability/metrics.js';
import {
  DEFAULT_STATUS_HOST,
  buildStatusServer,
  statusListenOptions,
  type StatusServerDeps,
} from '../../../src/observability/status-server.js';
import { TAILER_STATES, type TailerState, type TailerStatus } from '../../../src/observability/status.js';
import { FATAL, FakeStatusSource, WATERMARK, statusIn } from './fixtures.js';

const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function server(status: TailerStatus | (() => TailerStatus), extra: Partial<StatusServerDeps> = {}) {
  const registry = new Registry();
  const read = typeof status === 'function' ? status : () => status;
  const app = buildStatusServer({ status: read, registry, ...extra });
  apps.push(app);
  return { app, registry };
}

async function get(status: TailerStatus, url: string, extra: Partial<StatusServerDeps> = {}) {
  const { app } = server(status, extra);
  const res = await app.inject({ method: 'GET', url });
  return { code: res.statusCode, body: res.json<unknown>(), headers: res.headers };
}

const READY: Record<TailerState, boolean> = {
  idle: false,
  connecting: false,
  streaming: true,
  paused: true,
  failed: false,
  stopped: false,
};

describe('GET /healthz', () => {
  it.each(TAILER_STATES.filter((s) => s !== 'failed'))('%s → 200 {ok:true}', async (state) => {
    expect(await get(statusIn(state), '/healthz')).toMatchObject({ code: 200, body: { ok: true } });
  });

  it('failed → 503 with the error', async () => {
    const res = await get(statusIn('failed'), '/healthz');
    expect(res.code).toBe(503);
    expect(res.body).toEqual({ ok: false, state: 'failed', error: FATAL });
  });

  it('failed on a gap → 200: a restart would meet the same gap', async () => {
    const gap = { policy: 'fail-closed', code: 'POSITION_PURGED', message: 'purged', detectedAt: 1 } as const;
    expect(await get(statusIn('failed', { gap }), '/healthz')).toMatchObject({
      code: 200,
      body: { ok: true },
    });
  });
});

describe('GET /readyz', () => {
  const expected: Record<TailerState, unknown> = {
    idle: { ready: false, state: 'idle', reason: 'starting', message: 'the tailer is idle' },
    connecting: {
      ready: false,
      state: 'connecting',
      reason: 'starting',
      message: 'the tailer is connecting',
    },
    streaming: { ready: true, state: 'streaming' },
    paused: { ready: true, state: 'paused' },
    failed: {
      ready: false,
      state: 'failed',
      reason: 'failed',
      message: 'POSITION_PURGED: binlog mariadb-bin.000001 was purged',
    },
    stopped: { ready: false, state: 'stopped', reason: 'stopped', message: 'the tailer is stopped' },
  };

  it.each(TAILER_STATES)('%s', async (state) => {
    const res = await get(statusIn(state), '/readyz');
    expect(res.code).toBe(READY[state] ? 200 : 503);
    expect(res.body).toEqual(expected[state]);
  });

  it('a fail-closed gap → 503 gap even while the state says streaming', async () => {
    const gap = {
      policy: 'fail-closed',
      code: 'SERVER_CHANGED',
      message: 'server_uuid changed',
      detectedAt: 9,
    };
    const res = await get(statusIn('streaming', { gap } as Partial<TailerStatus>), '/readyz');
    expect(res.code).toBe(503);
    expect(res.body).toEqual({
      ready: false,
      state: 'streaming',
      reason: 'gap',
      message: 'SERVER_CHANGED: server_uuid changed (policy fail-closed)',
    });
  });

  it('lag above the configured bound → 503 lagging', async () => {
    const res = await get(statusIn('streaming', { lagSeconds: 31 }), '/readyz', {
      readiness: { maxLagSeconds: 30 },
    });
    expect(res.code).toBe(503);
    expect(res.body).toEqual({
      ready: false,
      state: 'streaming',
      reason: 'lagging',
      message: 'replication lag 31 s is above 30 s',
    });
  });

  it('follows the source as it changes, reading it on every request', async () => {
    const source = new FakeStatusSource(statusIn('connecting'));
    const { app } = server(source.read);
    expect((await app.inject('/readyz')).statusCode).toBe(503);
    source.current = statusIn('streaming');
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    source.current = statusIn('failed');
    expect((await app.inject('/readyz')).statusCode).toBe(503);
    expect(source.reads).toBe(3);
  });
});

describe('GET /status', () => {
  it.each(TAILER_STATES)('%s → 200 with the contract fields', async (state) => {
    const res = await get(statusIn(state), '/status');
    expect(res.code).toBe(200);
    const body = res.body as Record<string, unknown>;
    expect(body).toMatchObject({
      region: 'eu-west',
      state,
      ready: READY[state],
      watermark: state === 'idle' ? null : WATERMARK,
      lagSeconds: READY[state] ? 0.5 : null,
      lastError: state === 'failed' ? FATAL : null,
    });
    expect(Object.keys(body).sort()).toEqual(
      [
        'region',
        'state',
        'ready',
        'watermark',
        'lagSeconds',
        'lastError',
        ...(READY[state] ? [] : ['notReady']),
      ].sort(),
    );
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('serves the extras and nothing the source should not expose', async () => {
    const status = {
      ...statusIn('paused'),
      pendingTransactions: 10_000,
      readingPaused: true,
      checkpoint: { path: '/state/checkpoint.json', writtenAt: 1_700_000_000_000 },
      gapPolicy: 'flush',
      startedAt: 1_699_000_000_000,
      source: { host: 'db', password: 'hunter2' },
    } as TailerStatus;
    const res = await get(status, '/status');
    expect(res.body).toEqual({
      region: 'eu-west',
      state: 'paused',
      ready: true,
      watermark: WATERMARK,
      lagSeconds: 0.5,
      lastError: null,
      pendingTransactions: 10_000,
      readingPaused: true,
      checkpoint: { path: '/state/checkpoint.json', writtenAt: 1_700_000_000_000 },
      gapPolicy: 'flush',
      startedAt: 1_699_000_000_000,
    });
  });
});

describe('a status source that throws', () => {
  const boom = (): TailerStatus => {
    throw new Error('secret internal detail');
  };

  it('fails safe on every status route, without the internal message', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const { app } = server(boom, { log: createLogger('info', sink) });
    const ready = await app.inject('/readyz');
    expect([ready.statusCode, ready.json()]).toEqual([
      503,
      {
        ready: false,
        state: null,
        reason: 'status-unavailable',
        message: 'the tailer status could not be read',
      },
    ]);
    const health = await app.inject('/healthz');
    expect([health.statusCode, health.json()]).toEqual([
      503,
      {
        ok: false,
        state: null,
        error: { code: 'STATUS_UNAVAILABLE', message: 'the tailer status could not be read' },
      },
    ]);
    const status = await app.inject('/status');
    expect([status.statusCode, status.json()]).toEqual([
      500,
      { error: { code: 'STATUS_UNAVAILABLE', message: 'the tailer status could not be read' } },
    ]);
    for (const r of [ready, health, status]) expect(r.body).not.toContain('secret');
    // Logged (3 times, at error, tagged with the module); request lines stay off even at info.
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged.map((l) => [l.level, l.module, l.msg, l.err])).toEqual(
      Array(3).fill([50, 'status-server', 'status source threw', 'secret internal detail']),
    );
  });
});

describe('GET /metrics', () => {
  it('serves the registry in the Prometheus text format', async () => {
    const { app, registry } = server(statusIn('streaming'));
    const metrics = createTailerMetrics(registry, { servers: ['mc1:11211'], now: () => 1_700_000_000_000 });
    metrics.replicationLag.heartbeat();
    metrics.keysInvalidated.inc('tombstoned', 4);
    metrics.deleteErrors.inc('mc1:11211');
    metrics.binlogEvents.inc('write_rows');
    metrics.state.set('paused');
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    for (const line of [
      '# TYPE cachetail_keys_invalidated_total counter',
      'cachetail_keys_invalidated_total{result="tombstoned"} 4',
      'cachetail_delete_errors_total{server="mc1:11211"} 1',
      'cachetail_binlog_events_total{type="write_rows"} 1',
      'cachetail_state{state="paused"} 1',
      'cachetail_state{state="streaming"} 0',
      '# TYPE cachetail_invalidation_latency_seconds histogram',
      'cachetail_invalidation_latency_seconds_bucket{le="0.001"} 0',
      'cachetail_batch_keys_bucket{le="10000"} 0',
      'cachetail_replication_lag_seconds 0',
    ]) {
      expect(res.body.split('\n')).toContain(line);
    }
  });
});

describe('other routes', () => {
  it('unknown routes and methods → 404 JSON', async () => {
    const { app } = server(statusIn('streaming'));
    const res = await app.inject('/nope?x=1');
    expect([res.statusCode, res.json()]).toEqual([
      404,
      { error: { code: 'NOT_FOUND', message: 'no route GET /nope?x=1' } },
    ]);
    const post = await app.inject({ method: 'POST', url: '/readyz' });
    expect([post.statusCode, post.json()]).toEqual([
      404,
      { error: { code: 'NOT_FOUND', message: 'no route POST /readyz' } },
    ]);
  });

  it('extraRoutes are registered; their server errors are generic 500s', async () => {
    const { app } = server(statusIn('streaming'), {
      extraRoutes: (a) => {
        a.get('/debug/ok', () => ({ fine: true }));
        a.get('/debug/boom', () => {
          throw new Error('password=hunter2');
        });
      },
    });
    expect((await app.inject('/debug/ok')).json()).toEqual({ fine: true });
    const boom = await app.inject('/debug/boom');
    expect([boom.statusCode, boom.json()]).toEqual([
      500,
      { error: { code: 'INTERNAL', message: 'internal error' } },
    ]);
  });
});

describe('listening', () => {
  it('defaults to loopback; a configured host is kept', () => {
    expect(DEFAULT_STATUS_HOST).toBe('127.0.0.1');
    expect(statusListenOptions({ port: 0 })).toEqual({ host: '127.0.0.1', port: 0 });
    expect(statusListenOptions({ host: undefined, port: 9 })).toEqual({ host: '127.0.0.1', port: 9 });
    expect(statusListenOptions({ host: '0.0.0.0', port: 9 })).toEqual({ host: '0.0.0.0', port: 9 });
  });

  it('binds only where told: answers on 127.0.0.1, refuses other addresses', async () => {
    const { app } = server(statusIn('streaming'));
    await app.listen(statusListenOptions({ port: 0 }));
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error(`unexpected address ${address}`);
    expect(address.address).toBe('127.0.0.1');
    const res = await fetch(`http://127.0.0.1:${address.port}/readyz`);
    expect([res.status, await res.json()]).toEqual([200, { ready: true, state: 'streaming' }]);

    const others = ['::1', ...nonLoopbackAddresses()];
    for (const host of others) {
      await expect(canConnect(host, address.port), host).resolves.toBe(false);
    }
  });

  // The control for the test above: the probe does reach a server bound to every interface.
  it('listens on every interface only when configured so', async () => {
    const external = nonLoopbackAddresses().find((a) => !a.includes(':'));
    if (external === undefined) return; // no non-loopback IPv4 here: nothing to probe
    const { app } = server(statusIn('streaming'));
    await app.listen(statusListenOptions({ host: '0.0.0.0', port: 0 }));
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error(`unexpected address ${address}`);
    await expect(canConnect(external, address.port)).resolves.toBe(true);
  });
});

/** This machine's own non-loopback addresses (may be none in a sandbox). */
function nonLoopbackAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((i) => !i.internal && !i.address.startsWith('fe80:'))
    .map((i) => i.address);
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
