/**
 * The real entry point, spawned as `tsx src/cli.ts`: what test/unit/commands/cli.test.ts shows through
 * the dispatcher holds for the process too (output, exit code, package.json found from src/).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));

function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node_modules/.bin/tsx', ['src/cli.ts', ...args], { cwd: root }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

describe('tsx src/cli.ts', () => {
  it('--version prints the version in package.json', async () => {
    const { version } = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { version: string };
    expect(await run('--version')).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('tail --help prints its usage and exits 0', async () => {
    const r = await run('tail', '--help');
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/^usage: cachetail tail \[--config FILE\]\n/);
  });

  it('tail --foo exits 2 naming the help', async () => {
    expect(await run('tail', '--foo')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'cachetail tail: unknown option --foo (see cachetail tail --help) [USAGE]\n',
    });
  });
});
