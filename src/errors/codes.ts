/**
 * The one list of error codes. Every `CachetailError` (and subclass) takes its code from here, so an
 * unregistered code fails typecheck, and its `retryable` comes from here: a site cannot contradict it.
 * docs/errors.md is generated from this list (`npm run docs:errors`); a unit test fails when it is stale.
 *
 * - `retryable`: whether trying the same operation again can help. The tailer loop reconnects after a
 *   retryable error and stops (failed, /status naming the code) on one that is not. `'depends'`: the
 *   throwing site says, and the summary says when — keep these rare.
 * - `summary`: one line, what happened. `action`: what an operator does about it.
 *
 * Codes are stable: operators, dashboards and tests match on them. Add a code rather than rename one.
 */

export type ErrorArea =
  | 'general'
  | 'config'
  | 'replication'
  | 'binlog'
  | 'gtid'
  | 'tailer'
  | 'memcached'
  | 'kafka'
  | 'app'
  | 'http'
  | 'devcluster';

export interface ErrorCodeInfo {
  readonly area: ErrorArea;
  readonly retryable: boolean | 'depends';
  readonly summary: string;
  readonly action: string;
}

/** The sections of docs/errors.md, in order. */
export const ERROR_AREAS: Readonly<Record<ErrorArea, { title: string; intro: string }>> = {
  general: { title: 'General', intro: 'Codes any part of cachetail can report.' },
  config: {
    title: 'Configuration and command line',
    intro: 'Raised at start-up or by a command; nothing has been read or sent yet. Fix and run again.',
  },
  replication: {
    title: 'Replication connection',
    intro:
      'The tailer’s connection to its replica. Retryable ones are retried with backoff while /status ' +
      'names them; the others refuse the setup: the process stays up, alive and not ready, until an ' +
      'operator fixes it and restarts the tailer.',
  },
  binlog: {
    title: 'Binlog decoding',
    intro:
      'The decoder cannot read an event (`BinlogDecodeError`; `cachetail binlog` prints them with file ' +
      'and position). The same bytes decode the same way, so none is retryable; to the tailer each is a ' +
      'gap, handled by `gapPolicy` like BINLOG_UNAVAILABLE.',
  },
  gtid: { title: 'GTIDs', intro: 'A GTID text that cannot be used (`GtidError`).' },
  tailer: { title: 'Tailer', intro: 'Positions, the checkpoint, the outbox table and delivery.' },
  memcached: {
    title: 'memcached sink',
    intro:
      'Deletes to the regional memcached tier. A failing server is retried; with a journal directory its ' +
      'deletes are journaled and replayed when it answers, so one server never holds up the others.',
  },
  kafka: {
    title: 'Kafka',
    intro:
      'The Kafka sink, `cachetail kafka init` and `cachetail consume`. A Kafka outage never holds up a ' +
      'memcached delete: the Kafka tailer has its own connection and checkpoint.',
  },
  app: {
    title: 'Application library (`cachetail/app`)',
    intro:
      'Thrown to the application by `withInvalidation`, the annotation helpers and read-through; none ' +
      'goes away by retrying the same call (`InvalidationError`, `AnnotationError`).',
  },
  http: {
    title: 'Status server and dashboard answers',
    intro: 'Codes in the JSON error bodies of /healthz, /status and the dashboard API.',
  },
  devcluster: {
    title: 'Development tooling (devcluster, demo)',
    intro:
      'Only the local test and demo clusters raise these, never `tail`, `edge` or `consume`. ' +
      '`DevclusterError` lets each site say whether another attempt can help; today only START_FAILED ' +
      '(a port taken between probe and bind) is thrown retryable.',
  },
};

export const ERROR_CODES = {
  // general
  INTERNAL: {
    area: 'general',
    retryable: false,
    summary:
      'The tailer stopped on an error without a code of its own (a sink failure cachetail does not ' +
      'classify, or a broken internal invariant).',
    action:
      'Read the message and the log lines before it; restart the process (the tailer resumes from its ' +
      'checkpoint) and report the message so that it gets a code.',
  },
  ERROR: {
    area: 'general',
    retryable: 'depends',
    summary:
      'Shown for an error that carries no code at all (from a library, the runtime or a non-Error value); ' +
      'the tailer reconnects after one that ended the binlog stream.',
    action:
      'Read the message; report one that repeats so that it gets a code. Errors from node or a driver ' +
      'show their own code instead (ECONNRESET, ER_…).',
  },
  STOPPED: {
    area: 'general',
    retryable: false,
    summary: 'An operation was abandoned because the tailer, the consumer or a delivery is stopping.',
    action: 'None: expected during shutdown. Otherwise the log line before it says why the process stopped.',
  },

  // config
  CONFIG_READ: {
    area: 'config',
    retryable: false,
    summary:
      'A file the configuration names (config file, password, cookie keys, TLS or SASL file) cannot be read.',
    action: 'Check the path in the message and that the process’s user may read the file; restart.',
  },
  CONFIG_PARSE: {
    area: 'config',
    retryable: false,
    summary: 'The config file is not valid JSON, or its top level is not an object.',
    action: 'Fix the JSON at the file:line:column the message names; restart.',
  },
  CONFIG_INVALID: {
    area: 'config',
    retryable: false,
    summary:
      'A setting is missing, of the wrong type or out of range, or settings contradict each other ' +
      '(memcached servers and weights, routes, cookie keys, edge upstreams); all problems in one message, ' +
      'a missing field with the environment variable that sets it.',
    action: 'Fix each named field (docs/config-reference.md); restart.',
  },
  USAGE: {
    area: 'config',
    retryable: false,
    summary: 'A command was given arguments it does not accept.',
    action: 'Run the command with --help (the error line names it) for its usage and options.',
  },

  // replication
  REPLICATION_CONNECT: {
    area: 'replication',
    retryable: true,
    summary: 'The replica could not be reached (connection refused, timeout, too many connections).',
    action:
      'None if it passes. If it persists, check source.host/port, the network path and the replica’s ' +
      'max_connections; the tailer keeps retrying, not ready meanwhile.',
  },
  REPLICATION_ACCESS_DENIED: {
    area: 'replication',
    retryable: false,
    summary:
      'The replica refused the tailer’s login, or the account lacks REPLICATION SLAVE (a grant revoked ' +
      'after the preflight).',
    action:
      'Do what the message’s "Fix:" says (credentials, account host, grants on the primary); restart the tailer.',
  },
  REPLICATION_TLS: {
    area: 'replication',
    retryable: false,
    summary:
      'The TLS handshake with the replica failed (untrusted or misnamed certificate, server without TLS).',
    action:
      'Set source.ssl.caFile / verifyIdentity as the message says, or configure TLS on the server; restart.',
  },
  REPLICATION_SERVER_ERROR: {
    area: 'replication',
    retryable: true,
    summary: 'The replica ended the binlog dump with a server error that is neither a refusal nor a gap.',
    action:
      'None if the reconnect works. If it repeats, look up the errno in the message and the replica’s error log.',
  },
  REPLICATION_PROTOCOL: {
    area: 'replication',
    retryable: true,
    summary: 'The replica sent a packet in the binlog stream that the tailer cannot parse.',
    action: 'None if the reconnect works. If it repeats, report it with the server version.',
  },
  REPLICATION_LOST: {
    area: 'replication',
    retryable: true,
    summary:
      'The binlog stream, or a reconnect, failed with a network or driver error (socket closed, reset, …).',
    action:
      'None if the reconnect works. If it persists, check the network path and the replica; /status names the cause.',
  },
  REPLICATION_DEAD: {
    area: 'replication',
    retryable: true,
    summary:
      'No event and no heartbeat arrived within the liveness timeout: the connection is presumed dead.',
    action:
      'None if the reconnect works. If it repeats, check the network and that the replica is not stalled.',
  },
  REPLICATION_STALLED: {
    area: 'replication',
    retryable: true,
    summary:
      'The stream sent nothing but heartbeats while the replica’s binlog moved past what was read (a ' +
      'dump thread left on a file that RESET MASTER / RESET BINARY LOGS AND GTIDS removed): the tailer ' +
      'ends it and resumes by GTID, with the history check.',
    action: 'None if the reconnect works; /status then says streaming, or the gap if transactions were lost.',
  },
  EVENT_HANDLER_FAILED: {
    area: 'replication',
    retryable: true,
    summary:
      'Handling a binlog event threw a value that is not an Error (a bug); the stream ends and the tailer ' +
      'reconnects from the last whole transaction.',
    action: 'Report it with the log line; if it repeats at the same position the tailer cannot move on.',
  },
  BINLOG_UNAVAILABLE: {
    area: 'replication',
    retryable: false,
    summary:
      'The replica cannot send the binlog from the position asked for (error 1236: binlog purged, GTIDs ' +
      'not in its binlog): a gap.',
    action:
      'Under gapPolicy fail-closed the tailer stops, not ready, and the edge sends readers to the master ' +
      'region: flush the region’s memcached tier, remove `<stateDir>/checkpoint.json` and restart (or use ' +
      'gapPolicy flush); keep binlogs longer than the longest tailer outage (docs/production.md).',
  },
  REPLICA_BEHIND: {
    area: 'replication',
    retryable: true,
    summary:
      'The replica has not got to the GTID the tailer resumes from (a lagging replica the tailer moved to, ' +
      'or a binlog reset with nothing written since): the tailer waits; its next write shows whether ' +
      'anything in between was lost (then BINLOG_UNAVAILABLE).',
    action:
      'None for a lagging replica. After a RESET MASTER / RESET BINARY LOGS AND GTIDS restore the GTID ' +
      'state (docs/production.md, runbook).',
  },
  BINLOG_DISABLED: {
    area: 'replication',
    retryable: false,
    summary: 'The replica writes no binary log, so there is nothing to tail.',
    action:
      'Enable log_bin and log_replica_updates (MariaDB: log_slave_updates) on the replica; restart the tailer.',
  },
  PREFLIGHT_FAILED: {
    area: 'replication',
    retryable: false,
    summary:
      'The replica fails checks the tailer needs (binlog format, row image, server ids, …); each is listed with its fix.',
    action: 'Apply the listed fixes (`cachetail doctor` prints the same report); restart the tailer.',
  },
  PREFLIGHT_QUERY: {
    area: 'replication',
    retryable: true,
    summary:
      '`cachetail doctor` could not run its checks: a query failed (connection lost, missing privilege).',
    action: 'Read the message and run `cachetail doctor` again.',
  },
  GAP_IDENTITY_CHANGED: {
    area: 'replication',
    retryable: false,
    summary:
      'The replica at the configured address is not the server the last position came from, and there ' +
      'is no GTID state to resume from: the transactions in between cannot be found (a gap).',
    action: 'As for BINLOG_UNAVAILABLE; enable GTIDs so that a replaced replica can be followed.',
  },
  PROTOCOL_FIELD_TOO_LONG: {
    area: 'replication',
    retryable: false,
    summary:
      'A value sent to register as a replica (host, user, password) is longer than the protocol’s 255 bytes.',
    action: 'Shorten the value the message names; restart.',
  },
  PROTOCOL_POSITION_RANGE: {
    area: 'replication',
    retryable: false,
    summary: 'A start position the dump command cannot take (file positions are 32-bit and at least 4).',
    action: 'Fix start.position in the configuration, or the checkpoint file; restart.',
  },
  PROTOCOL_FIELD_INVALID: {
    area: 'replication',
    retryable: false,
    summary: 'A value for the dump command is malformed (a server UUID in the GTID set).',
    action: 'Fix the GTID set in start.gtid or the checkpoint file; restart.',
  },

  // binlog (BinlogDecodeError)
  BAD_MAGIC: {
    area: 'binlog',
    retryable: false,
    summary: 'The file does not start with the binlog magic bytes fe 62 69 6e.',
    action: 'Check that the file given is a binlog (or relay log), not another file or a cut copy.',
  },
  TRUNCATED: {
    area: 'binlog',
    retryable: false,
    summary: 'Fewer bytes are there than an event header, or than the header’s event_size.',
    action:
      'For a file still being written, read it again later; for a copy, copy it again. To the tailer, a gap.',
  },
  BAD_EVENT_LENGTH: {
    area: 'binlog',
    retryable: false,
    summary:
      'An event’s event_size is impossible (under 19, smaller than its checksum) or disagrees with the bytes.',
    action:
      'The binlog is damaged at the named position: a gap (see BINLOG_UNAVAILABLE); report it with the file.',
  },
  CHECKSUM_MISMATCH: {
    area: 'binlog',
    retryable: false,
    summary: 'An event’s stored CRC32 differs from the one computed over its bytes.',
    action:
      'The event is corrupt at the named position: a gap (see BINLOG_UNAVAILABLE); check the replica’s disk.',
  },
  MALFORMED_EVENT: {
    area: 'binlog',
    retryable: false,
    summary: 'A length or count inside an event points beyond its body, or a value in it is impossible.',
    action: 'A gap (see BINLOG_UNAVAILABLE); report it with the file, position and server version.',
  },
  UNSUPPORTED: {
    area: 'binlog',
    retryable: false,
    summary: 'A binlog version other than 4, or an unknown checksum algorithm or compression method.',
    action: 'Check the server version is supported (README); report it with the server version.',
  },

  // gtid (GtidError)
  GTID_PARSE: {
    area: 'gtid',
    retryable: false,
    summary: 'A GTID, GTID set or GTID state text cannot be parsed; the message quotes it.',
    action:
      'Fix the text where it came from (start.gtid, the checkpoint file); a bad cookie or header is ignored.',
  },
  GTID_FLAVOR_MISMATCH: {
    area: 'gtid',
    retryable: false,
    summary: 'A MySQL GTID set and a MariaDB GTID state were combined or compared.',
    action: 'Use a start.gtid or checkpoint of the replica’s own server kind (or remove the checkpoint).',
  },

  // tailer
  CHECKPOINT_READ: {
    area: 'tailer',
    retryable: true,
    summary: 'The checkpoint file exists but cannot be read (I/O error, permissions).',
    action: 'Check stateDir’s volume and permissions; the tailer retries the start.',
  },
  CHECKPOINT_WRITE: {
    area: 'tailer',
    retryable: true,
    summary: 'The acknowledged position cannot be written; the tailer keeps running and tries again.',
    action: 'Free space or fix permissions on stateDir: until it is written, a restart repeats more deletes.',
  },
  CHECKPOINT_CORRUPT: {
    area: 'tailer',
    retryable: false,
    summary: 'The checkpoint file is not valid; the tailer refuses to guess a position (a gap).',
    action: 'Fix or remove the file: then the tailer starts from the configured start, or applies gapPolicy.',
  },
  OUTBOX_TABLE_SHAPE: {
    area: 'tailer',
    retryable: false,
    summary: 'The outbox table’s first column is not the VARBINARY cache_key.',
    action: 'Recreate the table from sql/cachetail-app.sql; restart the tailer.',
  },
  REPLAY_JOURNALED: {
    area: 'tailer',
    retryable: true,
    summary:
      '`cachetail replay` could not reach some memcached servers: their keys of the range are in the ' +
      'replay journal (`<stateDir>/memcached-journal-replay`), not deleted yet.',
    action:
      'Run `cachetail replay` again (any range) once the servers answer: it delivers the journal first ' +
      '(docs/production.md, "Replaying a range").',
  },
  OUTBOX_ROW_WITHOUT_KEY: {
    area: 'tailer',
    retryable: false,
    summary: 'A row inserted into the outbox table has no cache_key (NULL, or missing from the row image).',
    action: 'Fix what writes the outbox (sql/cachetail-app.sql); binlog_row_image must keep cache_key.',
  },
  START_FAILED: {
    area: 'tailer',
    retryable: 'depends',
    summary:
      '`cachetail tail` could not start a tailer for a reason without a code of its own (retried with ' +
      'backoff); or a devcluster server did not start (retryable only when its port was taken).',
    action: 'Read the message (/status shows it while the tail command retries).',
  },
  SAMPLER_CHECK_FAILED: {
    area: 'tailer',
    retryable: true,
    summary:
      'The consistency sampler could not decide one key (the truth query or the cache read failed, or ' +
      'gave no answer in time); counted as an error check, nothing is deleted or skipped because of it.',
    action:
      'Nothing per key; if cachetail_consistency_checks_total{result="error"} keeps growing, check the ' +
      'replica and memcached the sampler reads.',
  },
  COMMIT_GATE_TIMEOUT: {
    area: 'tailer',
    retryable: true,
    summary:
      'The replica did not answer the commit gate’s WAIT_FOR_EXECUTED_GTID_SET in time; the gate ' +
      'reconnects, and past its longest wait delivers the batch unconfirmed (logged).',
    action: 'None if rare; if frequent, check the replica’s load and the network to it.',
  },

  // memcached
  MEMCACHED_CONNECTION: {
    area: 'memcached',
    retryable: true,
    summary: 'The connection to a memcached server failed or was closed.',
    action:
      'None if the server comes back; otherwise restart or replace it (its deletes wait in its journal).',
  },
  MEMCACHED_TIMEOUT: {
    area: 'memcached',
    retryable: true,
    summary: 'A memcached server took no connection, or answered nothing, within the timeout.',
    action: 'Check that the server is not stalled or overloaded; its deletes are retried, then journaled.',
  },
  MEMCACHED_PROTOCOL: {
    area: 'memcached',
    retryable: true,
    summary:
      'A memcached server’s answer is not valid binary protocol, or out of step; the connection is reopened.',
    action:
      'If it repeats, check that the address is a memcached server (or proxy) speaking the binary protocol.',
  },
  MEMCACHED_ERROR_STATUS: {
    area: 'memcached',
    retryable: true,
    summary:
      'A memcached server answered a delete, tombstone or flush with an error status (out of memory, …).',
    action: 'Check the server’s stats and logs; the request is retried.',
  },
  MEMCACHED_UNAVAILABLE: {
    area: 'memcached',
    retryable: true,
    summary:
      'Without a journal directory, a server’s deletes kept failing for every attempt allowed: the tailer ' +
      'stops, its checkpoint before them.',
    action:
      'Bring the server back and restart (the tailer resumes from its checkpoint); give the sink a journal.',
  },
  MEMCACHED_FLUSH_UNAVAILABLE: {
    area: 'memcached',
    retryable: false,
    summary:
      'gapPolicy flush needs the memcached journal to record the flush durably, and the sink has none.',
    action: 'Give the sink a journal directory (stateDir), or use gapPolicy fail-closed.',
  },
  MEMCACHED_JOURNAL_UNUSABLE: {
    area: 'memcached',
    retryable: false,
    summary: 'The memcached journal directory cannot be opened or written.',
    action: 'Make `<stateDir>/memcached-journal` a writable directory on a persistent volume; restart.',
  },
  SINK_CLOSED: {
    area: 'memcached',
    retryable: false,
    summary: 'The memcached sink was closed while a server was still being probed or recovered.',
    action: 'None: expected during shutdown.',
  },

  // kafka
  KAFKA_UNAVAILABLE: {
    area: 'kafka',
    retryable: true,
    summary: 'No Kafka broker could be reached (connection refused, timeout, unknown host).',
    action: 'Check kafka.brokers and the network; the Kafka tailer retries the same records meanwhile.',
  },
  KAFKA_REFUSED: {
    area: 'kafka',
    retryable: false,
    summary: 'Kafka answered but refused the request (authorization, unknown topic, record too large, …).',
    action:
      'Fix what the message names (ACLs, `cachetail kafka init` for the topics, sizes); the Kafka tailer ' +
      'keeps retrying the same records, since it cannot skip them.',
  },
  KAFKA_TOPIC_LEADERS: {
    area: 'kafka',
    retryable: true,
    summary: 'A topic was created but not every partition had a leader within the wait.',
    action: 'Check the brokers’ health and run `cachetail kafka init` again.',
  },
  MALFORMED_MESSAGE: {
    area: 'kafka',
    retryable: false,
    summary:
      'A Kafka message is not an invalidation the consumer can apply (content type, empty, undecodable, ' +
      'no key or event id).',
    action:
      'Skipped and counted by default; with onMalformed "stop" the consumer stops uncommitted. Find what ' +
      'produced the message at the logged offset.',
  },
  CONSUMER_CRASHED: {
    area: 'kafka',
    retryable: true,
    summary: 'kafkajs stopped the consumer on an error it does not restart from itself.',
    action: 'Check the brokers; restart the consumer (it resumes from its committed offsets).',
  },

  // app (InvalidationError, AnnotationError)
  INVALIDATION_CLOSED: {
    area: 'app',
    retryable: false,
    summary: '`tx.query`/`tx.dirty` after the transaction ended: the keys would belong to no transaction.',
    action: 'Fix the application: use `tx` only inside the withInvalidation callback.',
  },
  INVALIDATION_NESTED: {
    area: 'app',
    retryable: false,
    summary:
      'withInvalidation on a connection already inside one (BEGIN would commit the outer transaction).',
    action: 'Fix the application: pass the outer `tx` down instead of nesting.',
  },
  INVALIDATION_TX_CONTROL: {
    area: 'app',
    retryable: false,
    summary: 'BEGIN, COMMIT or ROLLBACK through `tx`: the helper owns the transaction’s boundaries.',
    action: 'Fix the application: return to commit, throw to roll back.',
  },
  INVALIDATION_TABLE_NAME: {
    area: 'app',
    retryable: false,
    summary: 'A configured table name is not `table` or `db.table` of plain identifier characters.',
    action: 'Fix the table option (application, or `cachetail outbox cleanup --table`).',
  },
  INVALIDATION_TABLE_MISSING: {
    area: 'app',
    retryable: false,
    summary: 'The carrier or outbox table is missing or has the wrong columns.',
    action: 'Create it from sql/cachetail-app.sql.',
  },
  INVALIDATION_LOCAL_FAILED: {
    area: 'app',
    retryable: false,
    summary:
      'The transaction committed, but deleting its keys from the local memcached tier failed (the error ' +
      'lists the keys).',
    action:
      'The change is committed; until the tailer deletes them (or their TTL ends) those keys may be stale ' +
      'locally. Check the local tier; the application may delete the listed keys again.',
  },
  INVALIDATION_USAGE: {
    area: 'app',
    retryable: false,
    summary: 'A bad argument to the library (ttl out of range, empty type tag, unknown isolation level).',
    action: 'Fix the call in the application.',
  },
  ANNOTATION_INVALID_KEY: {
    area: 'app',
    retryable: false,
    summary: 'A cache key memcached cannot hold (empty, over 250 bytes, a space or control byte, not UTF-8).',
    action: 'Fix the key the application builds (docs/annotation-grammar.md).',
  },
  ANNOTATION_NO_KEYS: {
    area: 'app',
    retryable: false,
    summary: 'An annotation with no keys.',
    action: 'Fix the call: annotate with at least one key, or do not annotate.',
  },
  ANNOTATION_INVALID_FIELD: {
    area: 'app',
    retryable: false,
    summary: 'An annotation field name or value the grammar does not allow.',
    action: 'Fix the field (docs/annotation-grammar.md).',
  },
  ANNOTATION_UNTERMINATED: {
    area: 'app',
    retryable: false,
    summary: 'The statement ends inside a string or comment, so no annotation can be placed safely.',
    action: 'Fix the SQL statement.',
  },
  ANNOTATION_MULTI_STATEMENT: {
    area: 'app',
    retryable: false,
    summary: 'The text holds more than one statement; an annotation belongs to exactly one.',
    action: 'Annotate each statement separately.',
  },
  ANNOTATION_EMPTY_STATEMENT: {
    area: 'app',
    retryable: false,
    summary: 'There is no SQL to annotate (empty, or comments only).',
    action: 'Fix the call.',
  },

  // http
  FAILED: {
    area: 'http',
    retryable: false,
    summary: '/healthz: the tailer failed and recorded no error.',
    action: 'Restart the process (the orchestrator does, since it is not alive); report it.',
  },
  STATUS_UNAVAILABLE: {
    area: 'http',
    retryable: true,
    summary: 'The status server could not read the tailer’s status (logged as "status source threw").',
    action: 'Read that log line; report it.',
  },
  NOT_FOUND: {
    area: 'http',
    retryable: false,
    summary: 'No such route on the status server.',
    action: 'Use /healthz, /readyz, /status, /metrics or /dashboard/.',
  },
  BAD_REQUEST: {
    area: 'http',
    retryable: false,
    summary: 'The status server refused a malformed request (fastify’s own code is sent when it has one).',
    action: 'Fix the request.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    area: 'http',
    retryable: false,
    summary: 'The dashboard’s scenario API was posted to without a JSON content type.',
    action: 'POST a JSON body with content-type application/json.',
  },

  // devcluster (DevclusterError; START_FAILED is under tailer)
  BINARY_MISSING: {
    area: 'devcluster',
    retryable: 'depends',
    summary: 'A server binary (mariadbd, mysqld, memcached, java) is not installed.',
    action: 'Install the package the message names.',
  },
  TIMEOUT: {
    area: 'devcluster',
    retryable: 'depends',
    summary: 'A dev server was not ready, or did not stop, in time.',
    action: 'Read the server log the message names; the machine may be overloaded.',
  },
  COMMAND_FAILED: {
    area: 'devcluster',
    retryable: 'depends',
    summary: 'A setup command exited non-zero; the message holds the end of its output.',
    action: 'Read the output in the message.',
  },
  LOCK_TIMEOUT: {
    area: 'devcluster',
    retryable: 'depends',
    summary: 'Another process held a devcluster lock for too long.',
    action: 'Check for a stuck test or demo process; remove the lock file if its owner is gone.',
  },
  NOT_RUNNING: {
    area: 'devcluster',
    retryable: 'depends',
    summary: 'A dev server that was asked for is not running.',
    action: 'Start the cluster (or the extra server) first.',
  },
  UNKNOWN_LINE: {
    area: 'devcluster',
    retryable: 'depends',
    summary: 'CACHETAIL_SERVER_LINES or --server names a server line that does not exist.',
    action: 'Use one of the lines the message lists.',
  },
  ROOT_UNAVAILABLE: {
    area: 'devcluster',
    retryable: 'depends',
    summary: 'A server line’s installation root cannot be prepared on this machine.',
    action: 'Read the reason in the message (download, disk space).',
  },
  DEMO_SCENARIO_FAILED: {
    area: 'devcluster',
    retryable: false,
    summary:
      'The demo’s scripted scenario could not run a step (already running, an app answered an error, ' +
      'the tailer did not delete the key in time).',
    action: 'Read the step the message names and the demo log (cachetail.log in the demo directory).',
  },
  UNEXPECTED_STATE: {
    area: 'devcluster',
    retryable: 'depends',
    summary:
      'A dev server is not in the state the caller arranged (e.g. a replica applied what it should only fetch).',
    action: 'Rerun; report it if it repeats.',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

type CodesWhere<R> = {
  [K in ErrorCode]: (typeof ERROR_CODES)[K]['retryable'] extends R ? K : never;
}[ErrorCode];
/** Codes whose errors are always retryable. */
export type RetryableCode = CodesWhere<true>;
/** Codes whose errors are never retryable. */
export type FatalCode = CodesWhere<false>;
/** Codes whose throwing site says whether a retry helps. */
export type ContextDependentCode = CodesWhere<'depends'>;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
