import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { buildStatusServer } from '../../src/observability/status-server.js';
import { tailerStatus } from '../../src/tailer/status.js';
import type { Tailer } from '../../src/tailer/tailer.js';

/**
 * The real status server (/status, /readyz, …) in front of an in-process tailer (test/helpers/tailer.ts),
 * as `cachetail tail` serves it: an edge router can poll its watermark. Listens on 127.0.0.1, a free port.
 */
export async function serveTailerStatus(
  tailer: Tailer,
  region: string,
): Promise<{ url: string; close: () => Promise<void> }> {
  const app = buildStatusServer({
    status: () => tailerStatus(tailer, region, null),
    registry: new Registry(),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/status`, close: () => app.close() };
}
