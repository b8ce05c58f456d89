/**
 * Child process of bench/tailer.bench.ts: an independent observer of the replica's binlog. It opens
 * its own binlog dump (src/replication/client.ts, a different server id from the tailer) at the
 * replica's current end and stamps, per transaction GTID, when the GTID event and when the commit
 * (XID) event reached this process. Only those two event types are looked at (plus ROTATE and
 * FORMAT_DESCRIPTION, which the decoder needs for the checksum), so the observer does far less work
 * per event than the tailer and its stamps stand for "the server sent it".
 *
 * It runs in its own process so its stamps are not delayed behind the tailer's own work on one event
 * loop. Protocol: sends {type:'ready'} once the dump started; on 'stop' (or SIGTERM) sends
 * {type:'arrivals', gtids, gtidAt, commitAt} and exits.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { BinlogDecoder } from '../../src/binlog/index.js';
import { ReplicationConnection } from '../../src/replication/client.js';
import { nowMs, type SourceInfo } from './tailer-harness.js';

interface Args {
  source: SourceInfo;
  serverId: number;
}

const ROTATE = 4;
const FORMAT_DESCRIPTION = 15;
const XID = 16;
const MARIADB_GTID = 162;

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const source = { ...args.source, serverId: args.serverId, connectTimeoutMs: 5_000, heartbeatMs: 1_000 };
const conn = await ReplicationConnection.open(source);
const [status] =
  await conn.query<(RowDataPacket & { File: string; Position: number })[]>('SHOW MASTER STATUS');
if (!status) throw new Error('observer: SHOW MASTER STATUS returned nothing (binlog off?)');

const gtids: string[] = [];
const gtidAt: number[] = [];
const commitAt: number[] = [];
const decoder = new BinlogDecoder({ checksumBeforeFde: 'detect' });
let open = -1;
let stopping = false;

await conn.startDump(
  source,
  { kind: 'file', file: status.File, position: Number(status.Position) },
  {
    onEvent(bytes) {
      const at = nowMs();
      const type = bytes[4];
      if (type === XID) {
        if (open >= 0) commitAt[open] = at;
        open = -1;
        return;
      }
      if (type !== MARIADB_GTID && type !== FORMAT_DESCRIPTION && type !== ROTATE) return;
      const ev = decoder.decode(bytes);
      if (ev.kind !== 'mariadb_gtid') return;
      open = gtids.length;
      gtids.push(ev.gtid);
      gtidAt.push(at);
      commitAt.push(NaN);
    },
    onEnd(err) {
      if (!stopping) {
        console.error(`observer: binlog dump ended: ${err?.message ?? 'EOF'}`);
        process.exit(1);
      }
    },
  },
);
process.send?.({ type: 'ready' });

const stop = () => {
  if (stopping) return;
  stopping = true;
  conn.close();
  const arrivals = { gtids, gtidAt: Float64Array.from(gtidAt), commitAt: Float64Array.from(commitAt) };
  process.send?.({ type: 'arrivals', ...arrivals }, () => process.exit(0));
};
process.on('message', (m: { type?: string }) => {
  if (m.type === 'stop') stop();
});
process.on('SIGTERM', stop);
process.on('disconnect', () => process.exit(0));
