/** `cachetail tail`: run the tailer from config until SIGTERM/SIGINT. */
import { parseArgs } from 'node:util';
import { loadTailerConfig } from '../config/tailer.js';
import { createLogger } from '../observability/logger.js';
import { createTailer } from '../tailer/create.js';

export async function tailCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } } });
  const config = loadTailerConfig(values.config, process.env);
  const log = createLogger(config.log.level);
  const { tailer, sink } = createTailer(config, log);
  let signals = 0;
  const onSignal = (sig: string): void => {
    if (++signals > 1) process.exit(130);
    log.info({ signal: sig }, 'stopping');
    void tailer.stop(config.shutdown.drainMs);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await tailer.start();
  try {
    await tailer.done;
  } finally {
    await sink.close();
  }
  return tailer.state === 'failed' ? 1 : 0;
}
