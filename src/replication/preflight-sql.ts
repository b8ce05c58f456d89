/**
 * Statement and privilege names differ by flavor and version; both the gathering (which runs the
 * statements) and the checks (whose messages name them) take them from here.
 */
import type { Flavor } from './client.js';

export interface ServerKind {
  flavor: Flavor;
  serverVersion: string;
}

/** [major, minor, patch] of a version string such as '8.0.36-log' or '10.11.19-MariaDB-log'. */
export function versionOf(serverVersion: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(serverVersion);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
}

export function atLeast(serverVersion: string, want: [number, number, number]): boolean {
  const have = versionOf(serverVersion);
  for (let i = 0; i < 3; i++) if (have[i] !== want[i]) return have[i] > want[i];
  return true;
}

/** MariaDB lists every multi-source connection; MySQL renamed SLAVE → REPLICA in 8.0.22 (old form gone in 8.4). */
export function replicaStatusStatement(s: ServerKind): string {
  if (s.flavor === 'mariadb') return 'SHOW ALL SLAVES STATUS';
  return atLeast(s.serverVersion, [8, 0, 22]) ? 'SHOW REPLICA STATUS' : 'SHOW SLAVE STATUS';
}

/** MySQL 8.2 added SHOW BINARY LOG STATUS and 8.4 removed SHOW MASTER STATUS. */
export function binlogStatusStatement(s: ServerKind): string {
  if (s.flavor === 'mysql' && atLeast(s.serverVersion, [8, 2, 0])) return 'SHOW BINARY LOG STATUS';
  return 'SHOW MASTER STATUS';
}

export function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function relayLogStatement(s: ServerKind, channel: string, file: string, limit: number): string {
  if (s.flavor === 'mariadb') {
    const name = channel === '' ? '' : ` ${quote(channel)}`;
    return `SHOW RELAYLOG${name} EVENTS IN ${quote(file)} LIMIT ${limit}`;
  }
  const forChannel = channel === '' ? '' : ` FOR CHANNEL ${quote(channel)}`;
  return `SHOW RELAYLOG EVENTS IN ${quote(file)} LIMIT ${limit}${forChannel}`;
}

/** MariaDB 10.5.9+ split REPLICATION CLIENT into BINLOG MONITOR and SLAVE MONITOR. */
function mariadbSplit(s: ServerKind): boolean {
  return s.flavor === 'mariadb' && atLeast(s.serverVersion, [10, 5, 9]);
}

/** Allows SHOW MASTER STATUS / SHOW BINARY LOG STATUS. */
export function binlogMonitorPrivilege(s: ServerKind): string {
  return mariadbSplit(s) ? 'BINLOG MONITOR' : 'REPLICATION CLIENT';
}

/** Allows SHOW SLAVE/REPLICA STATUS. */
export function replicaMonitorPrivilege(s: ServerKind): string {
  return mariadbSplit(s) ? 'SLAVE MONITOR' : 'REPLICATION CLIENT';
}

/** Allows SHOW RELAYLOG EVENTS: SLAVE MONITOR on MariaDB 10.5.9+ (SUPER is not enough), else REPLICATION SLAVE. */
export function relayLogPrivilege(s: ServerKind): string {
  return mariadbSplit(s) ? 'SLAVE MONITOR' : 'REPLICATION SLAVE';
}
