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

export async function startMemcached(opts: { baseDir: string; name: string }): Promise<MemcachedServer> {
  const memcached = requireBinary('memcached', 'apt-get install memcached');
  const dir = join(opts.baseDir, opts.name);
  await mkdir(dir, { recursive: true });
  return withRetries(3, async () => {
    const port = await freePort();
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
        '-t',
        '2',
        '-v',
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
