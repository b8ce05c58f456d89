/**
 * `cachetail edge` as an application: the fastify plugin decides, @fastify/reply-from forwards to the
 * decided region's upstream over undici, streaming bodies both ways (the request body is never parsed:
 * one pass-through content-type parser hands the raw stream on). Built as a function of its
 * dependencies; listening and signals live in commands/edge.ts.
 *
 * Forwarding rules: the request target is passed on byte for byte (path and query); end-to-end headers
 * are kept, hop-by-hop ones (RFC 9110 §7.6.1: Connection and the fields it names, Keep-Alive,
 * Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade) dropped in both directions; Host becomes
 * the upstream's, the client's goes on as X-Forwarded-Host, with X-Forwarded-For/-Proto. Expect is
 * answered here (Node sends 100 Continue) and not forwarded. An upstream that cannot be reached or
 * does not answer in time gives a 502 (504 on timeout) whose plain-text body names the region and why;
 * nothing is retried (a retried POST could write twice).
 */
import fastifyReplyFrom from '@fastify/reply-from';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { CachetailError, errorCodeOf } from '../errors.js';
import { edgePlugin } from './plugin.js';
import type { EdgeRouter } from './router.js';

export interface EdgeProxyOptions {
  readonly router: EdgeRouter;
  /** Region → base URL (scheme, host, port); must cover the router's local and master regions. */
  readonly upstreams: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly accessLog?: Logger;
  /** Upstream failures are logged here (warn). */
  readonly log?: Logger;
}

/** RFC 9110 §7.6.1, plus Proxy-Connection; the names Connection lists are dropped too. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export async function buildEdgeProxy(opts: EdgeProxyOptions): Promise<FastifyInstance> {
  const { router, upstreams } = opts;
  for (const region of new Set([router.localRegion, router.masterRegion])) {
    if (upstreams[region] === undefined)
      throw new CachetailError('CONFIG_INVALID', `buildEdgeProxy: no upstream for region ${region}`);
  }
  const app = Fastify({ logger: false, return503OnClosing: true });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
  await app.register(fastifyReplyFrom, { disableRequestLogging: true });
  await app.register(edgePlugin, { router, accessLog: opts.accessLog });

  // One options object for every request (no per-request closures): reply-from hands each hook the request.
  const fromOptions: Parameters<FastifyReply['from']>[1] = {
    getUpstream: (req) => upstreams[(req as FastifyRequest).cachetail.region],
    rewriteRequestHeaders: (req, headers) => requestHeaders(req as FastifyRequest, headers),
    rewriteHeaders: (headers) => withoutHopByHop(headers),
    retryDelay: () => null,
    timeout: opts.timeoutMs,
    onError: (r, { error }) => upstreamFailed(r as FastifyReply, error, upstreams, opts.log),
  };
  const forward = (request: FastifyRequest, reply: FastifyReply): FastifyReply =>
    reply.from(request.url, fromOptions);
  app.all('/', forward);
  app.all('/*', forward);
  return app;
}

function requestHeaders(req: FastifyRequest, given: IncomingHttpHeaders): IncomingHttpHeaders {
  const headers = withoutHopByHop(given);
  headers.expect = undefined; // undici skips undefined values
  const client = req.raw.socket.remoteAddress;
  if (client !== undefined) {
    const prior = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = prior === undefined ? client : `${String(prior)}, ${client}`;
  }
  if (req.headers['x-forwarded-proto'] === undefined) {
    headers['x-forwarded-proto'] = 'encrypted' in req.raw.socket ? 'https' : 'http';
  }
  if (req.headers['x-forwarded-host'] === undefined && req.headers.host !== undefined) {
    headers['x-forwarded-host'] = req.headers.host;
  }
  return headers;
}

/** A copy without the hop-by-hop fields (copying is cheaper than `delete`, which deoptimises the object). */
function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const connection = headers.connection;
  const listed =
    connection === undefined
      ? undefined
      : String(connection)
          .split(',')
          .map((t) => t.trim().toLowerCase());
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (!HOP_BY_HOP.has(name) && (listed === undefined || !listed.includes(name))) out[name] = headers[name];
  }
  return out;
}

function upstreamFailed(
  reply: FastifyReply,
  error: Error,
  upstreams: Readonly<Record<string, string>>,
  log: Logger | undefined,
): void {
  const region = reply.request.cachetail.region;
  const cause = error.cause instanceof Error ? error.cause : error;
  const code = (cause as { code?: unknown }).code;
  const timedOut = /timeout/i.test(`${String(code)} ${error.name} ${cause.name}`);
  const why = `${typeof code === 'string' ? `${code}: ` : ''}${cause.message}`;
  log?.warn(
    { region, upstream: upstreams[region], url: reply.request.url, why, code: errorCodeOf(cause) },
    'upstream failed',
  );
  void reply
    .code(timedOut ? 504 : 502)
    .header('content-type', 'text/plain; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(
      `cachetail edge: the upstream of region ${region} ${timedOut ? 'did not answer in time' : 'failed'} (${why})\n`,
    );
}

export interface EdgeAdminOptions {
  readonly router: EdgeRouter;
  readonly registry: Registry;
}

/**
 * The admin listener (loopback by default, never the public port): /metrics for Prometheus and
 * /healthz, which is 200 while the process serves — an unhealthy tailer is not the edge's failure, the
 * edge fails safe — and says what the local state is.
 */
export function buildEdgeAdmin(opts: EdgeAdminOptions): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/metrics', async (_req, reply) => {
    void reply.header('content-type', opts.registry.contentType);
    return opts.registry.metrics();
  });
  app.get('/healthz', () => {
    const state = opts.router.localState();
    return {
      status: 'ok',
      region: opts.router.localRegion,
      masterRegion: opts.router.masterRegion,
      localTailers:
        state === undefined
          ? 'not checked yet'
          : state.healthy
            ? {
                healthy: true,
                watermarks: state.watermarks.map((w) => ({ url: w.url, gtid: w.gtid.toString() })),
              }
            : { healthy: false, problem: state.problem },
    };
  });
  return app;
}
