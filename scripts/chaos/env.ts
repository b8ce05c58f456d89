/**
 * The chaos environment: its own primary → replica pair of one server line (MariaDB 10.11 by default;
 * MariaDB 11.8 or MySQL 9.7 with `line`) and two replica-region memcached servers
 * (createExtraServers, so restarting the replica or pausing a memcached never disturbs the shared test
 * cluster), and the `cachetail tail` process, spawned and killed by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createExtraServers,
  ensureKafka,
  type ExtraPair,
  type ExtraServers,
  type ServerLine,
} from '../../src/devcluster/index.js';
import { GtidState } from '../../src/binlog/index.js';
import { startMemcached, type MemcachedServer } from '../../src/devcluster/memcached.js';
import type { ConsistencyReport } from '../../src/sampler/index.js';
import { freePort } from '../../src/devcluster/proc.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
export const PAIR = 'chaos';

export const MEMCACHED_NAMES = ['mc-a', 'mc-b'] as const;

export interface ChaosEnv {
  extras: ExtraServers;
  pair: ExtraPair;
  /** Replaced in place when a fault restarts one (same address, new process). */
  memcached: MemcachedServer[];
  /**
   * Per server, counters of processes a fault restarted (a restart zeroes memcached's stats), so a
   * run's delete hits/misses stay whole.
   */
  memcachedCarry: Record<string, number>[];
  /** The chaos env's own broker (under extras.baseDir, so its faults never touch anyone else's). */
  kafka: { brokers: string[] } | null;
  /** Tailer processes alive now: stop() ends them too (a run abandoned mid-way must not leak one). */
  tailers: Set<ChildProcess>;
  stop(): Promise<void>;
}

/**
 * `template`: a bootstrapped datadir to copy (the shared cluster's) instead of bootstrapping one;
 * `line`: the server line (default mariadb-10.11; the template must be of the same line).
 * `kafka`: start a broker too (Java and the jars are needed), so the tailer publishes and the schedule
 * can stop the broker.
 */
export async function startChaosEnv(
  opts: { template?: string; line?: ServerLine; kafka?: boolean } = {},
): Promise<ChaosEnv> {
  const extras = await createExtraServers({ template: opts.template, line: opts.line });
  try {
    const pair = await extras.startPair({ name: PAIR });
    // Registered in the extras' PID registry: extras.stop() ends them (and the broker) too.
    const memcached = await Promise.all(
      MEMCACHED_NAMES.map((name) => startMemcached({ baseDir: extras.baseDir, name })),
    );
    const kafka = opts.kafka ? await ensureKafka({ baseDir: extras.baseDir }) : null;
    const tailers = new Set<ChildProcess>();
    return {
      extras,
      pair,
      memcached,
      memcachedCarry: memcached.map(() => ({})),
      kafka: kafka ? { brokers: kafka.brokers } : null,
      tailers,
      stop: async () => {
        // By PID, the ones this env started and that are still running.
        for (const t of tailers) if (t.exitCode === null && t.signalCode === null) t.kill('SIGKILL');
        await Promise.all(
          [...tailers].map((t) => (t.exitCode === null ? once(t, 'exit') : Promise.resolve([]))),
        );
        await extras.stop();
      },
    };
  } catch (err) {
    await extras.stop();
    throw err;
  }
}

export interface TailerStatusBody {
  ready: boolean;
  state: string;
  watermark: { gtid: string; updatedAt: number } | null;
  consistency?: ConsistencyReport;
  stats?: Record<string, number>;
}

/** One `cachetail tail` process at a time over one state dir; restart() resumes from its checkpoint. */
export class ChaosTailer {
  readonly stateDir = mkdtempSync(join(tmpdir(), 'cachetail-chaos-'));
  private child: ChildProcess | null = null;
  private exited: Promise<unknown> = Promise.resolve();
  private out = '';
  port = 0;
  private readonly configFile = join(this.stateDir, 'tailer.json');

  /** The in-tailer sampler's figures summed over every process of this run (a kill loses its pending checks). */
  readonly sampler = { reports: [] as ConsistencyReport[], pendingLostToKills: 0 };
  /** Keys the tailer processes of this run acknowledged, summed (repeats after a kill included). */
  keysDelivered = 0;

  constructor(
    private readonly env: ChaosEnv,
    private readonly holdOff: boolean,
    private readonly opts: {
      holdOffTtlSeconds?: number;
      /** Publish to this topic (env.kafka must be set). */
      topic?: string;
      /** The in-tailer consistency sampler: key template, truth query, delays. */
      consistency?: { key: string; sql: string; delaysMs: readonly number[] };
    } = {},
  ) {}

  async start(): Promise<void> {
    if (this.port === 0) {
      this.port = await freePort();
      const { pair } = this.env;
      // hold-off has no environment variable: it goes through the config file.
      writeFileSync(
        this.configFile,
        JSON.stringify({
          region: 'chaos',
          source: {
            host: pair.replica.host,
            port: pair.replica.port,
            user: pair.tailerUser.user,
            password: pair.tailerUser.password,
            serverId: 7950,
            // Short, so a restarted replica is noticed quickly.
            heartbeatMs: 500,
            livenessTimeoutMs: 3000,
            connectTimeoutMs: 3000,
          },
          memcached: {
            servers: this.env.memcached.map((m) => m.address),
            hashing: 'memjs',
            holdOff: { enabled: this.holdOff, ttlSeconds: this.opts.holdOffTtlSeconds ?? 5 },
          },
          ...(this.opts.topic && this.env.kafka
            ? {
                kafka: {
                  enabled: true,
                  brokers: this.env.kafka.brokers,
                  topic: this.opts.topic,
                  appliedTopic: `${this.opts.topic}-applied`,
                  // A broker back after a few seconds is noticed within a second.
                  producer: { retryBackoff: { initialMs: 100, maxMs: 1_000 } },
                },
              }
            : {}),
          ...(this.opts.consistency
            ? {
                consistency: {
                  enabled: true,
                  every: 1,
                  delaysMs: this.opts.consistency.delaysMs,
                  maxPending: 100_000,
                  truth: {
                    user: pair.root.user,
                    password: pair.root.password,
                    queries: [{ key: this.opts.consistency.key, sql: this.opts.consistency.sql }],
                  },
                },
              }
            : {}),
          stateDir: join(this.stateDir, 'state'),
          status: { host: '127.0.0.1', port: this.port },
          log: { level: 'warn' },
        }),
      );
    }
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'tail', '--config', this.configFile],
      {
        cwd: repo,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.on('data', (d: Buffer) => this.keep(d));
    child.stderr?.on('data', (d: Buffer) => this.keep(d));
    this.child = child;
    this.env.tailers.add(child);
    this.exited = once(child, 'exit').finally(() => this.env.tailers.delete(child));
    await this.waitReady(60_000);
  }

  private keep(d: Buffer): void {
    // The last 64 KB is enough to explain a failure.
    this.out = (this.out + d.toString()).slice(-65_536);
  }

  output(): string {
    return this.out;
  }

  async status(): Promise<TailerStatusBody | null> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.port}/status`, { signal: AbortSignal.timeout(1000) });
      return (await res.json()) as TailerStatusBody;
    } catch {
      return null;
    }
  }

  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await this.status())?.ready) return;
      if (this.child?.exitCode !== null) throw new Error(`tailer exited:\n${this.out}`);
      await sleep(50);
    }
    throw new Error(`tailer not ready after ${timeoutMs} ms:\n${this.out}`);
  }

  /** The sampler's report of the running process, kept (its checks still pending are lost with it). */
  async collectSampler(): Promise<void> {
    const st = await this.status();
    // Read just before a kill: the few ms until the kill are not counted (a slight undercount).
    this.keysDelivered += st?.stats?.keysDelivered ?? 0;
    const c = st?.consistency;
    if (!c) return;
    this.sampler.reports.push(c);
    this.sampler.pendingLostToKills += c.pending;
  }

  /** SIGKILL by PID, wait for the exit, start again on the same state dir. */
  async killAndRestart(downMs: number): Promise<void> {
    await this.collectSampler();
    await this.kill('SIGKILL');
    if (downMs > 0) await sleep(downMs);
    await this.start();
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      await this.exited;
    }
    this.child = null;
  }

  async close(): Promise<void> {
    await this.kill('SIGKILL');
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** `stats` of one memcached (the test helpers' reader, shared). */
export { memcachedStats } from '../../test/helpers/memcached-stats.js';

/**
 * The tailer's watermark (a MariaDB GTID position or a MySQL GTID set, as /status reports it) as a GTID
 * state; none yet is the empty state, which has reached nothing.
 */
export function watermarkState(watermark: string | null | undefined): GtidState {
  return GtidState.parse(watermark ?? '');
}
