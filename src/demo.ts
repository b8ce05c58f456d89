/**
 * `npm start`: the local two-region demo. Starts the devcluster (MariaDB primary + replica, one
 * memcached per region), runs a tailer next to the replica, plays the original Jason → Monkey scenario
 * step by step, then keeps running until Ctrl-C (or exits at once with --once) and cleans up.
 */
import { join } from 'node:path';
import memjs from 'memjs';
import type { RowDataPacket } from 'mysql2/promise';
import { annotate } from './annotate/index.js';
import { tailerConfigSchema } from './config/schema.js';
import { clusterControl, startCluster, type ClusterControl } from './devcluster/index.js';
import { createLogger } from './observability/logger.js';
import { createTailer } from './tailer/create.js';

const say = (msg: string): void => void process.stdout.write(`${msg}\n`);

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** Plays the scenario once; returns true when the replica region ends up serving "Monkey". */
export async function playJasonMonkey(cluster: ClusterControl, regionCache: memjs.Client): Promise<boolean> {
  const key = 'user:jsobel:name';
  const replicaName = async (): Promise<string> => {
    const rows = await cluster.query<RowDataPacket[]>(
      'replica',
      "SELECT name FROM demo.users WHERE login = 'jsobel'",
    );
    return String(rows[0]?.name);
  };
  const readThrough = async (): Promise<string> => {
    const { value } = await regionCache.get(key);
    if (value) return `${value.toString()} (cache hit)`;
    const name = await replicaName();
    await regionCache.set(key, name, { expires: 3600 });
    return `${name} (cache miss → read the replica → filled the cache)`;
  };

  await cluster.query(
    'primary',
    `CREATE DATABASE IF NOT EXISTS demo;
     CREATE TABLE IF NOT EXISTS demo.users (login VARCHAR(32) PRIMARY KEY, name VARCHAR(64)) ENGINE=InnoDB;
     REPLACE INTO demo.users VALUES ('jsobel', 'Jason');`,
  );
  await cluster.waitForReplicaCatchUp();
  await regionCache.delete(key);
  say('\n── The Jason → Monkey scenario ──');
  say('1. Replication to the replica region lags (the replica SQL thread is stopped).');
  await cluster.stopReplicaSql();
  try {
    const sql = annotate("UPDATE demo.users SET name = 'Monkey' WHERE login = 'jsobel'", [key]);
    await cluster.query('primary', sql);
    say(`2. jsobel renames himself on the primary:\n     ${sql}`);
    say(`3. A reader in the replica region: ${await readThrough()}`);
    say('   Without cachetail that stale "Jason" would now stay in the cache until its TTL.');
    say('4. Replication resumes; the replica commits the rename and writes it to its own binlog…');
  } finally {
    await cluster.startReplicaSql();
  }
  const cleared = await waitUntil(async () => !(await regionCache.get(key)).value, 15_000);
  say(
    cleared
      ? `5. …and the tailer deleted ${key} from the replica region's memcached.`
      : '5. The key was NOT deleted.',
  );
  const after = await readThrough();
  say(`6. The next read in the replica region: ${after}`);
  return after.startsWith('Monkey');
}

export async function runDemo(args: readonly string[] = []): Promise<number> {
  const once = args.includes('--once');
  say('Starting the local two-region cluster (MariaDB primary + replica, memcached per region)…');
  const cluster = await startCluster({ log: (msg) => say(`  ${msg}`) });
  const control = clusterControl(cluster.info);
  const { info } = cluster;
  const log = createLogger(process.env.CACHETAIL_LOG_LEVEL ?? 'warn');
  const config = tailerConfigSchema.parse({
    region: 'replica-region',
    source: {
      host: info.replica.host,
      port: info.replica.port,
      user: info.tailerUser.user,
      password: info.tailerUser.password,
    },
    memcached: { servers: [info.memcached.replica] },
    // The checkpoint belongs to this cluster: it goes away with it.
    stateDir: join(info.baseDir, 'tailer-state'),
  });
  const { tailer, sink } = createTailer(config, log);
  const regionCache = memjs.Client.create(info.memcached.replica, { logger: { log: () => undefined } });
  let ok = false;
  try {
    await tailer.start();
    ok = await playJasonMonkey(control, regionCache);
    say(`
── Running ──
  primary (master region)   mariadb -h ${info.primary.host} -P ${info.primary.port} -u root
  replica (replica region)  mariadb -h ${info.replica.host} -P ${info.replica.port} -u root
  memcached master tier     ${info.memcached.master}
  memcached replica tier    ${info.memcached.replica}
  Write on the primary with a comment such as  /* MEMCACHE_DIRTY user:1 */  (use mariadb --comments,
  the CLI strips comments otherwise) and watch the key disappear from the replica tier.`);
    if (!once) {
      say('Press Ctrl-C to stop and clean up.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
  } finally {
    // A terminal's Ctrl-C reaches us twice (the process group, and tsx relaying it): keep listening so
    // a repeated signal does not cut the cleanup short.
    const again = (): void => say('Still stopping; the cluster is being cleaned up…');
    process.on('SIGINT', again);
    process.on('SIGTERM', again);
    say('Stopping…');
    regionCache.close();
    await tailer.stop();
    await sink.close();
    await cluster.stop();
    process.off('SIGINT', again);
    process.off('SIGTERM', again);
    say('Stopped; all servers ended and their files removed.');
  }
  return ok ? 0 : 1;
}
