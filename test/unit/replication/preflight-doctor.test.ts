// `cachetail doctor` argument and config errors, in-process (no server needed): all exit 2 with a
// message naming the problem. Runs against real servers are in test/integration/preflight.test.ts.
import { describe, expect, it } from 'vitest';
import { doctorCommand } from '../../../src/commands/doctor.js';

async function doctor(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await doctorCommand(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
  });
  return { code, stdout, stderr };
}

const ENV = { CACHETAIL_SOURCE_USER: 'cachetail', CACHETAIL_MEMCACHED_SERVERS: '127.0.0.1:11211' };

describe('cachetail doctor errors', () => {
  it('rejects an unknown option, naming the help', async () => {
    const run = await doctor(['--verbose'], ENV);
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: 'cachetail doctor: unknown option --verbose (see cachetail doctor --help) [USAGE]\n',
    });
  });

  it('rejects a --primary that is not HOST:PORT', async () => {
    const run = await doctor(['--primary', 'db1'], ENV);
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: 'cachetail doctor: --primary "db1": expected HOST:PORT (see cachetail doctor --help) [USAGE]\n',
    });
  });

  it('reports an unreadable config file, as JSON with --json', async () => {
    const run = await doctor(['--json', '--config', '/nonexistent/cachetail.json'], ENV);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({
      error: {
        code: 'CONFIG_READ',
        message: expect.stringMatching(/^cannot read config file \/nonexistent\/cachetail\.json: ENOENT/),
      },
    });
    expect(run.stderr).toMatch(/^cachetail doctor: cannot read config file .* \[CONFIG_READ\]\n$/);
  });
});
