/**
 * The cluster's reaper for real: an owner process that starts a registered "server" (sleep) and a reaper,
 * then dies of SIGKILL — no exit handler runs — and the reaper kills the server by PID and removes the
 * base dir, leaving alone a PID in the registry that is not one of ours. Released after an orderly stop,
 * it ends without touching anything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, requireBinary, spawnService } from '../../../src/devcluster/proc.js';
import { startReaper } from '../../../src/devcluster/reaper.js';
import { waitFor } from '../../helpers/wait.js';

const SLEEP = requireBinary('sleep', 'coreutils');
const started: number[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const pid of started.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function baseDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cachetail-reaper-test-'));
  dirs.push(dir);
  return dir;
}

/** A process of the kind the registry must never kill: same registry entry, no owner marker. */
function foreignSleeper(dir: string): number {
  const child = spawn(SLEEP, ['600'], { stdio: 'ignore' });
  started.push(child.pid!);
  mkdirSync(join(dir, 'pids'), { recursive: true });
  writeFileSync(join(dir, 'pids', 'foreign.pid'), `${child.pid}\n`);
  return child.pid!;
}

// The owner: registers a sleeper under `dir`, starts the reaper, prints both PIDs, then idles.
const OWNER = `
const { spawnService, requireBinary } = await import(${JSON.stringify(new URL('../../../src/devcluster/proc.ts', import.meta.url).href)});
const { startReaper } = await import(${JSON.stringify(new URL('../../../src/devcluster/reaper.ts', import.meta.url).href)});
const dir = process.argv[1];
const server = await spawnService(requireBinary('sleep', ''), ['600'], { baseDir: dir, name: 'sleeper', logFile: dir + '/sleeper.log' });
const reaper = startReaper(dir);
console.log(JSON.stringify({ server: server.pid, reaper: reaper.pid }));
setInterval(() => undefined, 1000);
`;

async function startOwner(dir: string): Promise<{ owner: ChildProcess; server: number; reaper: number }> {
  const owner = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', OWNER, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  started.push(owner.pid!);
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    owner.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    owner.once('exit', (code) => reject(new Error(`the owner exited (${code}) before it was ready`)));
  });
  const pids = JSON.parse(line) as { server: number; reaper: number };
  started.push(pids.server, pids.reaper);
  return { owner, ...pids };
}

describe('the reaper', () => {
  it('kills the registered servers and removes the base dir when its owner is SIGKILLed', async () => {
    const dir = baseDir();
    const foreign = foreignSleeper(dir);
    const { owner, server, reaper } = await startOwner(dir);
    expect([isAlive(server), isAlive(reaper)]).toEqual([true, true]);

    owner.kill('SIGKILL');
    await waitFor('the server and the base dir to be gone', () =>
      !isAlive(server) && !existsSync(dir) ? true : undefined,
    );
    await waitFor('the reaper to end', () => (isAlive(reaper) ? undefined : true));
    expect(isAlive(foreign)).toBe(true);
  }, 30_000);

  it('ends without touching anything once released', async () => {
    const dir = baseDir();
    const server = await spawnService(SLEEP, ['600'], {
      baseDir: dir,
      name: 'sleeper',
      logFile: join(dir, 'sleeper.log'),
    });
    started.push(server.pid);
    const reaper = startReaper(dir);
    expect(isAlive(reaper.pid!)).toBe(true);

    reaper.release();
    await waitFor('the reaper to end', () => (isAlive(reaper.pid!) ? undefined : true));
    expect(isAlive(server.pid)).toBe(true);
    expect(existsSync(join(dir, 'pids', 'sleeper.pid'))).toBe(true);
  });
});
