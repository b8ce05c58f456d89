/**
 * The command table of the `cachetail` CLI. Each command lives in its own module, loaded only when run,
 * and returns the process exit code.
 */
export interface Command {
  usage: string;
  summary: string;
  run(args: string[]): Promise<number>;
}

export const commands: Record<string, Command> = {
  tail: {
    usage: 'tail [--config FILE]',
    summary:
      "tail the local replica's binlog and invalidate memcached (config: FILE and/or CACHETAIL_* env vars)",
    run: async (args) => (await import('./tail.js')).tailCommand(args),
  },
  binlog: {
    usage: 'binlog [options] <file…|->',
    summary: 'decode binlog files offline: events, and per transaction the keys the tailer would delete',
    run: async (args) => (await import('./binlog.js')).binlogCommand(args),
  },
  edge: {
    usage: 'edge [--config FILE]',
    summary:
      'route reads to the local region and recent writers to the master region (reverse proxy; see docs/edge.md)',
    run: async (args) => (await import('./edge.js')).edgeCommand(args),
  },
  doctor: {
    usage: 'doctor [--config FILE] [--json] [--primary HOST:PORT]',
    summary:
      "check that the replica's settings let annotations reach its binlog (the tailer's preflight); exit 1 if not",
    run: async (args) => (await import('./doctor.js')).doctorCommand(args),
  },
  kafka: {
    usage: 'kafka init [--config FILE] [--json]',
    summary:
      'create the invalidation topics with the stated settings (idempotent; exit 1 if an existing one differs)',
    run: async (args) => (await import('./kafka.js')).kafkaCommand(args),
  },
  consume: {
    usage: 'consume [--config FILE]',
    summary: 'apply the invalidation topic to a memcached tier (commits after deletes; see docs/kafka.md)',
    run: async (args) => (await import('./consume.js')).consumeCommand(args),
  },
  outbox: {
    usage: 'outbox cleanup --host H --user U --database D [--older-than 1h] [--batch N] …',
    summary:
      'delete old rows of the outbox table in bounded batches (password: CACHETAIL_DB_PASSWORD; see docs/app-library.md)',
    run: async (args) => (await import('./outbox.js')).outboxCommand(args),
  },
  demo: {
    usage: 'demo [--once]',
    summary: 'start the local two-region cluster and play the Jason → Monkey scenario (--once: then exit)',
    run: async (args) => (await import('../demo.js')).runDemo(args),
  },
};
