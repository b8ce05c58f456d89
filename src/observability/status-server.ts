/**
 * The tailer's status server: /healthz, /readyz, /metrics, /status. Built as a function of its
 * dependencies and returned not listening; the entry file listens (on DEFAULT_STATUS_HOST unless
 * configured) and owns signals. Route semantics: docs/observability.md.
 */
import { fastify, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { errorCodeOf, errorFields, type ErrorCode } from '../errors.js';
import type { Logger } from './logger.js';
import {
  liveness,
  readiness,
  statusBody,
  type Readiness,
  type ReadinessOptions,
  type TailerStatus,
} from './status.js';

/** Loopback: status and metrics reveal positions and topology, so exposing them is a deliberate choice. */
export const DEFAULT_STATUS_HOST = '127.0.0.1';

export interface StatusServerDeps {
  /** Called on every request; must be cheap and must not throw (if it does: 503/500, never a guess). */
  status: () => TailerStatus;
  registry: Registry;
  /** Request errors are logged here at warn and above; without it fastify logs nothing. */
  log?: Logger;
  /** Routes another module adds (e.g. a debug page), registered after the built-in ones. */
  extraRoutes?: (app: FastifyInstance) => void;
  readiness?: ReadinessOptions;
}

/** Host and port for `app.listen`: loopback unless a host is configured. */
export function statusListenOptions(options: { host?: string | undefined; port: number }): {
  host: string;
  port: number;
} {
  return { host: options.host ?? DEFAULT_STATUS_HOST, port: options.port };
}

type Observed = { ok: true; status: TailerStatus; readiness: Readiness } | { ok: false };

/** An error answer's `{code, message}`; our own codes are registered (docs/errors.md). */
function errorBody(code: ErrorCode, message: string): { code: string; message: string } {
  return { code, message };
}

const STATUS_UNAVAILABLE = errorBody('STATUS_UNAVAILABLE', 'the tailer status could not be read');

export function buildStatusServer(deps: StatusServerDeps): FastifyInstance {
  // At warn: fastify logs every request at info, and a scrape every few seconds would drown the
  // tailer's own lines.
  const log = deps.log?.child({ module: 'status-server' }, { level: 'warn' });
  // Typed as fastify's logger interface so the instance is a plain FastifyInstance for extraRoutes.
  const logger: FastifyBaseLogger | undefined = log;
  const app: FastifyInstance = logger ? fastify({ loggerInstance: logger }) : fastify({ logger: false });

  const observe = (): Observed => {
    try {
      const status = deps.status();
      return { ok: true, status, readiness: readiness(status, deps.readiness) };
    } catch (err) {
      log?.error(errorFields(err), 'status source threw');
      return { ok: false };
    }
  };

  // Status answers describe this instant; a cache in between would serve a stale "ready".
  app.addHook('onSend', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
  });

  app.get('/healthz', async (_req, reply) => {
    const seen = observe();
    if (!seen.ok) return reply.code(503).send({ ok: false, state: null, error: STATUS_UNAVAILABLE });
    const live = liveness(seen.status);
    if (live.alive) return { ok: true };
    return reply.code(503).send({ ok: false, state: seen.status.state, error: live.error });
  });

  app.get('/readyz', async (_req, reply) => {
    const seen = observe();
    if (!seen.ok) {
      return reply.code(503).send({
        ready: false,
        state: null,
        reason: 'status-unavailable',
        message: STATUS_UNAVAILABLE.message,
      });
    }
    const { state } = seen.status;
    const r = seen.readiness;
    if (r.ready) return { ready: true, state };
    return reply.code(503).send({ ready: false, state, reason: r.reason, message: r.message });
  });

  app.get('/status', async (_req, reply) => {
    const seen = observe();
    if (!seen.ok) return reply.code(500).send({ error: STATUS_UNAVAILABLE });
    return statusBody(seen.status, seen.readiness);
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await deps.registry.metrics();
    return reply.type(deps.registry.contentType).send(text);
  });

  app.setNotFoundHandler(async (req, reply) =>
    reply.code(404).send({ error: errorBody('NOT_FOUND', `no route ${req.method} ${req.url}`) }),
  );

  // Client errors keep fastify's message (it names what was wrong with the request); server errors
  // get a generic one, since an internal message may carry details nobody outside should see.
  app.setErrorHandler(async (err: { statusCode?: number; code?: string; message?: string }, req, reply) => {
    const status =
      err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      log?.error({ err: err.message, code: errorCodeOf(err), url: req.url }, 'status server error');
      return reply.code(500).send({ error: errorBody('INTERNAL', 'internal error') });
    }
    // fastify's own code (FST_ERR_…) says more, when it has one.
    const body = errorBody('BAD_REQUEST', err.message ?? '');
    return reply.code(status).send({ error: { ...body, code: err.code ?? body.code } });
  });

  deps.extraRoutes?.(app);
  return app;
}
