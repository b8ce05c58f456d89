/**
 * The edge router as a plain Node `(req, res, next)` middleware (Express, Connect, or a bare
 * node:http server). It sets `req.cachetail` (the Decision) and calls next(); the response's headers are
 * finished (write signals stripped, cookie set, x-cachetail-region and `Vary: Cookie` added) at the
 * moment they are written, by wrapping this response's writeHead — which Node also calls for an
 * implicit header (first write() or end() without writeHead), so every way of answering is covered.
 *
 *   app.use(createEdgeMiddleware(createEdgeRouter(config, { registry })));
 *   app.get('/feed', (req, res) => res.json(pick(req.cachetail.region).feed()));
 */
import type { IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { EdgeRouter, ResponseHeaders } from './router.js';
import type { Decision } from './types.js';

export type EdgeMiddleware = (
  req: IncomingMessage & { cachetail?: Decision },
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;

export interface EdgeMiddlewareOptions {
  /** One info line per request with region, reason, status and duration; off when omitted. */
  readonly accessLog?: Logger;
}

export function createEdgeMiddleware(router: EdgeRouter, opts: EdgeMiddlewareOptions = {}): EdgeMiddleware {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    router.decide({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }).then(
      (decision) => {
        req.cachetail = decision;
        wrapWriteHead(res, (status) => router.finishResponse(decision, status, responseHeaders(res)));
        if (opts.accessLog !== undefined) {
          const log = opts.accessLog;
          res.once('finish', () => {
            log.info(
              {
                method: req.method,
                url: req.url,
                region: decision.region,
                reason: decision.reason,
                status: res.statusCode,
                durationMs: Number(process.hrtime.bigint() - started) / 1e6,
              },
              'request',
            );
          });
        }
        next();
      },
      (err: unknown) => next(err),
    );
  };
}

/** Runs `finish(status)` once, just before the headers are written, with any headers writeHead was given applied. */
function wrapWriteHead(res: ServerResponse, finish: (status: number) => void): void {
  const original = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  let done = false;
  const wrapped = (statusCode: number, ...rest: unknown[]): ServerResponse => {
    if (done) return original(statusCode, ...rest);
    done = true;
    // writeHead(status[, reason][, headers]): fold the headers into the response so finish() sees them.
    const reason = typeof rest[0] === 'string' ? rest[0] : undefined;
    const headers = (typeof rest[0] === 'string' ? rest[1] : rest[0]) as
      OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined;
    if (Array.isArray(headers)) {
      for (let i = 0; i + 1 < headers.length; i += 2)
        res.appendHeader(String(headers[i]), String(headers[i + 1]));
    } else if (headers !== undefined) {
      for (const [name, value] of Object.entries(headers))
        if (value !== undefined) res.setHeader(name, value);
    }
    res.statusCode = statusCode;
    finish(statusCode);
    return reason === undefined ? original(statusCode) : original(statusCode, reason);
  };
  res.writeHead = wrapped;
}

function responseHeaders(res: ServerResponse): ResponseHeaders {
  return {
    get: (name) => res.getHeader(name),
    set: (name, value) => void res.setHeader(name, value),
    remove: (name) => res.removeHeader(name),
    appendSetCookie: (value) => {
      const existing = res.getHeader('set-cookie');
      const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
      res.setHeader('set-cookie', [...list, value]);
    },
  };
}
