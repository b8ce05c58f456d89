/**
 * `cachetail consume [--config FILE]`: applies the invalidation topic to a memcached tier (config: FILE
 * and/or CACHETAIL_* env vars, see src/consumer/config.ts). Serves /healthz /readyz /status /metrics;
 * on SIGTERM/SIGINT finishes the step in flight (its offsets committed) and exits 0. Exits 1 when the
 * consumer stopped on an error (a malformed message under onMalformed "stop", a fatal Kafka error).
 */
import { Registry } from 'prom-client';
import { createConsumer } from '../consumer/index.js';
import { loadConsumerConfig } from '../consumer/config.js';
import { consumerStatus, startConsumerStatusServer } from '../consumer/status.js';
import { createLogger } from '../observability/logger.js';
import { collectProcessMetrics } from '../observability/metrics.js';
import { parseCommandArgs } from './usage.js';

export const CONSUME_HELP = `usage: cachetail consume [--config FILE]

Applies the invalidation topic to a memcached tier: deletes each message's keys, then commits its
offset (docs/kafka.md). Serves /healthz, /readyz, /status and /metrics. On SIGTERM/SIGINT it
finishes the step in flight, commits it and exits; a second signal exits at once (130).

  -c, --config FILE   JSON config file; CACHETAIL_<PATH> environment variables override its fields
                      (every setting: docs/config-reference.md)
  -h, --help          this text

Exit status: 0 stopped by a signal, 1 invalid config or the consumer stopped on an error, 2 usage.
`;

export async function consumeCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const parsed = parseCommandArgs({ args, options: { config: { type: 'string', short: 'c' } } });
  if (parsed.help) {
    process.stdout.write(CONSUME_HELP);
    return 0;
  }
  const { values } = parsed;
  const config = loadConsumerConfig(values.config, env);
  const log = createLogger(config.log.level);
  const registry = new Registry();
  collectProcessMetrics(registry);
  const { consumer, applier, sink, groupId } = createConsumer(config, log, registry);
  const ids = { region: config.region, topic: config.kafka.topic, groupId };
  const status = await startConsumerStatusServer({
    host: config.status.host,
    port: config.status.port,
    registry,
    status: () => consumerStatus(consumer, applier, ids),
  });
  log.info(
    { address: status.address, ...ids, memcached: config.memcached.servers },
    'status server listening',
  );

  let stopping = false;
  const onSignal = (sig: string): void => {
    if (stopping) process.exit(130);
    stopping = true;
    log.info({ signal: sig }, 'stopping');
    void consumer.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await sink.start();
    await consumer.start();
    await consumer.done;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await consumer.stop().catch(() => undefined);
    await sink.close();
    await status.close();
  }
  const s = applier.stats;
  log.info({ ...s, state: consumer.state }, 'consumer stopped');
  return consumer.state === 'failed' ? 1 : 0;
}
