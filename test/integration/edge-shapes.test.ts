/**
 * The other two shapes of the edge router over real HTTP: the plain node middleware in a bare
 * node:http server (with a Connect-style chain), and the fastify plugin — with the app's own handlers,
 * and in front of @fastify/http-proxy choosing the upstream from the decision.
 */
import fastifyHttpProxy from '@fastify/http-proxy';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { edgeConfigSchema } from '../../src/config/edge.js';
import { createEdgeMiddleware, createEdgeRouter, edgePlugin, type EdgeRouter } from '../../src/edge/index.js';
import { FakeTailer, Upstream, cookiePair, listen, send, type Running } from './edge-helpers.js';

const KEY = `k1:${'s'.repeat(40)}`;

function routerFor(tailer: FakeTailer): EdgeRouter {
  const config = edgeConfigSchema.parse({
    region: 'eu',
    masterRegion: 'us',
    cookie: { keys: [KEY], secure: false },
    routes: { safe: ['/**'], deny: ['/account/**'] },
    tailers: { statusUrls: [tailer.statusUrl], cacheMs: 0 },
  });
  return createEdgeRouter(config, { registry: new Registry() });
}

/** A pino logger whose lines the test reads. */
function recordingLog(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ base: null, timestamp: false }, sink), lines };
}

const COOKIE_ATTRS = /; Max-Age=20; Path=\/; HttpOnly; SameSite=Lax$/;

describe('node (req, res, next) middleware in a plain node:http server', () => {
  const tailer = new FakeTailer('eu', '0-1-10');
  let app: Running;
  const { log, lines } = recordingLog();

  beforeAll(async () => {
    await tailer.start();
    const edge = createEdgeMiddleware(routerFor(tailer), { accessLog: log });
    // The application: answers with the decision; POST /items reports a GTID; GET /like says it wrote.
    app = await listen((req, res) => {
      edge(req, res, (err) => {
        if (err) {
          res.statusCode = 500;
          res.end(err instanceof Error ? err.message : 'error');
          return;
        }
        const d = (req as typeof req & { cachetail: { region: string; reason: string } }).cachetail;
        if (req.method === 'POST' && req.url === '/items') {
          res.setHeader('x-cachetail-gtid', '0-1-11');
          res.writeHead(201, { 'content-type': 'text/plain' });
        } else if (req.url === '/like') {
          res.writeHead(
            200,
            [
              ['x-cachetail-write', '1'],
              ['content-type', 'text/plain'],
            ].flat(),
          );
        } else {
          res.setHeader('vary', 'Accept-Encoding');
        }
        res.end(`${d.region} ${d.reason}`);
      });
    });
  });
  afterAll(async () => {
    await app.close();
    await tailer.close();
  });

  it('routes reads local, writes to master, and pins the writer until the watermark passes', async () => {
    const read = await send(app.port, 'GET', '/feed');
    expect(
      `${read.body.toString()} | ${String(read.headers['x-cachetail-region'])} | ${String(read.headers.vary)}`,
    ).toBe('eu local | eu | Accept-Encoding, Cookie');
    const write = await send(app.port, 'POST', '/items');
    expect(write.body.toString()).toBe('us write');
    expect(write.headers['x-cachetail-gtid']).toBeUndefined();
    expect(write.headers['set-cookie']![0]).toMatch(COOKIE_ATTRS);
    expect(write.headers['set-cookie']![0]).toMatch(/^cachetail_rw=1\.k1\.\d+\.MC0xLTEx\./);
    const cookie = cookiePair(write);
    expect((await send(app.port, 'GET', '/feed', { cookie })).body.toString()).toBe('us pinned-by-position');
    tailer.gtid = '0-1-11';
    expect((await send(app.port, 'GET', '/feed', { cookie })).body.toString()).toBe(
      'eu unpinned-by-watermark',
    );
  });

  it('takes a write signal given to writeHead as a raw header array, and strips it', async () => {
    const like = await send(app.port, 'GET', '/like');
    expect(like.body.toString()).toBe('eu local');
    expect(like.headers['x-cachetail-write']).toBeUndefined();
    expect(like.headers['set-cookie']![0]).toMatch(
      /^cachetail_rw=1\.k1\.\d+\.\.[A-Za-z0-9_-]{43}; Max-Age=20;/,
    );
    const cookie = cookiePair(like);
    expect((await send(app.port, 'GET', '/feed', { cookie })).body.toString()).toBe('us pinned-by-time');
  });

  it('writes one access-log line per request with region, reason, status and duration', () => {
    const line = lines.find((l) => l.url === '/items')!;
    expect({ ...line, durationMs: typeof line.durationMs }).toEqual({
      level: 30,
      msg: 'request',
      method: 'POST',
      url: '/items',
      region: 'us',
      reason: 'write',
      status: 201,
      durationMs: 'number',
    });
  });
});

describe('fastify plugin', () => {
  const tailer = new FakeTailer('eu', '0-1-10');
  const us = new Upstream('us');
  const eu = new Upstream('eu');
  let appPort = 0;
  let proxyPort = 0;
  const apps: FastifyInstance[] = [];
  const { log, lines } = recordingLog();

  beforeAll(async () => {
    await Promise.all([tailer.start(), us.start(), eu.start()]);

    // 1. The app's own handlers read request.cachetail.
    const app = Fastify();
    await app.register(edgePlugin, { router: routerFor(tailer), accessLog: log });
    app.get('/feed', (req) => `${req.cachetail.region} ${req.cachetail.reason}`);
    app.post('/items', (req, reply) => {
      void reply.header('x-cachetail-gtid', '0-1-12').code(201);
      return `${req.cachetail.region} ${req.cachetail.reason}`;
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    appPort = (app.server.address() as AddressInfo).port;

    // 2. @fastify/http-proxy choosing the upstream from the decision.
    const upstreams: Record<string, string> = { us: us.url, eu: eu.url };
    const proxy = Fastify();
    await proxy.register(edgePlugin, { router: routerFor(tailer) });
    await proxy.register(fastifyHttpProxy, {
      upstream: '',
      replyOptions: { getUpstream: (req) => upstreams[req.cachetail.region] },
    });
    await proxy.listen({ host: '127.0.0.1', port: 0 });
    proxyPort = (proxy.server.address() as AddressInfo).port;
    apps.push(app, proxy);
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await Promise.all([tailer.close(), us.close(), eu.close()]);
  });

  it('decorates the request with the decision for the app handlers, and pins after a write', async () => {
    expect((await send(appPort, 'GET', '/feed')).body.toString()).toBe('eu local');
    const write = await send(appPort, 'POST', '/items');
    expect(`${write.status} ${write.body.toString()} ${String(write.headers['x-cachetail-region'])}`).toBe(
      '201 us write us',
    );
    expect(write.headers['x-cachetail-gtid']).toBeUndefined();
    expect(write.headers['set-cookie']![0]).toMatch(
      /^cachetail_rw=1\.k1\.\d+\.MC0xLTEy\.[A-Za-z0-9_-]{43}; Max-Age=20;/,
    );
    expect(write.headers['set-cookie']![0]).toMatch(COOKIE_ATTRS);
    const cookie = cookiePair(write);
    expect((await send(appPort, 'GET', '/feed', { cookie })).body.toString()).toBe('us pinned-by-position');
    const notFound = await send(appPort, 'GET', '/nope', { cookie: 'cachetail_rw=garbage' });
    expect(
      `${notFound.status} ${String(notFound.headers['x-cachetail-region'])} ${String(notFound.headers.vary)}`,
    ).toBe('404 eu Cookie');
    expect(
      lines.map(
        (l) =>
          `${String(l.method)} ${String(l.url)} ${String(l.region)} ${String(l.reason)} ${String(l.status)}`,
      ),
    ).toEqual([
      'GET /feed eu local 200',
      'POST /items us write 201',
      'GET /feed us pinned-by-position 200',
      'GET /nope eu bad-cookie 404',
    ]);
  });

  it('drives @fastify/http-proxy: writes and pinned reads to the master upstream, the rest local', async () => {
    tailer.gtid = '0-1-10';
    us.gtid = '0-1-13';
    const write = await send(proxyPort, 'POST', '/posts', {}, Buffer.from('hello'));
    expect(`${write.status} ${write.body.toString()}`).toBe('201 us POST /posts');
    expect(write.headers['x-cachetail-gtid']).toBeUndefined();
    const cookie = cookiePair(write);
    expect((await send(proxyPort, 'GET', '/feed', { cookie })).body.toString()).toBe('us GET /feed');
    expect((await send(proxyPort, 'GET', '/account/me')).body.toString()).toBe('us GET /account/me');
    expect((await send(proxyPort, 'GET', '/feed')).body.toString()).toBe('eu GET /feed');
    tailer.gtid = '0-1-13';
    const unpinned = await send(proxyPort, 'GET', '/feed', { cookie });
    expect(`${unpinned.body.toString()} ${String(unpinned.headers['x-cachetail-region'])}`).toBe(
      'eu GET /feed eu',
    );
  });
});
