/**
 * Sustained deletes/s to one real memcached (started here, stopped by PID): cachetail's sink, fed as the
 * tailer feeds it (one `deliver` of 1,000 keys at a time, awaited), against memjs used naively (one
 * `client.delete` per key, 1,000 in flight) — same server, same key set, same process, alternating runs;
 * the median of 3 runs each is reported. Two cases: every key cached (each delete removes a value), and
 * no key cached (each delete misses, which makes the sink's quiet deletes answer too: its worst case).
 *
 *   npx tsx bench/memcached.bench.ts        (or: npm run bench -- memcached)
 *
 * Targets (issue #4): sink ≥ 150k deletes/s and ≥ 2× the memjs baseline.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import memjs from 'memjs';
import { startMemcached } from '../src/devcluster/memcached.js';
import { stopRegistered } from '../src/devcluster/proc.js';
import { createLogger } from '../src/observability/logger.js';
import { MemcachedConnection } from '../src/sinks/memcached/connection.js';
import { parseServer } from '../src/sinks/memcached/routing.js';
import { MemcachedSink } from '../src/sinks/memcached/sink.js';

const KEYS = 200_000;
const BATCH = 1_000;
const IN_FLIGHT = 1_000;
const ROUNDS = 3;
const never = new AbortController().signal;
const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}:profile`);

/** Stores every key (untimed) through a pipelined SETQ group, so the deletes that follow all hit. */
async function seed(address: string): Promise<void> {
  const conn = new MemcachedConnection(parseServer(address), { timeoutMs: 10_000, connectTimeoutMs: 5_000 });
  const value = Buffer.from('cached-value');
  try {
    for (let i = 0; i < keys.length; i += 10_000) {
      // A 'tombstone' group is a SETQ per key with the given value and TTL (0 = no expiry).
      const r = await conn.send({
        kind: 'tombstone',
        keys: keys.slice(i, i + 10_000),
        value,
        flags: 0,
        ttlSeconds: 0,
      });
      if (r.failures.size > 0) throw new Error(`seeding: ${r.failures.size} sets failed`);
    }
  } finally {
    conn.close();
  }
}

async function memjsNaive(address: string): Promise<{ rate: number; hits: number }> {
  const client = memjs.Client.create(address, { retries: 0, timeout: 10, logger: { log: () => undefined } });
  let next = 0;
  let hits = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < keys.length) if (await client.delete(keys[next++])) hits++;
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const rate = keys.length / ((performance.now() - started) / 1000);
  client.close();
  return { rate, hits };
}

async function sinkBatches(address: string): Promise<{ rate: number; hits: number }> {
  const sink = new MemcachedSink({ servers: [address], timeoutMs: 10_000, log: createLogger('silent') });
  await sink.start();
  const started = performance.now();
  for (let i = 0; i < keys.length; i += BATCH) {
    await sink.deliver({ transactions: [], keys: keys.slice(i, i + BATCH) }, never);
  }
  const rate = keys.length / ((performance.now() - started) / 1000);
  await sink.close();
  if (sink.stats.deleted + sink.stats.notFound !== keys.length)
    throw new Error('sink: not every delete acknowledged');
  return { rate, hits: sink.stats.deleted };
}

/** memcached's own delete_hits + delete_misses: the server-side proof that every delete arrived. */
function serverDeletes(address: string): Promise<{ hits: number; misses: number }> {
  const { host, port } = parseServer(address);
  return new Promise((resolve, reject) => {
    const sock = connect(port, host);
    let text = '';
    sock.on('error', reject);
    sock.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (!text.endsWith('END\r\n')) return;
      sock.end();
      const stat = (name: string) => Number(new RegExp(`^STAT ${name} (\\d+)\r$`, 'm').exec(text)?.[1]);
      resolve({ hits: stat('delete_hits'), misses: stat('delete_misses') });
    });
    sock.write('stats\r\n');
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number) => `${Math.round(n / 1000)}k/s`;

async function main(): Promise<void> {
  const baseDir = await mkdtemp(join(tmpdir(), 'cachetail-bench-mc-'));
  try {
    const server = await startMemcached({ baseDir, name: 'bench' });
    const rows: string[] = [];
    for (const cached of [true, false]) {
      const memjsRates: number[] = [];
      const sinkRates: number[] = [];
      for (let round = 0; round <= ROUNDS; round++) {
        // Round 0 warms up both paths (JIT, connections, memcached's hash table) and is not counted.
        for (const [name, run, rates] of [
          ['memjs', memjsNaive, memjsRates],
          ['sink', sinkBatches, sinkRates],
        ] as const) {
          if (cached) await seed(server.address);
          const before = await serverDeletes(server.address);
          const { rate, hits } = await run(server.address);
          const after = await serverDeletes(server.address);
          const seen = { hits: after.hits - before.hits, misses: after.misses - before.misses };
          const want = cached ? { hits: keys.length, misses: 0 } : { hits: 0, misses: keys.length };
          if (hits !== want.hits || seen.hits !== want.hits || seen.misses !== want.misses) {
            const got = `client saw ${hits} hits, server ${JSON.stringify(seen)}`;
            throw new Error(`${name}: ${got}, expected ${JSON.stringify(want)}`);
          }
          if (round > 0) rates.push(rate);
        }
      }
      const [m, s] = [median(memjsRates), median(sinkRates)];
      rows.push(
        `| ${cached ? 'every key cached' : 'no key cached'} | ${fmt(m)} | ${fmt(s)} | ${(s / m).toFixed(2)}× | ` +
          `${s >= 150_000 && s / m >= 2 ? 'met' : 'NOT met'} |`,
      );
    }
    console.log(
      `${KEYS.toLocaleString('en')} deletes per run to one memcached 1.6 (-t 2) on 127.0.0.1, median of ${ROUNDS} runs, ` +
        `${cpus().length} CPUs shared by memcached and this process.\n`,
    );
    console.log(
      '| keys | memjs naive, 1,000 in flight | cachetail sink, 1,000-key deliveries | ratio | target ≥ 150k/s and ≥ 2× |',
    );
    console.log('|---|---|---|---|---|');
    for (const r of rows) console.log(r);
  } finally {
    await stopRegistered(baseDir, 2_000);
    await rm(baseDir, { recursive: true, force: true });
  }
}

await main();
