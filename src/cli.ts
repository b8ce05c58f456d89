#!/usr/bin/env node
/**
 * `cachetail` command line. With main entry files, the only place that reads the environment, starts
 * long-running work, handles signals and sets the exit code.
 */
import { parseArgs } from 'node:util';
import { loadTailerConfig } from './config/tailer.js';
import { CachetailError, errorMessage } from './errors.js';
import { createLogger } from './observability/logger.js';
import { createTailer } from './tailer/create.js';

const USAGE = `usage: cachetail <command> [options]

commands:
  tail [--config FILE]   tail the local replica's binlog and invalidate memcached (config: FILE and/or
                         CACHETAIL_* environment variables; see README "Configuration")
  demo [--once]          start the local two-region cluster and play the Jason → Monkey scenario
                         (--once: exit after the scenario)
  help                   this text
`;

async function tail(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } } });
  const config = loadTailerConfig(values.config, process.env);
  const log = createLogger(config.log.level);
  const { tailer, sink } = createTailer(config, log);
  let signals = 0;
  const onSignal = (sig: string): void => {
    if (++signals > 1) process.exit(130);
    log.info({ signal: sig }, 'stopping');
    void tailer.stop();
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

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'tail':
      return tail(rest);
    case 'demo': {
      const { runDemo } = await import('./demo.js');
      return runDemo(rest);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`cachetail: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const code = err instanceof CachetailError ? ` [${err.code}]` : '';
    process.stderr.write(`cachetail: ${errorMessage(err)}${code}\n`);
    process.exitCode = 1;
  },
);
