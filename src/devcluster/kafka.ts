// A single-node KRaft Kafka broker from the Maven Central jars, run with the machine's java.
//
// Kafka costs ~2 s and ~400 MB, and most test files never touch it, so it is not started with the rest of
// the cluster. ensureKafka() starts it on first use from whichever process asks (usually a vitest worker,
// not the global-setup process) and at most once per cluster: a lock file in `<baseDir>/kafka/` serialises
// starters across processes, `kafka.json` there tells later callers where the running broker is, and the
// broker's PID goes into the cluster's PID registry so that the cluster's stop() ends it.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterInfo } from './cluster.js';
import {
  DevclusterError,
  freePort,
  isAlive,
  isOurs,
  requireBinary,
  runCommand,
  sleep,
  spawnService,
  stopPid,
  tryLock,
  waitUntilReady,
} from './proc.js';

export interface KafkaInfo {
  /** `host:port` bootstrap addresses for kafkajs. */
  brokers: string[];
  pid: number;
}

/** The repository checkout this file belongs to (works from src/ via tsx and from dist/). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'src', 'devcluster', 'kafka', 'pom.xml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new DevclusterError('START_FAILED', 'cannot find src/devcluster/kafka/pom.xml');
    dir = parent;
  }
  return dir;
}

/**
 * Makes sure `.cache/kafka/lib` holds the jars the pom lists, running Maven only when they are missing
 * or the pom changed since they were fetched. Returns the lib dir.
 */
export async function fetchKafkaJars(log: (msg: string) => void = () => undefined): Promise<string> {
  const root = repoRoot();
  const pom = join(root, 'src', 'devcluster', 'kafka', 'pom.xml');
  const lib = join(root, '.cache', 'kafka', 'lib');
  const stamp = createHash('sha256')
    .update(await readFile(pom))
    .digest('hex');
  const stampFile = join(lib, '.pom-sha256');
  if ((await readFile(stampFile, 'utf8').catch(() => '')) === stamp) return lib;

  const mvn = requireBinary('mvn', 'apt-get install maven');
  log(`devcluster: fetching Kafka jars with Maven into ${lib}`);
  // Fetch into a private dir and rename, so a concurrent or interrupted fetch never leaves a half-filled lib.
  const staging = `${lib}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await runCommand(mvn, [
    '-q',
    '-B',
    '-f',
    pom,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${staging}`,
    `-Dmaven.repo.local=${join(root, '.cache', 'm2')}`,
  ]);
  await writeFile(join(staging, '.pom-sha256'), stamp);
  await rm(lib, { recursive: true, force: true });
  try {
    await rename(staging, lib);
  } catch (err) {
    // Another process won the race; its copy is as good as ours.
    await rm(staging, { recursive: true, force: true });
    if ((await readFile(stampFile, 'utf8').catch(() => '')) !== stamp) throw err;
  }
  return lib;
}

const inProcess = new Map<string, Promise<KafkaInfo>>();

/** The cluster's Kafka broker, started now if nobody has started it yet. */
export function ensureKafka(
  info: Pick<ClusterInfo, 'baseDir'>,
  opts: { log?: (msg: string) => void } = {},
): Promise<KafkaInfo> {
  let pending = inProcess.get(info.baseDir);
  if (!pending) {
    pending = ensureKafkaOnce(info.baseDir, opts.log ?? (() => undefined));
    inProcess.set(info.baseDir, pending);
    pending.catch(() => inProcess.delete(info.baseDir));
  }
  return pending;
}

async function ensureKafkaOnce(baseDir: string, log: (msg: string) => void): Promise<KafkaInfo> {
  const dir = join(baseDir, 'kafka');
  await mkdir(dir, { recursive: true });
  const lock = join(dir, 'start.lock');
  const deadline = Date.now() + 180_000;
  while (true) {
    const running = await readRunning(baseDir);
    if (running) return running;
    if (await tryLock(lock)) {
      try {
        // Whoever held the lock before us may have started it.
        return (await readRunning(baseDir)) ?? (await startKafka(baseDir, dir, log));
      } finally {
        await unlink(lock).catch(() => undefined);
      }
    }
    if (Date.now() > deadline) {
      throw new DevclusterError('LOCK_TIMEOUT', `kafka: ${lock} still held by another process after 180 s`);
    }
    await sleep(100);
  }
}

async function readRunning(baseDir: string): Promise<KafkaInfo | undefined> {
  const text = await readFile(join(baseDir, 'kafka', 'kafka.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const kafka = JSON.parse(text) as KafkaInfo;
  return isOurs(kafka.pid, baseDir) ? kafka : undefined;
}

async function startKafka(baseDir: string, dir: string, log: (msg: string) => void): Promise<KafkaInfo> {
  const java = requireBinary('java', 'apt-get install default-jre-headless');
  const started = Date.now();
  const lib = await fetchKafkaJars(log);
  const [brokerPort, controllerPort] = await Promise.all([freePort(), freePort()]);
  const dataDir = join(dir, 'data');
  await rm(dataDir, { recursive: true, force: true });
  const props = join(dir, 'server.properties');
  await writeFile(props, serverProperties(brokerPort, controllerPort, dataDir));
  await writeFile(join(dir, 'log4j.properties'), LOG4J);

  // Kafka ids are 16 random bytes, unpadded base64url — never starting with '-', which StorageTool's
  // argument parser takes for an option (`-t -Cu…`: "expected one argument"); Kafka's own
  // Uuid.randomUuid() draws again for the same reason.
  let clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
  await runCommand(java, [
    ...jvmArgs(dir, lib),
    'kafka.tools.StorageTool',
    'format',
    '-t',
    clusterId,
    '-c',
    props,
  ]);
  const kafka = await launchBroker(baseDir, dir, lib, [`127.0.0.1:${brokerPort}`]);
  log(`devcluster: kafka up at ${kafka.brokers.join(',')} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  return kafka;
}

function jvmArgs(dir: string, lib: string): string[] {
  return [
    '-Xms128m',
    '-Xmx512m',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    '-cp',
    join(lib, '*'),
    `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`,
  ];
}

/** Runs the broker of `dir` (formatted, server.properties written), waits for it, records kafka.json. */
async function launchBroker(
  baseDir: string,
  dir: string,
  lib: string,
  brokers: string[],
): Promise<KafkaInfo> {
  const java = requireBinary('java', 'apt-get install default-jre-headless');
  const logFile = join(dir, 'kafka.log');
  // The log is appended to across restarts: only what this start writes counts as its readiness.
  const from = (await stat(logFile).catch(() => undefined))?.size ?? 0;
  const proc = await spawnService(
    java,
    [...jvmArgs(dir, lib), 'kafka.Kafka', join(dir, 'server.properties')],
    {
      baseDir,
      name: 'kafka',
      logFile,
      outliveParent: true,
    },
  );
  try {
    await waitUntilReady(
      'kafka',
      proc,
      async () =>
        (await readFile(logFile)).subarray(from).includes('Kafka Server started') ? true : undefined,
      90_000,
    );
  } catch (err) {
    await stopPid(proc.pid, 2_000);
    throw err;
  }
  const kafka: KafkaInfo = { brokers, pid: proc.pid };
  await writeFile(join(dir, 'kafka.json.tmp'), JSON.stringify(kafka));
  await rename(join(dir, 'kafka.json.tmp'), join(dir, 'kafka.json'));
  return kafka;
}

/**
 * Test control for outages: kills the cluster's broker by its PID (SIGKILL by default: a crash, no
 * clean shutdown) and waits until it is gone. Its port, data and kafka.json stay for restartKafka.
 * Until then, do not call ensureKafka from another process (it would start a fresh broker).
 */
export async function killKafka(
  info: Pick<ClusterInfo, 'baseDir'>,
  signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL',
): Promise<KafkaInfo> {
  const kafka = await readRunning(info.baseDir);
  if (!kafka) throw new DevclusterError('START_FAILED', 'kafka: no running broker of this cluster to kill');
  process.kill(kafka.pid, signal);
  const deadline = Date.now() + 30_000;
  while (isAlive(kafka.pid)) {
    if (Date.now() > deadline)
      throw new DevclusterError('TIMEOUT', `kafka: pid ${kafka.pid} still alive after ${signal}`);
    await sleep(20);
  }
  return kafka;
}

/** Starts the cluster's broker again after killKafka: same port, same data dirs, same cluster id. */
export async function restartKafka(info: Pick<ClusterInfo, 'baseDir'>): Promise<KafkaInfo> {
  const dir = join(info.baseDir, 'kafka');
  const previous = JSON.parse(await readFile(join(dir, 'kafka.json'), 'utf8')) as KafkaInfo;
  if (isOurs(previous.pid, info.baseDir)) return previous;
  const kafka = await launchBroker(info.baseDir, dir, await fetchKafkaJars(), previous.brokers);
  inProcess.set(info.baseDir, Promise.resolve(kafka));
  return kafka;
}

function serverProperties(brokerPort: number, controllerPort: number, dataDir: string): string {
  return `${[
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${brokerPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${dataDir}`,
    'num.partitions=1',
    // One node: every replication factor and ISR minimum must be 1 or nothing can be written.
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'min.insync.replicas=1',
    // The default 50 offsets partitions make the first consumer group wait seconds for their creation.
    'offsets.topic.num.partitions=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
  ].join('\n')}\n`;
}

const LOG4J = `log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
`;
