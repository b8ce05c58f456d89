/**
 * Shapes shared by the preflight: what is gathered from the servers (facts) and what is reported
 * (checks). Gathering does the I/O once; every check is a pure function of the facts, so unit tests
 * feed facts (or fake query answers) and assert exact messages.
 */
import type { Flavor } from './client.js';

export type Row = Record<string, unknown>;

/** The part of a connection the preflight uses; ReplicationConnection fits, so do test fakes. */
export interface PreflightConnection {
  readonly flavor: Flavor;
  readonly serverVersion: string;
  query(sql: string): Promise<readonly Row[]>;
}

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface PreflightCheck {
  /** Stable identifier (see PREFLIGHT_CHECK_IDS); tests and dashboards match on it. */
  id: string;
  status: CheckStatus;
  /** What was found and what it means for invalidation, naming the setting and the server. */
  message: string;
  /** What to change, when something should change. */
  fix?: string;
}

export interface PreflightReport {
  flavor: Flavor;
  serverVersion: string;
  /** host:port of the checked server, as used in messages. */
  server: string;
  serverId: number;
  checks: PreflightCheck[];
  /** True when no check failed (warnings allowed). */
  ok: boolean;
}

export interface PreflightOptions {
  /** The server id cachetail registers with (source.serverId). */
  ourServerId: number;
  /** host:port used in messages; defaults to the server's @@hostname:@@port. */
  server?: string;
  /** Optional connection to the primary, to read its settings directly instead of inferring them. */
  primary?: PreflightConnection;
  /** host:port of the primary for messages (default: its @@hostname:@@port). */
  primaryServer?: string;
  /** How many events of each current relay log file to inspect (default 2000). */
  relayLogEvents?: number;
}

/** One row of SHOW RELAYLOG EVENTS. */
export interface RelayEvent {
  file: string;
  pos: number;
  type: string;
  serverId: number;
  info: string;
}

/** One replication connection (MariaDB multi-source connection / MySQL channel) of the checked server. */
export interface ReplicationChannel {
  name: string;
  relayLogFile: string;
  /** The primary's server id as the replica saw it (0 when it never connected). */
  sourceServerId: number;
  source: string;
}

/** Whether the checked server replicates from a primary, as SHOW SLAVE/REPLICA STATUS tells. */
export type ReplicaState =
  | { kind: 'replica'; channels: ReplicationChannel[] }
  | { kind: 'not-replica' }
  /** The status statement was refused (missing privilege) or failed. */
  | { kind: 'unknown'; reason: string };

/** The recent relay-log events of one channel, or why they could not be read. */
export type RelaySample =
  | { kind: 'read'; channel: string; file: string; events: RelayEvent[] }
  | { kind: 'unreadable'; channel: string; file: string; reason: string; refused: boolean };

/** Result of a statement the preflight runs only to learn whether it is allowed. */
export type Probe = { kind: 'allowed' } | { kind: 'refused' | 'error'; reason: string };

export interface PrimaryFacts {
  server: string;
  variables: Record<string, string>;
}

export interface PreflightFacts {
  flavor: Flavor;
  serverVersion: string;
  server: string;
  /** Global variables, lower-case names; a variable the server does not have is absent. */
  variables: Record<string, string>;
  /** CURRENT_USER() as 'user'@'host'. */
  currentUser: string;
  /** Lines of SHOW GRANTS, or undefined when it failed. */
  grants: string[] | undefined;
  replica: ReplicaState;
  relay: RelaySample[];
  /** SHOW MASTER STATUS (MariaDB BINLOG MONITOR / MySQL REPLICATION CLIENT). */
  binlogStatus: Probe;
  /** Only when a primary connection was given; `error` when reading it failed. */
  primary?: PrimaryFacts | { error: string };
}
