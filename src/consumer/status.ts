/**
 * `cachetail consume`'s status endpoints, on loopback by default: /healthz (200 unless failed),
 * /readyz (200 while consuming), /status (JSON: state, lag per partition, counts, last error) and
 * /metrics (Prometheus). node:http is enough for four read-only routes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Applier } from './apply.js';
import type { InvalidationConsumer } from './consumer.js';

export interface ConsumerStatus {
  region: string;
  topic: string;
  groupId: string;
  state: InvalidationConsumer['state'];
  lag: Record<string, number>;
  lagTotal: number;
  lagReadAt: number | null;
  stats: Applier['stats'];
  lastError: { code: string; message: string } | null;
}

export function consumerStatus(
  consumer: InvalidationConsumer,
  applier: Applier,
  ids: { region: string; topic: string; groupId: string },
): ConsumerStatus {
  const lag = Object.fromEntries([...consumer.lag].map(([p, n]) => [String(p), n]));
  const err = consumer.lastError;
  return {
    ...ids,
    state: consumer.state,
    lag,
    lagTotal: Object.values(lag).reduce((a, b) => a + b, 0),
    lagReadAt: consumer.lagReadAt,
    stats: { ...applier.stats },
    lastError: err ? { code: err.code, message: err.message } : null,
  };
}

export async function startConsumerStatusServer(opts: {
  host: string;
  port: number;
  status: () => ConsumerStatus;
  registry: Registry;
}): Promise<{ server: Server; address: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const send = (code: number, body: string, type = 'application/json') => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, '{"error":"method not allowed"}\n');
    const s = opts.status();
    if (path === '/healthz')
      return send(s.state === 'failed' ? 503 : 200, `${JSON.stringify({ alive: s.state !== 'failed' })}\n`);
    if (path === '/readyz')
      return send(s.state === 'running' ? 200 : 503, `${JSON.stringify({ ready: s.state === 'running' })}\n`);
    if (path === '/status') return send(200, `${JSON.stringify(s, null, 2)}\n`);
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (text) => send(200, text, opts.registry.contentType),
        () => send(500, '{"error":"metrics failed"}\n'),
      );
      return;
    }
    send(404, '{"error":"not found"}\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    server,
    address: `${a.address}:${a.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
