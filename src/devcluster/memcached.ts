// One memcached per region: the master region's tier and the replica region's tier.
import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, requireBinary, spawnService, waitUntilReady, withRetries } from './proc.js';
import type { Spawned } from './proc.js';

export interface MemcachedServer {
  /** `host:port`, the form memjs and the sink config take. */
  address: string;
  proc: Spawned;
}

export interface StartMemcachedOptions {
  baseDir: string;
  name: string;
  /** A fixed port (restarting a server where its clients expect it); default: a free one. */
  port?: number;
  /** `-vv`: the log then names every key the server is asked to delete ("Deleting <key>"). */
  verbose?: boolean;
}

export async function startMemcached(opts: StartMemcachedOptions): Promise<MemcachedServer> {
  const memcached = requireBinary('memcached', 'apt-get install memcached');
  const dir = join(opts.baseDir, opts.name);
  await mkdir(dir, { recursive: true });
  // A fixed port cannot be fixed by trying another one.
  return withRetries(opts.port ? 1 : 3, async () => {
    const port = opts.port ?? (await freePort());
    const proc = await spawnService(
      memcached,
      // -U 0: no UDP (an amplification vector, and nothing here uses it). -vv would log every command.
      [
        '-l',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        '0',
        '-u',
        'root',
        '-m',
        '32',
        '-c',
        '256',
        // A verbose server gets one worker thread: each worker writes its log lines to stderr in pieces,
        // and two workers interleaved mid-line ("Deleting r3:46<16 new … connection") in a CI run.
        '-t',
        opts.verbose ? '1' : '2',
        opts.verbose ? '-vv' : '-v',
      ],
      { baseDir: opts.baseDir, name: opts.name, logFile: join(dir, 'memcached.log') },
    );
    await waitUntilReady(`memcached ${opts.name}`, proc, () => probeVersion('127.0.0.1', port), 10_000);
    return { address: `127.0.0.1:${port}`, proc };
  });
}

/** Resolves with the server's version string once it answers the text protocol. */
function probeVersion(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let reply = '';
    const done = (value: string | undefined) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(1_000, () => done(undefined));
    socket.once('error', () => done(undefined));
    socket.once('connect', () => socket.write('version\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('VERSION ') ? reply.trim().slice(8) : undefined);
    });
  });
}

/**
 * Test controls for one memcached we started, always by its PID (never by name). `kill` waits until the
 * process is gone, so the port is free for a restart on the same address.
 */
export async function killMemcached(
  server: MemcachedServer,
  signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL',
): Promise<void> {
  if (!server.proc.hasExited()) process.kill(server.proc.pid, signal);
  await server.proc.exited;
}

/** SIGSTOP: the server keeps its port and its data but answers nothing — a hang, not a refusal. */
export function pauseMemcached(server: MemcachedServer): void {
  process.kill(server.proc.pid, 'SIGSTOP');
}

export function resumeMemcached(server: MemcachedServer): void {
  process.kill(server.proc.pid, 'SIGCONT');
}

/** Starts a fresh (empty) memcached on the address `server` had, e.g. after killMemcached. */
export function restartMemcached(
  server: MemcachedServer,
  opts: { baseDir: string; name: string; verbose?: boolean },
): Promise<MemcachedServer> {
  const port = Number(server.address.slice(server.address.lastIndexOf(':') + 1));
  return startMemcached({ ...opts, port });
}
