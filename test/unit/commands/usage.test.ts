/** parseCommandArgs (src/commands/usage.ts): help first, then node's parseArgs with USAGE errors. */
import { describe, expect, it } from 'vitest';
import { parseCommandArgs, usageErrorLine } from '../../../src/commands/usage.js';

const options = { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } } as const;
const parse = (args: string[], allowPositionals = false) =>
  parseCommandArgs({ args, options, allowPositionals });

describe('parseCommandArgs', () => {
  it('parses as parseArgs does when no help is asked', () => {
    expect(parse(['-c', 'f.json', '--json', 'init'], true)).toEqual({
      help: false,
      values: { config: 'f.json', json: true },
      positionals: ['init'],
    });
  });

  it('-h or --help anywhere before -- is help, even beside mistakes', () => {
    for (const args of [
      ['--help'],
      ['-h'],
      ['--bogus', '-h'],
      ['x', '-h'],
      ['--json=1', '--help', '--config'],
    ]) {
      expect([args, parse(args)]).toEqual([args, { help: true }]);
    }
    // As node reads it, a -h right after a string option is that option's value, not help.
    expect(parse(['--config=-h'])).toEqual({ help: false, values: { config: '-h' }, positionals: [] });
  });

  it('turns each mistake into a USAGE error with a short message', () => {
    const cases: Array<[string[], string]> = [
      [['--bogus'], 'unknown option --bogus'],
      [['-x'], 'unknown option -x'],
      [['--bogus=1'], 'unknown option --bogus'],
      [['init'], 'unexpected argument "init"'],
      [['--', '-h'], 'unexpected argument "-h"'],
      [['--config'], 'option --config needs a value'],
      [['-c', '--json'], 'option -c needs a value'],
      [['--config', '-h'], 'option --config needs a value'],
      [['--json=1'], 'option --json takes no value'],
    ];
    for (const [args, message] of cases) {
      expect(() => parse(args), args.join(' ')).toThrow(expect.objectContaining({ code: 'USAGE', message }));
    }
  });

  it('the error line names the command and its help', () => {
    const err = new Error('unknown option --bogus');
    expect(usageErrorLine('outbox', err)).toBe(
      'cachetail outbox: unknown option --bogus (see cachetail outbox --help) [USAGE]\n',
    );
    expect(usageErrorLine('', err)).toBe(
      'cachetail: unknown option --bogus (see cachetail --help) [USAGE]\n',
    );
  });
});
