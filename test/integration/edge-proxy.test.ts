/**
 * `cachetail edge` as a real reverse proxy: two upstream HTTP servers stand for the master region (us)
 * and the local replica region (eu), a tailer status server reports the local watermark, and the test
 * moves that watermark and the router's clock. Every assertion names the region that answered.
 */
import type { AddressInfo } from 'node:net';
import { request } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { edgeConfigSchema, type EdgeConfigInput } from '../../src/config/edge.js';
import { verifyRecentWrite } from '../../src/edge/cookie.js';
import { KeyRing } from '../../src/edge/keys.js';
import { buildEdgeAdmin, buildEdgeProxy, createEdgeRouter } from '../../src/edge/index.js';
import {
  FakeTailer,
  Upstream,
  cookiePair,
  listen,
  metricValue,
  patternBytes,
  send,
  sha256,
  type Answer,
} from './edge-helpers.js';

const KEY = `k1:${'s'.repeat(40)}`;
const ring = KeyRing.parse([KEY], 'test');

interface Edge {
  proxy: FastifyInstance;
  admin: FastifyInstance;
  port: number;
  adminPort: number;
  advance(ms: number): void;
  now(): number;
  metrics(): Promise<string>;
  close(): Promise<void>;
}

async function startEdge(
  upstreams: Record<string, string>,
  tailers: string[],
  over: Partial<EdgeConfigInput> = {},
): Promise<Edge> {
  const config = edgeConfigSchema.parse({
    region: 'eu',
    masterRegion: 'us',
    upstreams,
    cookie: { keys: [KEY] },
    tailers: { statusUrls: tailers, cacheMs: 100 },
    ...over,
  });
  let offset = 0;
  const now = (): number => Date.now() + offset;
  const registry = new Registry();
  const router = createEdgeRouter(config, { registry, now });
  const proxy = await buildEdgeProxy({
    router,
    upstreams: config.upstreams,
    timeoutMs: config.upstreamTimeoutMs,
  });
  const admin = buildEdgeAdmin({ router, registry });
  await proxy.listen({ host: '127.0.0.1', port: 0 });
  await admin.listen({ host: config.admin.host, port: 0 });
  return {
    proxy,
    admin,
    port: (proxy.server.address() as AddressInfo).port,
    adminPort: (admin.server.address() as AddressInfo).port,
    advance: (ms) => void (offset += ms),
    now,
    metrics: async () =>
      (await send((admin.server.address() as AddressInfo).port, 'GET', '/metrics')).body.toString(),
    close: async () => {
      await proxy.close();
      await admin.close();
    },
  };
}

const text = (a: Answer): string =>
  `${a.status} ${String(a.headers['x-cachetail-region'])} ${a.body.toString()}`;
const decisions = (metrics: string, region: string, reason: string): number | undefined =>
  metricValue(metrics, `cachetail_edge_decisions_total{region="${region}",reason="${reason}"}`);

describe('cachetail edge proxy: pinning a writer to the master region', () => {
  const us = new Upstream('us');
  const eu = new Upstream('eu');
  const tailer = new FakeTailer('eu', '0-1-50');
  let edge: Edge;
  let pinned = '';

  beforeAll(async () => {
    await Promise.all([us.start(), eu.start(), tailer.start()]);
    edge = await startEdge({ us: us.url, eu: eu.url }, [tailer.statusUrl]);
  });
  afterAll(async () => {
    await edge.close();
    await Promise.all([us.close(), eu.close(), tailer.close()]);
  });

  it('serves a read from the local region, with Vary: Cookie', async () => {
    const a = await send(edge.port, 'GET', '/feed');
    expect(text(a)).toBe('200 eu eu GET /feed');
    expect(a.headers.vary).toBe('Cookie');
    expect(a.headers['set-cookie']).toBeUndefined();
  });

  it('sends a POST to master and sets the signed recent-write cookie with the GTID the app reported', async () => {
    us.gtid = '0-1-57';
    const before = edge.now();
    const a = await send(
      edge.port,
      'POST',
      '/posts',
      { 'content-type': 'application/json' },
      Buffer.from('{"t":1}'),
    );
    const after = edge.now();
    expect(text(a)).toBe('201 us us POST /posts');
    expect(a.headers['x-cachetail-gtid']).toBeUndefined();
    expect(a.headers['x-cachetail-write']).toBeUndefined();
    expect(a.headers['set-cookie']).toHaveLength(1);
    const setCookie = a.headers['set-cookie']![0];
    const m =
      /^cachetail_rw=(1\.k1\.(\d+)\.MC0xLTU3\.[A-Za-z0-9_-]{43}); Max-Age=20; Path=\/; HttpOnly; Secure; SameSite=Lax$/.exec(
        setCookie,
      );
    expect(m, setCookie).not.toBeNull();
    const writtenAt = Number(m![2]);
    expect(writtenAt).toBeGreaterThanOrEqual(before);
    expect(writtenAt).toBeLessThanOrEqual(after);
    const read = verifyRecentWrite(ring, m![1], after, 20_000);
    expect(read.kind === 'valid' && read.write.gtid?.toString()).toBe('0-1-57');
    expect(us.seen.at(-1)).toMatchObject({ method: 'POST', url: '/posts', bytes: 7 });
    pinned = cookiePair(a);
  });

  it('sends the next GET to master while the local watermark is behind the write (pinned-by-position)', async () => {
    tailer.gtid = '0-1-56';
    edge.advance(100); // past the watermark cache
    expect(text(await send(edge.port, 'GET', '/feed', { cookie: pinned }))).toBe('200 us us GET /feed');
    expect(text(await send(edge.port, 'HEAD', '/feed', { cookie: pinned }))).toBe('200 us ');
  });

  it('sends it local as soon as the watermark passes the write, long before the window ends', async () => {
    tailer.gtid = '0-1-57';
    edge.advance(100);
    expect(text(await send(edge.port, 'GET', '/feed', { cookie: `theme=dark; ${pinned}` }))).toBe(
      '200 eu eu GET /feed',
    );
  });

  it('without a GTID the write pins by time, exactly until the window ends', async () => {
    us.gtid = undefined;
    const a = await send(edge.port, 'POST', '/posts', {}, Buffer.from('x'));
    expect(a.headers['set-cookie']![0]).toMatch(/^cachetail_rw=1\.k1\.\d+\.\.[A-Za-z0-9_-]{43}; Max-Age=20;/);
    const cookie = cookiePair(a);
    expect(text(await send(edge.port, 'GET', '/feed', { cookie }))).toBe('200 us us GET /feed');
    edge.advance(19_000);
    expect(text(await send(edge.port, 'GET', '/feed', { cookie }))).toBe('200 us us GET /feed');
    edge.advance(1_000);
    expect(text(await send(edge.port, 'GET', '/feed', { cookie }))).toBe('200 eu eu GET /feed');
  });

  it('does not pin after a failed write, nor after a write the app says was none', async () => {
    const failed = await send(edge.port, 'POST', '/fail');
    expect(`${failed.status} ${String(failed.headers['set-cookie'])}`).toBe('500 undefined');
    const redirect = await send(edge.port, 'POST', '/redirect');
    expect(`${redirect.status} ${redirect.headers.location} ${redirect.headers['set-cookie']!.length}`).toBe(
      '303 /done 1',
    );
  });

  it('ignores a forged cookie (local) and counts it', async () => {
    const forged = `cachetail_rw=1.k1.${edge.now()}.MC0xLTk5OTk5.${'A'.repeat(43)}`;
    expect(text(await send(edge.port, 'GET', '/feed', { cookie: forged }))).toBe('200 eu eu GET /feed');
    const m = await edge.metrics();
    expect(metricValue(m, 'cachetail_edge_cookie_rejected_total{why="bad-signature"}')).toBe(1);
    expect(decisions(m, 'eu', 'bad-cookie')).toBe(1);
  });

  it('counts every decision by reason', async () => {
    const m = await edge.metrics();
    expect({
      write: decisions(m, 'us', 'write'),
      pinnedByPosition: decisions(m, 'us', 'pinned-by-position'),
      unpinned: decisions(m, 'eu', 'unpinned-by-watermark'),
      pinnedByTime: decisions(m, 'us', 'pinned-by-time'),
      local: decisions(m, 'eu', 'local'),
      failSafe: decisions(m, 'us', 'fail-safe'),
    }).toEqual({ write: 4, pinnedByPosition: 2, unpinned: 1, pinnedByTime: 2, local: 2, failSafe: 0 });
    expect(metricValue(m, 'cachetail_edge_cookies_set_total')).toBe(3);
    expect(metricValue(m, 'cachetail_edge_cookie_rejected_total{why="expired"}')).toBe(1);
  });

  it('streams a large request body to the upstream intact, and a large response back', async () => {
    const body = patternBytes(8 * 1024 * 1024 + 3);
    const up = await send(edge.port, 'PUT', '/upload', { 'content-type': 'application/octet-stream' }, body);
    expect(`${up.status} ${String(up.headers['x-cachetail-region'])}`).toBe('200 us');
    expect(up.headers['x-body-sha256']).toBe(sha256(body));
    expect(us.seen.at(-1)).toMatchObject({
      method: 'PUT',
      url: '/upload',
      bytes: body.length,
      sha256: sha256(body),
    });
    const down = await send(edge.port, 'GET', '/big?bytes=5000001');
    expect(`${down.status} ${String(down.headers['x-cachetail-region'])} ${down.body.length}`).toBe(
      '200 eu 5000001',
    );
    expect(sha256(down.body)).toBe(sha256(patternBytes(5_000_001)));
  });

  it('forwards bytes as they come: the response starts before the upstream has finished, and so does the upload', async () => {
    const received = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: edge.port, path: '/slow', agent: false }, (res) => {
        let got = '';
        res.on('data', (c: Buffer) => {
          got += c.toString();
          // Reached only if the proxy passed 'first,' on before the upstream finished.
          if (got === 'first,') eu.releaseSlow!();
        });
        res.on('end', () => resolve(got));
      });
      req.on('error', reject);
      req.end();
    });
    expect(received).toBe('first,last');

    const answer = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: edge.port, method: 'POST', path: '/slow-upload', agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(`${res.statusCode} ${String(res.headers['x-body-bytes'])}`));
        },
      );
      req.on('error', reject);
      us.onFirstUploadChunk = () => req.end(Buffer.alloc(1000, 2));
      req.write(Buffer.alloc(1000, 1));
    });
    expect(answer).toBe('201 2000');
  });

  it('answers Expect: 100-continue itself and forwards the body without the Expect header', async () => {
    const body = Buffer.alloc(2 * 1024 * 1024, 7);
    const answer = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: edge.port,
          method: 'PUT',
          path: '/expect',
          agent: false,
          headers: { expect: '100-continue', 'content-length': String(body.length) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(`${res.statusCode} ${String(res.headers['x-body-sha256'])}`));
        },
      );
      req.on('continue', () => req.end(body));
      req.on('error', reject);
    });
    expect(answer).toBe(`200 ${sha256(body)}`);
    expect(us.seen.at(-1)!.headers.expect).toBeUndefined();
  });

  it('keeps end-to-end headers and the exact request target, drops hop-by-hop ones, adds X-Forwarded-*', async () => {
    const a = await send(edge.port, 'GET', '/feed?a&b=%7e&c=1+2', {
      connection: 'x-client-hop',
      'x-client-hop': 'secret',
      'keep-alive': 'timeout=5',
      'x-custom': 'yes',
      'x-forwarded-for': '203.0.113.9',
    });
    expect(text(a)).toBe('200 eu eu GET /feed?a&b=%7e&c=1+2');
    expect(a.headers['x-upstream-custom']).toBe('kept');
    expect(a.headers['x-upstream-hop']).toBeUndefined();
    const seen = eu.seen.at(-1)!;
    expect(seen.url).toBe('/feed?a&b=%7e&c=1+2');
    expect({
      host: seen.headers.host,
      custom: seen.headers['x-custom'],
      hop: seen.headers['x-client-hop'],
      keepAlive: seen.headers['keep-alive'],
      forwardedFor: seen.headers['x-forwarded-for'],
      forwardedHost: seen.headers['x-forwarded-host'],
      forwardedProto: seen.headers['x-forwarded-proto'],
    }).toEqual({
      host: `127.0.0.1:${eu.running.port}`,
      custom: 'yes',
      hop: undefined,
      keepAlive: undefined,
      forwardedFor: '203.0.113.9, 127.0.0.1',
      forwardedHost: `127.0.0.1:${edge.port}`,
      forwardedProto: 'http',
    });
  });

  it('serves /metrics and /healthz on the admin listener only, bound to loopback', async () => {
    expect((edge.admin.server.address() as AddressInfo).address).toBe('127.0.0.1');
    const health = await send(edge.adminPort, 'GET', '/healthz');
    expect(JSON.parse(health.body.toString())).toEqual({
      status: 'ok',
      region: 'eu',
      masterRegion: 'us',
      localTailers: { healthy: true, watermarks: [{ url: tailer.statusUrl, gtid: '0-1-57' }] },
    });
    expect(text(await send(edge.port, 'GET', '/metrics'))).toBe('200 eu eu GET /metrics');
  });
});

describe('cachetail edge proxy: failing safe', () => {
  const us = new Upstream('us');
  const eu = new Upstream('eu');
  const tailer = new FakeTailer('eu', '0-1-50');
  let pinnedEdge: Edge;
  let allEdge: Edge;

  beforeAll(async () => {
    await Promise.all([us.start(), eu.start(), tailer.start()]);
    pinnedEdge = await startEdge({ us: us.url, eu: eu.url }, [tailer.statusUrl]);
    allEdge = await startEdge({ us: us.url, eu: eu.url }, [tailer.statusUrl], {
      tailers: { statusUrls: [tailer.statusUrl], cacheMs: 100, failSafe: 'all' },
    });
  });
  afterAll(async () => {
    await Promise.all([pinnedEdge.close(), allEdge.close()]);
    await Promise.all([us.close(), eu.close()]);
  });

  it('while the tailer is healthy both route a plain read locally', async () => {
    expect(text(await send(pinnedEdge.port, 'GET', '/a'))).toBe('200 eu eu GET /a');
    expect(text(await send(allEdge.port, 'GET', '/a'))).toBe('200 eu eu GET /a');
  });

  it('a tailer that is not ready: pinned requests (failSafe pinned) or every read (all) go to master', async () => {
    us.gtid = '0-1-40'; // already reached: with a healthy tailer this cookie would unpin
    const cookie = cookiePair(await send(pinnedEdge.port, 'POST', '/posts'));
    tailer.status = { ...tailer.status, ready: false };
    pinnedEdge.advance(100);
    allEdge.advance(100);
    expect(text(await send(pinnedEdge.port, 'GET', '/a', { cookie }))).toBe('200 us us GET /a');
    expect(text(await send(pinnedEdge.port, 'GET', '/a'))).toBe('200 eu eu GET /a');
    expect(text(await send(allEdge.port, 'GET', '/a'))).toBe('200 us us GET /a');
    expect(decisions(await pinnedEdge.metrics(), 'us', 'fail-safe')).toBe(1);
    expect(decisions(await allEdge.metrics(), 'us', 'fail-safe')).toBe(1);
  });

  it('a tailer that is down: the same, and /healthz says why', async () => {
    const cookie = cookiePair(await send(pinnedEdge.port, 'POST', '/posts'));
    await tailer.close();
    pinnedEdge.advance(100);
    allEdge.advance(100);
    expect(text(await send(pinnedEdge.port, 'GET', '/b', { cookie }))).toBe('200 us us GET /b');
    expect(text(await send(allEdge.port, 'GET', '/b'))).toBe('200 us us GET /b');
    expect(text(await send(allEdge.port, 'POST', '/b'))).toBe('201 us us POST /b');
    const health = JSON.parse((await send(allEdge.adminPort, 'GET', '/healthz')).body.toString()) as {
      localTailers: unknown;
    };
    expect(health.localTailers).toEqual({
      healthy: false,
      problem: `tailer ${tailer.statusUrl}: unreachable (ECONNREFUSED)`,
    });
    const m = await allEdge.metrics();
    expect(metricValue(m, 'cachetail_edge_local_healthy')).toBe(0);
  });
});

describe('cachetail edge proxy: upstream failures', () => {
  it('answers 504 when the upstream does not answer in time', async () => {
    const silent = await listen(() => undefined);
    const eu = await new Upstream('eu').start();
    const edge = await startEdge({ us: silent.url, eu: eu.url }, [], { upstreamTimeoutMs: 300 });
    try {
      const a = await send(edge.port, 'DELETE', '/posts/1');
      expect(`${a.status} ${String(a.headers['x-cachetail-region'])} ${a.body.toString()}`).toBe(
        '504 us cachetail edge: the upstream of region us did not answer in time (UND_ERR_HEADERS_TIMEOUT: Headers Timeout Error)\n',
      );
    } finally {
      await edge.close();
      await Promise.all([silent.close(), eu.close()]);
    }
  });

  it('answers 502 with a body that names the region and the cause', async () => {
    const eu = await new Upstream('eu').start();
    const gone = await listen(() => undefined);
    const goneUrl = gone.url;
    await gone.close();
    const edge = await startEdge({ us: goneUrl, eu: eu.url }, []);
    try {
      const a = await send(edge.port, 'POST', '/posts', {}, Buffer.from('x'));
      expect(a.status).toBe(502);
      expect(a.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(a.headers['x-cachetail-region']).toBe('us');
      expect(a.headers['set-cookie']).toBeUndefined();
      expect(a.body.toString()).toBe(
        `cachetail edge: the upstream of region us failed (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${gone.port})\n`,
      );
      expect(text(await send(edge.port, 'GET', '/still-fine'))).toBe('200 eu eu GET /still-fine');
    } finally {
      await edge.close();
      await eu.close();
    }
  });
});
