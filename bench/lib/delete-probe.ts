/**
 * Child process of bench/tailer.bench.ts: the peer figure. One memcached `delete` at a time on a raw
 * text-protocol socket to the same server the tailer deletes from, every INTERVAL_MS, stamping each
 * round trip. That is the least any delete can cost on this machine at this moment (same load, same
 * server); the tailer's added latency is reported against it.
 *
 * Its own process, so the round trips are not delayed behind the tailer's work on one event loop.
 * Sends {type:'ready'}; on 'stop' (or SIGTERM) sends {type:'rtts', at, rtt} (Float64Arrays) and exits.
 */
import { connect } from 'node:net';
import { nowMs } from './tailer-harness.js';

const INTERVAL_MS = 5;

const { address } = JSON.parse(process.argv[2] ?? '{}') as { address: string };
const [host, port] = address.split(':');
const sock = connect({ host, port: Number(port), noDelay: true });
await new Promise<void>((resolve, reject) => {
  sock.once('connect', resolve);
  sock.once('error', reject);
});

const at: number[] = [];
const rtt: number[] = [];
let sentAt = 0;
let reply = '';
let answered: (() => void) | null = null;
sock.setEncoding('latin1');
sock.on('data', (d: string) => {
  reply += d;
  if (!reply.endsWith('\r\n')) return;
  if (reply !== 'NOT_FOUND\r\n' && reply !== 'DELETED\r\n') throw new Error(`probe: memcached said ${reply}`);
  reply = '';
  const now = nowMs();
  at.push(sentAt);
  rtt.push(now - sentAt);
  answered?.();
});

let stopping = false;
process.on('message', (m: { type?: string }) => {
  if (m.type === 'stop') stopping = true;
});
process.on('SIGTERM', () => (stopping = true));
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });

for (let n = 0; !stopping; n++) {
  const done = new Promise<void>((resolve) => (answered = resolve));
  sentAt = nowMs();
  sock.write(`delete probe:${n % 1000}\r\n`);
  await done;
  await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
}
sock.destroy();
process.send?.({ type: 'rtts', at: Float64Array.from(at), rtt: Float64Array.from(rtt) }, () =>
  process.exit(0),
);
