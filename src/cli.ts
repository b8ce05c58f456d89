#!/usr/bin/env node
/**
 * `cachetail` command line. With the command modules it dispatches to, the only place that reads the
 * environment, starts long-running work, handles signals and sets the exit code.
 */
import { commands } from './commands/index.js';
import { CachetailError, errorMessage } from './errors.js';

function usage(): string {
  const width = Math.max(...Object.values(commands).map((c) => c.usage.length));
  const lines = Object.values(commands).map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`);
  return `usage: cachetail <command> [options]\n\ncommands:\n${lines.join('\n')}\n  help${' '.repeat(Math.max(0, width - 4))}  this text\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`cachetail: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  return command.run(rest);
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
