/**
 * The command-line conventions every `cachetail` command follows: `-h`/`--help` anywhere before `--`
 * asks for the command's help (exit 0, on stdout, whatever else is on the line), and a command line the
 * command does not accept is a USAGE error (exit 2, on stderr) whose message names that help.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CachetailError, errorMessage } from '../errors.js';

/** The exit code of a command line the command does not accept. */
export const EXIT_USAGE = 2;

export type CommandArgs<T extends ParseArgsConfig> =
  { help: true } | ({ help: false } & ReturnType<typeof parseArgs<T>>);

function usageError(message: string): CachetailError {
  return new CachetailError('USAGE', message);
}

type Token = NonNullable<ReturnType<typeof parseArgs>['tokens']>[number];

/**
 * node's parseArgs with -h/--help added and the command line's mistakes turned into USAGE errors with
 * short messages of our own (`unknown option --foo`; node's wording differs between versions). The
 * options need not declare help; a command reads `help` first.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): CommandArgs<T> {
  // A lenient pass first: it reads the line as the strict one would, but without stopping at the
  // first mistake, so that --help wins over anything else there.
  const { tokens } = parseArgs({
    args: config.args,
    options: { ...config.options, help: { type: 'boolean', short: 'h' } },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return { help: true };
  const mistake = tokens.map((t) => mistakeIn(t, config)).find((m) => m !== undefined);
  if (mistake !== undefined) throw usageError(mistake);
  try {
    return { help: false, ...parseArgs(config) };
  } catch (err) {
    // A mistake mistakeIn does not know of: node's first sentence.
    const sentence = errorMessage(err).split(/\.(?:\s|$)|\n/)[0];
    throw usageError(sentence.charAt(0).toLowerCase() + sentence.slice(1));
  }
}

/** What the strict parse would refuse in this token, said briefly. */
function mistakeIn(token: Token, config: ParseArgsConfig): string | undefined {
  if (token.kind === 'positional' && !config.allowPositionals) {
    return `unexpected argument ${JSON.stringify(token.value)}`;
  }
  if (token.kind !== 'option') return undefined;
  const option =
    config.options && Object.hasOwn(config.options, token.name) ? config.options[token.name] : undefined;
  if (!option) return `unknown option ${token.rawName}`;
  if (option.type === 'boolean' && token.inlineValue) return `option ${token.rawName} takes no value`;
  // node takes the next argument as the value even when it looks like an option; strict, it refuses one.
  const looksLikeOption = !token.inlineValue && token.value?.startsWith('-');
  if (option.type === 'string' && (token.value === undefined || looksLikeOption)) {
    return `option ${token.rawName} needs a value`;
  }
  return undefined;
}

export function isUsageError(err: unknown): err is CachetailError {
  return err instanceof CachetailError && err.code === 'USAGE';
}

/** The stderr line of a USAGE error; `command` as typed after `cachetail` ('' for cachetail itself). */
export function usageErrorLine(command: string, err: unknown): string {
  const name = command === '' ? 'cachetail' : `cachetail ${command}`;
  return `${name}: ${errorMessage(err)} (see ${name} --help) [USAGE]\n`;
}
