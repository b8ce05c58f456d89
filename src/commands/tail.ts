/**
 * `cachetail tail`: the sidecar (assembled in src/wiring/sidecar.ts). Serves /healthz /readyz /metrics
 * /status, runs the tailer, and on SIGTERM/SIGINT drains in-flight deletes and writes the checkpoint
 * before exiting 0; a second signal exits at once (130).
 */
import { loadTailerConfig } from '../config/tailer.js';
import { createLogger } from '../observability/logger.js';
import { assembleSidecar } from '../wiring/sidecar.js';
import { parseCommandArgs } from './usage.js';

export const TAIL_HELP = `usage: cachetail tail [--config FILE]

Tails the local replica's binlog and deletes the keys its transactions name from memcached (and/or
publishes them to Kafka). Serves /healthz, /readyz, /metrics and /status. On SIGTERM/SIGINT it
drains in-flight deletes and writes the checkpoint, then exits; a second signal exits at once (130).

  -c, --config FILE   JSON config file; CACHETAIL_<PATH> environment variables override its fields
                      (every setting: docs/config-reference.md)
  -h, --help          this text

Exit status: 0 stopped by a signal, 1 invalid config or the tailer failed, 2 usage.
`;

export async function tailCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs({ args, options: { config: { type: 'string', short: 'c' } } });
  if (parsed.help) {
    process.stdout.write(TAIL_HELP);
    return 0;
  }
  const { values } = parsed;
  const config = loadTailerConfig(values.config, process.env);
  const log = createLogger(config.log.level);
  const sidecar = await assembleSidecar(config, log);

  let signals = 0;
  const onSignal = (signal: string): void => {
    if (++signals > 1) process.exit(130);
    log.info({ signal }, 'stopping');
    void sidecar.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  await sidecar.run();
  return sidecar.tailer.state === 'failed' && signals === 0 ? 1 : 0;
}
