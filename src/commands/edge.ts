/** `cachetail edge`: the recent-write-pinning reverse proxy, plus its admin listener, until SIGTERM/SIGINT. */
import { Registry, collectDefaultMetrics } from 'prom-client';
import { loadEdgeConfig } from '../edge/config.js';
import { buildEdgeAdmin, buildEdgeProxy, createEdgeRouter } from '../edge/index.js';
import { CachetailError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { parseCommandArgs } from './usage.js';

export const EDGE_HELP = `usage: cachetail edge [--config FILE]

Reverse proxy in front of the application's regions: reads go to the local region; those of a
client that wrote recently (its signed cookie says when, and the write's GTID) to the master region
until the local replica has caught up (docs/edge.md). The admin listener serves /healthz and
/metrics. Stops on SIGTERM/SIGINT.

  -c, --config FILE   JSON config file; CACHETAIL_<PATH> environment variables override its fields
                      (every setting: docs/config-reference.md)
  -h, --help          this text

Exit status: 0 stopped by a signal, 1 invalid config or could not listen, 2 usage.
`;

export async function edgeCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs({ args, options: { config: { type: 'string', short: 'c' } } });
  if (parsed.help) {
    process.stdout.write(EDGE_HELP);
    return 0;
  }
  const { values } = parsed;
  const config = loadEdgeConfig(values.config, process.env);
  if (Object.keys(config.upstreams).length === 0) {
    throw new CachetailError(
      'CONFIG_INVALID',
      'invalid configuration:\n  upstreams: required by cachetail edge',
    );
  }
  const root = createLogger(config.log.level);
  const log = root.child({ module: 'edge' });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const router = createEdgeRouter(config, { registry, log: root });
  const proxy = await buildEdgeProxy({
    router,
    upstreams: config.upstreams,
    timeoutMs: config.upstreamTimeoutMs,
    accessLog: config.log.access ? root.child({ module: 'edge-access' }) : undefined,
    log,
  });
  const admin = buildEdgeAdmin({ router, registry });
  const proxyAt = await proxy.listen({ host: config.listen.host, port: config.listen.port });
  const adminAt = await admin.listen({ host: config.admin.host, port: config.admin.port });
  // Key ids only: the secrets never reach a log line.
  log.info(
    {
      region: config.region,
      masterRegion: config.masterRegion,
      upstreams: config.upstreams,
      listen: proxyAt,
      admin: adminAt,
      tailers: config.tailers.statusUrls,
      failSafe: config.tailers.failSafe,
      cookieKeyIds: config.cookie.keys.map((k) => k.slice(0, k.indexOf(':'))),
    },
    'edge listening',
  );
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (signal: string): void => {
      if (++signals > 1) process.exit(130);
      log.info({ signal }, 'stopping');
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await Promise.all([proxy.close(), admin.close()]);
  return 0;
}
