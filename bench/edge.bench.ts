/**
 * The edge proxy's cost: `cachetail edge` (plugin + reply-from) against @fastify/http-proxy alone, in
 * front of the same upstream, same machine, alternating runs (median of ROUNDS). The upstream and each
 * proxy run in their own process (this file with `--serve <role>`), the load generator here, so the
 * proxy under test has a core of its own as far as two cores allow.
 *
 * - latency: one connection, closed loop — p50/p99 per request; the edge's overhead is the difference;
 * - throughput: CONCURRENCY keep-alive connections, closed loop — requests/s and the ratio;
 * - the edge is measured on plain reads (decision `local`, no tailer asked) and on reads that carry a
 *   position-pinned cookie (cookie verified, GTID compared with a cached tailer watermark);
 * - the decision itself, in process: ns per router.decide() per kind of request.
 *
 *   npx tsx bench/edge.bench.ts        (or: npm run bench -- edge)
 *
 * Targets (issue #6): p99 overhead < 1 ms, throughput ≥ 90% of @fastify/http-proxy alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import fastifyHttpProxy from '@fastify/http-proxy';
import { Registry } from 'prom-client';
import { parseGtidState } from '../src/binlog/index.js';
import { edgeConfigSchema } from '../src/config/edge.js';
import { signRecentWrite } from '../src/edge/cookie.js';
import { KeyRing } from '../src/edge/keys.js';
import { buildEdgeProxy, createEdgeRouter } from '../src/edge/index.js';

const ROUNDS = Number(process.env.EDGE_BENCH_ROUNDS ?? 3);
const LATENCY_MS = 3_000;
const THROUGHPUT_MS = 4_000;
const WARMUP_MS = 1_000;
const CONCURRENCY = 32;
const KEY = `bench:${'k'.repeat(40)}`;
const ring = KeyRing.parse([KEY], 'bench');
const BODY = Buffer.from('x'.repeat(512));
const self = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------- child processes

async function serve(role: string, upstream: string | undefined): Promise<void> {
  let port: number;
  if (role === 'upstream') {
    // The app in both regions, and the local tailer's /status (watermark far ahead of the bench cookies).
    const status = JSON.stringify({
      region: 'eu',
      state: 'streaming',
      ready: true,
      watermark: { gtid: '0-1-1000000', file: 'b.000001', position: 4, updatedAt: Date.now() },
      lagSeconds: 0,
      lastError: null,
    });
    const server = createServer((req, res) => {
      if (req.url === '/status') res.writeHead(200, { 'content-type': 'application/json' }).end(status);
      else res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length }).end(BODY);
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  } else if (role === 'edge') {
    const config = edgeConfigSchema.parse({
      region: 'eu',
      masterRegion: 'us',
      upstreams: { us: upstream, eu: upstream },
      cookie: { keys: [KEY] },
      tailers: { statusUrls: [`${upstream}/status`] },
    });
    const router = createEdgeRouter(config, { registry: new Registry() });
    const app = await buildEdgeProxy({ router, upstreams: config.upstreams, timeoutMs: 30_000 });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  } else {
    const app = Fastify({ logger: false });
    await app.register(fastifyHttpProxy, { upstream: upstream! });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  }
  process.stdout.write(`${JSON.stringify({ port })}\n`);
}

interface Child {
  proc: ChildProcess;
  url: string;
  port: number;
}

async function start(role: string, upstream?: string): Promise<Child> {
  const args = ['--import', 'tsx', self, '--serve', role, ...(upstream ? [upstream] : [])];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve((JSON.parse(line) as { port: number }).port);
    });
    proc.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
  return { proc, port, url: `http://127.0.0.1:${port}` };
}

async function stop(child: Child): Promise<void> {
  const exited = new Promise((r) => child.proc.once('exit', r));
  child.proc.kill('SIGTERM');
  await exited;
}

// ---------------------------------------------------------------- load generator

interface Result {
  rps: number;
  p50: number;
  p99: number;
}

async function load(
  port: number,
  connections: number,
  ms: number,
  cookie: string | undefined,
): Promise<Result> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const headers = cookie ? { cookie } : {};
  const once = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/feed?page=1', agent, headers }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
  const run = async (duration: number, samples: number[] | undefined): Promise<number> => {
    const deadline = performance.now() + duration;
    let n = 0;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < deadline) {
          const t = performance.now();
          await once();
          samples?.push(performance.now() - t);
          n++;
        }
      }),
    );
    return n;
  };
  await run(WARMUP_MS, undefined);
  const samples: number[] = [];
  const started = performance.now();
  const n = await run(ms, samples);
  const elapsed = performance.now() - started;
  agent.destroy();
  samples.sort((a, b) => a - b);
  return {
    rps: (n / elapsed) * 1000,
    p50: samples[Math.floor(samples.length * 0.5)],
    p99: samples[Math.floor(samples.length * 0.99)],
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// ---------------------------------------------------------------- decision cost

async function decisionCost(): Promise<[string, number][]> {
  const config = edgeConfigSchema.parse({
    region: 'eu',
    masterRegion: 'us',
    cookie: { keys: [KEY] },
    tailers: { statusUrls: ['http://127.0.0.1:1/status'], cacheMs: 3_600_000 },
  });
  const status = {
    region: 'eu',
    state: 'streaming',
    ready: true,
    watermark: { gtid: '0-1-100', file: 'f', position: 4, updatedAt: Date.now() },
    lagSeconds: 0,
    lastError: null,
  };
  const router = createEdgeRouter(config, {
    registry: new Registry(),
    fetchStatus: (url) => Promise.resolve({ url, ok: true, body: status }),
  });
  const cookie = (gtid?: string): string =>
    `cachetail_rw=${signRecentWrite(ring, { writtenAt: Date.now(), gtid: gtid ? parseGtidState(gtid) : undefined })}`;
  const cases: [string, { method: string; url: string; headers: Record<string, string> }][] = [
    ['GET, no cookie (local)', { method: 'GET', url: '/feed?page=1', headers: {} }],
    ['POST (write)', { method: 'POST', url: '/posts', headers: {} }],
    [
      'GET, time-only cookie (pinned-by-time)',
      { method: 'GET', url: '/feed', headers: { cookie: cookie() } },
    ],
    [
      'GET, GTID cookie, reached (unpinned-by-watermark)',
      { method: 'GET', url: '/feed', headers: { cookie: cookie('0-1-99') } },
    ],
    [
      'GET, GTID cookie, not reached (pinned-by-position)',
      { method: 'GET', url: '/feed', headers: { cookie: cookie('0-1-101') } },
    ],
    [
      'GET, forged cookie (bad-cookie)',
      { method: 'GET', url: '/feed', headers: { cookie: `cachetail_rw=1.bench.1.x.${'A'.repeat(43)}` } },
    ],
  ];
  const out: [string, number][] = [];
  for (const [name, req] of cases) {
    for (let i = 0; i < 20_000; i++) await router.decide(req);
    const n = 200_000;
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await router.decide(req);
    out.push([name, Number(process.hrtime.bigint() - t) / n]);
  }
  return out;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const upstream = await start('upstream');
  const variants = ['plain', 'edge', 'edge-pinned'] as const;
  const lat: Record<string, Result[]> = { plain: [], edge: [], 'edge-pinned': [] };
  const thr: Record<string, Result[]> = { plain: [], edge: [], 'edge-pinned': [] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const v of variants) {
        const proxy = await start(v === 'plain' ? 'plain' : 'edge', upstream.url);
        try {
          // Signed now: both phases (2 warm-ups + 7 s) fit in the 20 s window. The GTID is beyond the
          // upstream's watermark (0-1-1000000), so every request takes the pinned-by-position path:
          // cookie verified, watermark consulted (cached), routed to the master upstream.
          const cookie =
            v === 'edge-pinned'
              ? `cachetail_rw=${signRecentWrite(ring, { writtenAt: Date.now(), gtid: parseGtidState('0-1-2000000') })}`
              : undefined;
          lat[v].push(await load(proxy.port, 1, LATENCY_MS, cookie));
          thr[v].push(await load(proxy.port, CONCURRENCY, THROUGHPUT_MS, cookie));
        } finally {
          await stop(proxy);
        }
      }
    }
  } finally {
    await stop(upstream);
  }
  const row = (v: string): { p50: number; p99: number; rps: number } => ({
    p50: median(lat[v].map((r) => r.p50)),
    p99: median(lat[v].map((r) => r.p99)),
    rps: median(thr[v].map((r) => r.rps)),
  });
  const base = row('plain');
  console.log(
    `Median of ${ROUNDS} rounds; latency: 1 connection, ${LATENCY_MS / 1000} s; throughput: ${CONCURRENCY} connections, ${THROUGHPUT_MS / 1000} s; 512-byte GET.\n`,
  );
  console.log('| proxy | p50 ms | p99 ms | p99 overhead ms | req/s | vs http-proxy |');
  console.log('|---|---|---|---|---|---|');
  for (const [v, name] of [
    ['plain', '@fastify/http-proxy alone'],
    ['edge', 'cachetail edge, plain read (local)'],
    ['edge-pinned', 'cachetail edge, GTID-pinned read'],
  ] as const) {
    const r = row(v);
    console.log(
      `| ${name} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${(r.p99 - base.p99).toFixed(3)} | ${Math.round(r.rps)} | ${((r.rps / base.rps) * 100).toFixed(1)}% |`,
    );
  }
  const edge = row('edge');
  const ok = edge.p99 - base.p99 < 1 && edge.rps / base.rps >= 0.9;
  console.log(`\ntarget (p99 overhead < 1 ms, throughput ≥ 90%), plain reads: ${ok ? 'met' : 'NOT met'}`);

  console.log('\n| decision (router.decide, in process) | ns/op |');
  console.log('|---|---|');
  for (const [name, ns] of await decisionCost()) console.log(`| ${name} | ${Math.round(ns)} |`);
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) {
  await serve(process.argv[serveAt + 1], process.argv[serveAt + 2]);
} else {
  await main();
}
