/**
 * The sidecar `cachetail tail` runs, assembled from validated config: the memcached tailer and its sink,
 * the optional Kafka tailer and InvalidationApplied publisher, the consistency sampler, the metrics
 * registry and the status server (/healthz /readyz /metrics /status, the read-only dashboard). No env,
 * no signals, no exit: the command owns those.
 *
 * An unreachable replica is retried with backoff while the status server reports why. A refusal
 * (preflight, login, TLS) and a gap under the fail-closed policy are not retried: the process stays up,
 * alive and not ready, /status and /readyz naming the fix — no crash loop — until an operator acts.
 */
import { Registry } from 'prom-client';
import type { TailerConfig } from '../config/schema.js';
import { dashboardRoutes } from '../dashboard/routes.js';
import { CachetailError, errorMessage } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { collectProcessMetrics, createTailerMetrics } from '../observability/metrics.js';
import { buildStatusServer } from '../observability/status-server.js';
import { createTailerSampler } from '../sampler/tailer.js';
import { createKafkaMetrics } from '../sinks/kafka/metrics.js';
import { tailerStatus } from '../tailer/status.js';
import type { Tailer } from '../tailer/tailer.js';
import { createAppliedPublisher, createKafkaTailer } from './kafka-tailer.js';
import { createTailer } from './memcached-tailer.js';

export interface Sidecar {
  /** The memcached tailer: its state is the process's readiness. */
  readonly tailer: Tailer;
  /**
   * Serves status, replays the journals a previous run left, starts every part, and resolves when the
   * memcached tailer ended by itself (fail-closed gap, fatal error) or `stop()` was called.
   */
  run(): Promise<void>;
  /** Drains in-flight deletes (up to shutdown.drainMs), writes the checkpoints, closes everything. */
  stop(): Promise<void>;
}

export async function assembleSidecar(config: TailerConfig, log: Logger): Promise<Sidecar> {
  const registry = new Registry();
  collectProcessMetrics(registry);
  const metrics = createTailerMetrics(registry, { servers: config.memcached.servers });
  // The consistency sampler (opt-in): 1 in N delivered keys checked against the replica after each delay.
  const consistency = await createTailerSampler(config.consistency, {
    source: config.source,
    memcached: config.memcached,
    log,
    registry,
  });
  const { tailer, sink, checkpointPath } = createTailer(config, log, metrics, {
    onDelivered: consistency ? (txns, ackTimeMs) => consistency.observe(txns, ackTimeMs) : undefined,
  });
  // Kafka fan-out: a second tailer with its own connection and checkpoint, so a Kafka outage never
  // holds up a memcached delete (docs/kafka.md). Its failures never make this process not ready.
  const kafkaMetrics = createKafkaMetrics(registry);
  const kafkaSide = config.kafka.enabled ? createKafkaTailer(config, log, kafkaMetrics) : null;
  const status = () => {
    const s = tailerStatus(tailer, config.region, checkpointPath);
    return consistency ? { ...s, consistency: consistency.report() } : s;
  };
  const applied = createAppliedPublisher(
    config,
    log,
    { watermark: () => status().watermark, source: () => tailer.identity },
    kafkaMetrics,
  );
  const readiness = { maxLagSeconds: config.status.maxLagSeconds };
  const server = buildStatusServer({
    status,
    registry,
    log,
    readiness,
    // The dashboard, read-only (no scenario button; recent keys not recorded here), at /dashboard/.
    extraRoutes: dashboardRoutes({ status, registry, readiness }),
  });

  const stopping = new AbortController();
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      stopping.abort();
      await Promise.all([
        tailer.stop(config.shutdown.drainMs),
        kafkaSide?.tailer.stop(config.shutdown.drainMs),
        applied?.stop(),
      ]);
    })();
    return stopped;
  };
  const whenStopped = new Promise<void>((resolve) =>
    stopping.signal.addEventListener('abort', () => resolve()),
  );

  const run = async (): Promise<void> => {
    await server.listen({ host: config.status.host, port: config.status.port });
    log.info({ address: server.addresses() }, 'status server listening');
    try {
      // Replays journals a previous run left for servers that were down, before anything new.
      await sink.start();
      if (kafkaSide) void startWithRetry('kafka', kafkaSide.tailer, stopping.signal, log);
      applied?.start();
      await startWithRetry('memcached', tailer, stopping.signal, log);
      await Promise.race([tailer.done.catch(() => undefined), whenStopped]);
      if (!stopping.signal.aborted) {
        // The tailer ended by itself (fail-closed gap or a fatal error): keep reporting until stopped.
        log.error({ code: tailer.lastError?.code }, 'tailer stopped; serving status until SIGTERM');
        await whenStopped;
      }
      await stopped;
    } finally {
      await kafkaSide?.sink.close();
      await sink.close();
      await consistency?.close();
      await server.close();
    }
  };

  return { tailer, run, stop };
}

/**
 * Starts a tailer, retrying a failed start that may pass later (unreachable replica, timeout) with
 * capped backoff while its status reports why. Returns when it runs, when stopped, on a fail-closed gap,
 * or on a refusal (preflight, login, TLS, checkpoint): retrying those cannot help, so the process stays
 * up, alive and not ready, /status naming the fix, until an operator fixes the setup and restarts it.
 */
async function startWithRetry(what: string, tailer: Tailer, stop: AbortSignal, log: Logger): Promise<void> {
  for (let attempt = 0; !stop.aborted; attempt++) {
    try {
      await tailer.start();
      return;
    } catch (err) {
      if (stop.aborted || tailer.gap || tailer.refused) return;
      const delay = Math.min(60_000, 1_000 * 2 ** Math.min(attempt, 6));
      tailer.lastError =
        err instanceof CachetailError
          ? err
          : new CachetailError('START_FAILED', errorMessage(err), { retryable: true });
      log.error(
        { tailer: what, err: errorMessage(err), code: tailer.lastError.code, retryInMs: delay },
        'tailer could not start; retrying',
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        stop.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
  }
}
