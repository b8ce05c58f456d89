#!/usr/bin/env node
/**
 * `cachetail` command line. With the command modules it dispatches to (src/commands/dispatch.ts), the
 * only place that reads the environment, starts long-running work, handles signals and sets the exit code.
 */
import { runCli } from './commands/dispatch.js';
import { CachetailError, errorMessage } from './errors.js';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const code = err instanceof CachetailError ? ` [${err.code}]` : '';
    process.stderr.write(`cachetail: ${errorMessage(err)}${code}\n`);
    process.exitCode = 1;
  },
);
