// Real local services for tests, the `npm start` demo and benchmarks (DESIGN.md §6): a MariaDB primary +
// replica, one memcached per region, and (lazily, see ensureKafka) a single-node KRaft Kafka broker.
// Started and stopped by PID; nothing is shared with a system MariaDB or memcached.
export { clusterControl, startCluster } from './cluster.js';
export type {
  Cluster,
  ClusterControl,
  ClusterInfo,
  ClusterServer,
  ServerRole,
  StartOptions,
} from './cluster.js';
export { createExtraServers } from './extra.js';
export type { ExtraPair, ExtraPairOptions, ExtraServerOptions, ExtraServers } from './extra.js';
export type { DbDriver, DialectSql } from './db.js';
export { dbDriver, driverIn } from './drivers.js';
export { DEFAULT_LINE, LINES_ENV, lineSpec, parseServerLine, requestedLines, SERVER_LINES } from './lines.js';
export type { ServerFlavor, ServerLine } from './lines.js';
export { TAILER_GRANTS } from './mariadb.js';
export { ensureRoot, rootState } from './roots.js';
export type { RootState } from './roots.js';
export type { Credentials, ServerEndpoint } from './sql.js';
export { DevclusterError } from './proc.js';
export type { DevclusterErrorCode } from './proc.js';
export { ensureKafka, fetchKafkaJars } from './kafka.js';
export type { KafkaInfo } from './kafka.js';
