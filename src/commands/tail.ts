/**
 * `cachetail tail`: the sidecar (assembled in src/wiring/sidecar.ts). Serves /healthz /readyz /metrics
 * /status, runs the tailer, and on SIGTERM/SIGINT drains in-flight deletes and writes the checkpoint
 * before exiting 0; a second signal exits at once (130).
 */
import { parseArgs } from 'node:util';
import { loadTailerConfig } from '../config/tailer.js';
import { createLogger } from '../observability/logger.js';
import { assembleSidecar } from '../wiring/sidecar.js';

export async function tailCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } } });
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
