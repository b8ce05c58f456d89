/**
 * The edge router as a fastify plugin. Every request gets `request.cachetail` (the Decision: region and
 * reason) before any handler runs; the app's own handlers read it to choose a database or cache, or a
 * proxy (@fastify/http-proxy, @fastify/reply-from) reads it to choose the upstream. Before the response
 * headers go out, the write signals are stripped and turned into the recent-write cookie, and the
 * response is marked with x-cachetail-region and `Vary: Cookie`.
 *
 *   await app.register(edgePlugin, { router: createEdgeRouter(config, { registry }) });
 *   app.get('/feed', async (req) => (req.cachetail.region === req.server.masterRegion ? primary : replica).feed());
 *
 * Wrapped with fastify-plugin, so the hooks apply to every route of the instance it is registered on.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import type { EdgeRouter, ResponseHeaders } from './router.js';
import type { Decision } from './types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The edge router's decision; set by the onRequest hook, so never null in a handler. */
    cachetail: Decision;
  }
}

export interface EdgePluginOptions {
  readonly router: EdgeRouter;
  /** One info line per request with region, reason, status and duration; off when omitted. */
  readonly accessLog?: Logger;
}

function edge(fastify: FastifyInstance, opts: EdgePluginOptions, done: (err?: Error) => void): void {
  const { router, accessLog } = opts;
  // Declared up front (fastify forbids adding request properties later); set before any handler runs.
  fastify.decorateRequest('cachetail', null as unknown as Decision);
  fastify.addHook('onRequest', async (request) => {
    request.cachetail = await router.decide({
      method: request.method,
      url: request.url,
      headers: request.headers,
    });
  });
  fastify.addHook('onSend', async (request, reply, payload) => {
    // Null only when an earlier onRequest hook answered before ours ran; nothing was routed then.
    if (request.cachetail !== null)
      router.finishResponse(request.cachetail, reply.statusCode, new ReplyHeaders(reply));
    return payload;
  });
  if (accessLog !== undefined) {
    fastify.addHook('onResponse', async (request, reply) => {
      const d = request.cachetail as Decision | null;
      accessLog.info(
        {
          method: request.method,
          url: request.url,
          region: d?.region,
          reason: d?.reason,
          status: reply.statusCode,
          durationMs: Math.round(reply.elapsedTime * 1000) / 1000,
        },
        'request',
      );
    });
  }
  done();
}

/** The reply as ResponseHeaders; a class, so a request allocates one small object and no closures. */
class ReplyHeaders implements ResponseHeaders {
  constructor(private readonly reply: FastifyReply) {}
  get(name: string): string | number | readonly string[] | undefined {
    return this.reply.getHeader(name);
  }
  set(name: string, value: string): void {
    void this.reply.header(name, value);
  }
  remove(name: string): void {
    void this.reply.removeHeader(name);
  }
  appendSetCookie(value: string): void {
    // fastify appends set-cookie values instead of replacing them.
    void this.reply.header('set-cookie', value);
  }
}

export const edgePlugin = fp(edge, { fastify: '5.x', name: 'cachetail-edge' });
