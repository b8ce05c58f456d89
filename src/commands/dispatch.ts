/**
 * `cachetail <command> …`: picks the command, answers `--help` and `--version` itself, and turns a
 * command's USAGE error into the line that names its help (exit 2). Other errors are left to src/cli.ts.
 */
import { readFileSync } from 'node:fs';
import { CachetailError } from '../errors.js';
import { commands } from './index.js';
import { EXIT_USAGE, isUsageError, usageErrorLine } from './usage.js';

/** One line per command; the summaries are short enough for every line to fit 100 columns. */
export function topLevelUsage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length)) + 2;
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`);
  return `usage: cachetail <command> [options]

commands:
${lines.join('\n')}

cachetail <command> --help   that command's usage and options
cachetail --version          the version of cachetail
`;
}

/**
 * package.json's version, read when asked. It sits two levels up from this file both in src/commands/
 * (run through tsx) and in dist/commands/ (the installed package, which always ships package.json).
 */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function usageError(message: string): number {
  process.stderr.write(usageErrorLine('', new CachetailError('USAGE', message)));
  return EXIT_USAGE;
}

export async function runCli(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(topLevelUsage());
    return EXIT_USAGE;
  }
  if (name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    process.stdout.write(topLevelUsage());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  // `cachetail help tail` is `cachetail tail --help`.
  if (name === 'help') return runCommand(rest[0], ['--help']);
  if (name.startsWith('-')) return usageError(`unknown option ${name}`);
  return runCommand(name, rest);
}

async function runCommand(name: string, args: string[]): Promise<number> {
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) return usageError(`unknown command ${JSON.stringify(name)}`);
  try {
    return await command.run(args);
  } catch (err) {
    if (!isUsageError(err)) throw err;
    process.stderr.write(usageErrorLine(name, err));
    return EXIT_USAGE;
  }
}
