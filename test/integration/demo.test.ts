/**
 * `npm start` as a newcomer runs it, in a subprocess with its own cluster: `--once` plays the scenario
 * to "Monkey" and exits 0 with everything cleaned up; without it the demo keeps serving until Ctrl-C, and
 * the same Ctrl-C arriving twice (the terminal's and npm's copy) stops it once, in order. Signals to each
 * of the demo's processes, and a second Ctrl-C that stops at once: demo-signals.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function run(command: string, args: string[]): Running {
  const child = spawn(command, args, {
    cwd: process.cwd(),
    // The demo's own cluster; no CI=true tweaks to its output. Kafka stays off (see each test).
    env: { ...process.env, CACHETAIL_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

const baseDirOf = (out: string): string => {
  const m = /devcluster: \S+ base dir (\S+)/.exec(out);
  if (!m) throw new Error(`no base dir in the output:\n${out}`);
  return m[1];
};

const EXPECTED_STEPS = [
  '1. Before: jsobel is called “Jason” in both regions',
  '2. Replication to virginia lags',
  '3. jsobel renames himself “Monkey”: POST through the edge → california',
  '4. jsobel reloads his profile: his cookie pins him to california → “Monkey”',
  '5. Another reader in virginia (no cookie) → served by virginia: cache miss, the lagging replica says “Jason”',
  "6. The stale “Jason” is trapped in virginia's cache",
  '7. Replication resumes: the replica commits the rename',
  "8. virginia's tailer read the commit from the replica's binlog and deleted user:jsobel",
  '9. The next reader in virginia: cache miss → replica → “Monkey”',
];

describe('npm start', () => {
  it('--once: plays the scenario to “Monkey”, prints where to look, cleans up, exits 0', async () => {
    const demo = run('npm', ['start', '--silent', '--', '--once']);
    const code = await demo.exited;
    const out = demo.output();
    expect(code, out).toBe(0);
    const steps = out.split('\n').filter((l) => /^\d\. /.test(l));
    expect(steps).toEqual(EXPECTED_STEPS);
    expect(out).toContain('     served by: virginia · source: database · name: Monkey\n');
    expect(out).toContain('── The demo is running: where to look ──');
    expect(out).toMatch(/ {2}Dashboard {8}http:\/\/127\.0\.0\.1:\d+\/dashboard\/\n/);
    expect(out).toMatch(/ {2}Edge proxy {7}http:\/\/127\.0\.0\.1:\d+\/users\/jsobel\n/);
    expect(out).toMatch(/ {2}MariaDB primary {2}mariadb -h 127\.0\.0\.1 -P \d+ -u root {3}\(california\)\n/);
    expect(out).not.toContain('Press Ctrl-C');
    expect(out.trimEnd().endsWith('Stopped; all servers ended and their files removed.')).toBe(true);
    expect(existsSync(baseDirOf(out))).toBe(false);
  }, 180_000);

  it('keeps serving until Ctrl-C; the same Ctrl-C passed along again does not cut the cleanup short', async () => {
    // node + tsx directly (what `npm start` runs), so the signals reach the demo's own process.
    const demo = run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'demo', '--no-kafka']);
    try {
      await waitFor(
        'the demo to be ready',
        () => (demo.output().includes('Press Ctrl-C') ? true : undefined),
        150_000,
        100,
      );
      const out = demo.output();
      const dashboard = /Dashboard {8}(\S+)/.exec(out)![1];
      const state = (await (await fetch(new URL('api/state', dashboard))).json()) as {
        mode: string;
        tailer: { state: string; ready: boolean };
        regions: { name: string }[];
      };
      expect(state.mode).toBe('demo');
      expect([state.tailer.state, state.tailer.ready]).toEqual(['streaming', true]);
      expect(state.regions.map((r) => r.name)).toEqual(['california', 'virginia']);
      const edge = /Edge proxy {7}(\S+)/.exec(out)![1];
      const page = await fetch(edge, { headers: { accept: 'application/json' } });
      expect(page.headers.get('x-cachetail-region')).toBe('virginia');
      expect(((await page.json()) as { name: string }).name).toBe('Monkey');

      demo.child.kill('SIGINT');
      await waitFor(
        'the stop to begin',
        () => (demo.output().includes('Stopping…') ? true : undefined),
        10_000,
        20,
      );
      // What npm adds to a terminal's Ctrl-C: the same signal once more, a moment later (within ECHO_MS).
      demo.child.kill('SIGINT');
      const code = await demo.exited;
      const all = demo.output();
      expect(code, all).toBe(0);
      expect(all).not.toContain('Stopping at once');
      expect(all.trimEnd().endsWith('Stopped; all servers ended and their files removed.')).toBe(true);
      expect(existsSync(baseDirOf(all))).toBe(false);
      await expect(fetch(dashboard)).rejects.toThrow();
    } finally {
      if (demo.child.exitCode === null) demo.child.kill('SIGKILL');
    }
  }, 240_000);
});
