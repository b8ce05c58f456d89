/**
 * The `cachetail` command-line conventions (issue #17 item 3), in-process through the dispatcher with
 * stdout and stderr captured: every command answers -h/--help with its usage (exit 0) whatever else is
 * on the line, --version is package.json's, the top-level usage fits 100 columns, and a command line a
 * command does not accept exits 2 with a line naming its help.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli, topLevelUsage } from '../../../src/commands/dispatch.js';
import { commands } from '../../../src/commands/index.js';

/** The first line of each command's --help; a new command must be added here. */
const USAGE_LINES: Record<string, string> = {
  tail: 'usage: cachetail tail [--config FILE]',
  binlog: 'usage: cachetail binlog [options] <file…>   (- reads stdin; gzipped input is recognised)',
  edge: 'usage: cachetail edge [--config FILE]',
  doctor: 'usage: cachetail doctor [--config FILE] [--json] [--primary HOST:PORT]',
  kafka: 'usage: cachetail kafka init [--config FILE] [--json]',
  consume: 'usage: cachetail consume [--config FILE]',
  outbox: 'usage: cachetail outbox cleanup --host HOST --user USER --database DB [options]',
  demo: 'usage: cachetail demo [--once] [--no-kafka]',
  replay: 'usage: cachetail replay --from BOUND [--to BOUND] [--file PATH…] [options]',
};

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await runCli(argv);
    return { code, stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

const lines = (text: string): string[] => text.replace(/\n$/, '').split('\n');

afterEach(() => vi.restoreAllMocks());

describe('cachetail <command> --help', () => {
  it('the table above lists every command', () => {
    expect(Object.keys(commands).sort()).toEqual(Object.keys(USAGE_LINES).sort());
  });

  for (const [name, usageLine] of Object.entries(USAGE_LINES)) {
    it(`${name}: --help and -h print the usage and options on stdout, exit 0, whatever else is there`, async () => {
      const help = await cli(name, '--help');
      expect(help.code).toBe(0);
      expect(help.stderr).toBe('');
      expect(lines(help.stdout)[0]).toBe(usageLine);
      expect(help.stdout).toContain('\n  -h, --help ');
      expect(lines(help.stdout).filter((line) => line.length > 100)).toEqual([]);

      expect(await cli(name, '-h')).toEqual(help);
      expect(await cli(name, '--no-such-option', 'extra', '-h', '--json')).toEqual(help);
      expect(await cli('help', name)).toEqual(help);
    });

    it(`${name}: an unknown option exits 2 with one stderr line naming the help`, async () => {
      expect(await cli(name, '--no-such-option')).toEqual({
        code: 2,
        stdout: '',
        stderr: `cachetail ${name}: unknown option --no-such-option (see cachetail ${name} --help) [USAGE]\n`,
      });
    });
  }

  it('-h after -- is an argument, not a request for help', async () => {
    expect(await cli('tail', '--', '-h')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'cachetail tail: unexpected argument "-h" (see cachetail tail --help) [USAGE]\n',
    });
  });

  it('an option without its value names the option and the help', async () => {
    expect(await cli('edge', '--config')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'cachetail edge: option --config needs a value (see cachetail edge --help) [USAGE]\n',
    });
  });
});

describe('cachetail itself', () => {
  it('--version and -v print the version in package.json', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(await cli('--version')).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    expect(await cli('-v')).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('--help, -h and help list every command on one line each, within 100 columns', async () => {
    const help = await cli('--help');
    expect(help).toEqual({ code: 0, stdout: topLevelUsage(), stderr: '' });
    expect(await cli('-h')).toEqual(help);
    expect(await cli('help')).toEqual(help);
    const text = lines(help.stdout);
    expect(text[0]).toBe('usage: cachetail <command> [options]');
    expect(text.filter((line) => line.length > 100)).toEqual([]);
    for (const name of Object.keys(commands)) {
      expect(text.filter((line) => line.startsWith(`  ${name} `))).toHaveLength(1);
    }
    expect(help.stdout).toContain('\ncachetail --version ');
  });

  it('no command: the usage on stderr, exit 2', async () => {
    expect(await cli()).toEqual({ code: 2, stdout: '', stderr: topLevelUsage() });
  });

  it('an unknown command or option exits 2 naming cachetail --help', async () => {
    expect(await cli('tial', '--help')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'cachetail: unknown command "tial" (see cachetail --help) [USAGE]\n',
    });
    expect(await cli('--verbose')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'cachetail: unknown option --verbose (see cachetail --help) [USAGE]\n',
    });
    expect(await cli('help', 'tial')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'cachetail: unknown command "tial" (see cachetail --help) [USAGE]\n',
    });
  });
});
