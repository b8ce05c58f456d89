/**
 * Child process of bench/tailer.bench.ts: the load on the primary. CONNECTIONS mysql2 connections,
 * each running autocommit single-row statements one at a time — an annotated UPDATE of an existing row
 * (two in three) or INSERT of a new one, with 1–3 keys — paced to `rate` transactions/s overall: the
 * i-th transaction is due at t0 + i/rate and a connection sleeps until its next one is due (it runs at
 * once when behind). Each connection updates its own slice of the rows, so they never wait on each
 * other's row locks.
 *
 * Its own process, so the SQL client's CPU is not on the tailer's event loop. Sends {type:'ready'}
 * once connected; on 'go' runs for `seconds` and sends {type:'done', t0, doneAt, errors}: `doneAt` is
 * the completion time (nowMs) of every transaction that committed.
 */
import mysql from 'mysql2/promise';
import { annotate } from '../../src/annotate/index.js';
import { nowMs, type SourceInfo } from './tailer-harness.js';

export interface LoadArgs {
  primary: SourceInfo;
  database: string;
  table: string;
  /** Rows 1..rows exist; INSERTs use ids from insertBase up. */
  rows: number;
  insertBase: number;
  rate: number;
  seconds: number;
  connections: number;
  /** Keeps keys of different phases apart. */
  tag: string;
}

const args = JSON.parse(process.argv[2] ?? '{}') as LoadArgs;
const conns = await Promise.all(
  Array.from({ length: args.connections }, () =>
    mysql.createConnection({ ...args.primary, database: args.database }),
  ),
);
process.send?.({ type: 'ready' });
await new Promise<void>((resolve) =>
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'go') resolve();
  }),
);

const total = Math.round(args.rate * args.seconds);
const doneAt = new Float64Array(total);
let next = 0;
let committed = 0;
let errors = 0;
let lastError = '';
const t0 = nowMs() + 20;
const end = t0 + args.seconds * 1000;
const slice = Math.floor(args.rows / args.connections);

function statement(i: number, worker: number): string {
  const keyCount = 1 + (i % 3);
  if (i % 3 === 2) {
    const id = args.insertBase + i;
    const keys = [`item:${id}`, `feed:${args.tag}:${i}`, `list:${args.tag}:${worker}:${i}`];
    return annotate(`INSERT INTO ${args.table} (id, v) VALUES (${id}, 0)`, keys.slice(0, keyCount));
  }
  const id = 1 + worker * slice + ((i * 7919) % slice);
  const keys = [`item:${id}:${args.tag}:${i}`, `feed:${args.tag}:${i}`, `list:${args.tag}:${worker}:${i}`];
  return annotate(`UPDATE ${args.table} SET v = v + 1 WHERE id = ${id}`, keys.slice(0, keyCount));
}

async function worker(conn: mysql.Connection, w: number): Promise<void> {
  for (;;) {
    const i = next++;
    // A primary that cannot keep the pace does not stretch the run: the schedule ends on time.
    if (i >= total || nowMs() > end) return;
    const wait = t0 + (i * 1000) / args.rate - nowMs();
    if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, wait));
    try {
      await conn.query(statement(i, w));
      doneAt[committed++] = nowMs();
    } catch (err) {
      errors++;
      lastError = err instanceof Error ? err.message : String(err);
    }
  }
}

await Promise.all(conns.map((c, w) => worker(c, w)));
await Promise.all(conns.map((c) => c.end()));
if (errors > 0) console.error(`load: ${errors} statements failed, last: ${lastError}`);
process.send?.({ type: 'done', t0, doneAt: doneAt.subarray(0, committed), errors }, () => process.exit(0));
