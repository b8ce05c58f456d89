/**
 * The command table of the `cachetail` CLI. Each command lives in its own module, loaded only when run,
 * with its --help text; it returns the process exit code. `summary` is its line in `cachetail --help`.
 */
export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

export const commands: Record<string, Command> = {
  tail: {
    summary: "tail the local replica's binlog and delete the keys its transactions name from memcached",
    run: async (args) => (await import('./tail.js')).tailCommand(args),
  },
  binlog: {
    summary: 'decode binlog files offline: events, and per transaction the keys the tailer would delete',
    run: async (args) => (await import('./binlog.js')).binlogCommand(args),
  },
  replay: {
    summary: 're-run the invalidations of a binlog range (GTID, position or time) into memcached',
    run: async (args) => (await import('./replay.js')).replayCommand(args),
  },
  edge: {
    summary: 'reverse proxy: reads to the local region, recent writers to the master region',
    run: async (args) => (await import('./edge.js')).edgeCommand(args),
  },
  doctor: {
    summary: "check that the replica's settings let annotations reach its binlog (tailer's preflight)",
    run: async (args) => (await import('./doctor.js')).doctorCommand(args),
  },
  kafka: {
    summary: '`kafka init`: create the invalidation topics with the stated settings (idempotent)',
    run: async (args) => (await import('./kafka.js')).kafkaCommand(args),
  },
  consume: {
    summary: 'apply the invalidation topic to a memcached tier (commits after deletes)',
    run: async (args) => (await import('./consume.js')).consumeCommand(args),
  },
  outbox: {
    summary: '`outbox cleanup`: delete old rows of the outbox table in bounded batches',
    run: async (args) => (await import('./outbox.js')).outboxCommand(args),
  },
  demo: {
    summary: 'start the local two-region cluster and play the Jason → Monkey scenario',
    run: async (args) => (await import('../demo.js')).runDemo(args),
  },
};
