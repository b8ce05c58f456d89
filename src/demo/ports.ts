/**
 * Listening for the demo: on 127.0.0.1 only, on a memorable port when it is free (so the printed URLs
 * stay the same from one run to the next), else on any free port rather than failing.
 */
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { freePort } from '../devcluster/proc.js';
import { CachetailError } from '../errors.js';

export const DEMO_HOST = '127.0.0.1';

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, DEMO_HOST, () => probe.close(() => resolve(true)));
  });
}

/** Listens on `preferred` if free (0 = any port); returns the port. */
export async function listenPreferred(app: FastifyInstance, preferred: number): Promise<number> {
  const port = preferred > 0 && (await isFree(preferred)) ? preferred : 0;
  await app.listen({ host: DEMO_HOST, port });
  const address = app.server.address();
  if (address === null || typeof address === 'string')
    // It just listened on host:port, so it has one.
    throw new CachetailError('INTERNAL', 'the server has no TCP address');
  return address.port;
}

/**
 * A port to listen on later: `preferred` if free now, else one the OS hands out. Another process may
 * take it in between; the caller's listen then fails loudly rather than silently moving.
 */
export async function pickPort(preferred: number): Promise<number> {
  return preferred > 0 && (await isFree(preferred)) ? preferred : freePort();
}
