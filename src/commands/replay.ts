/**
 * `cachetail replay`: re-runs the invalidations of a range of the binlog, for incident recovery (a tier
 * restored from a snapshot, a tailer that ran misconfigured). Transactions come from binlog files or
 * from the replica over the wire (./replay-source.ts), are selected by --from/--to (./replay-range.ts),
 * and their keys go to the memcached tier through the tailer's own sink (hashing, batching, journal),
 * or with --dry-run are printed instead. Extraction is the tailer's: annotations, and the outbox tables
 * of the config.
 */
import type { Writable } from 'node:stream';
import { loadTailerConfig } from '../config/tailer.js';
import type { TailerConfig } from '../config/schema.js';
import { CachetailError, errorCodeOf, errorMessage } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import type { MemcachedSink } from '../sinks/memcached/sink.js';
import type { CommittedTransaction } from '../sinks/sink.js';
import { createReplaySink } from '../wiring/index.js';
import { LineOutput } from './binlog-output.js';
import type { TransactionReport } from './binlog-transactions.js';
import { inRange, parseBound, type ReplayRange } from './replay-range.js';
import { renderSummary, renderTransaction, type ReplaySummary } from './replay-render.js';
import { transactionsFromFiles, transactionsFromReplica, type ReadCursor } from './replay-source.js';
import { EXIT_USAGE, parseCommandArgs, usageErrorLine } from './usage.js';

export const REPLAY_HELP = `usage: cachetail replay --from BOUND [--to BOUND] [--file PATH…] [options]

Re-runs the invalidations of a range of the binlog into the memcached tier, with the tailer's
hashing, batching and journal: after a tier was restored from a snapshot, or a tailer ran
misconfigured. Reads the replica over the wire (up to the end of its binlog at start), or binlog
files with --file.

  --from BOUND          first transaction of the range (required)
  --to BOUND            last transaction of the range (default: the end of what is read)
      BOUND is a GTID (MariaDB 0-1-100[,1-2-5]; MySQL uuid:100 or a set uuid:1-100): inclusive,
      per domain / uuid; FILE:POSITION: half-open, transactions starting at --from and before
      --to (a tailer checkpoint is such a boundary); or an ISO 8601 time (UTC unless an offset
      is given): inclusive, against the commit event's timestamp (1 s precision)
  --file PATH           read this binlog file instead of the replica (repeat; read in the order
                        given)
  --dry-run             print the keys (one per line, in commit order, after a
                        '# <gtid> <file:pos> <time>' comment per transaction); delete nothing
  --json                one JSON object per line: transactions (with --dry-run) and the summary
  -c, --config FILE     the tailer's config (source, memcached, stateDir, outbox tables);
                        CACHETAIL_<PATH> environment variables override it. Not needed for
                        --dry-run with --file
  --server-id N         server id the dump registers with (default source.serverId + 2; it must
                        differ from every server's and the running tailer's)
  --journal-dir DIR     journal of down memcached servers (default
                        <stateDir>/memcached-journal-replay; a later replay delivers it first)
  -h, --help            this text

Progress goes to stderr when it is a terminal; a summary line ends stdout (transactions read and
in the range, keys, deleted / not found / journaled, the range actually covered).
Exit status: 0 done, 1 config, read, decode or connection error, or keys left journaled for a
down server (run again when it answers), 2 usage.
`;

export interface ReplayIo {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

interface Options {
  range: ReplayRange;
  files: string[];
  dryRun: boolean;
  json: boolean;
  config: string | undefined;
  serverId: number | undefined;
  journalDir: string | undefined;
}

const PROGRESS_INTERVAL_MS = 250;

function usage(message: string): CachetailError {
  return new CachetailError('USAGE', message);
}

function parse(args: string[]): Options | 'help' {
  const parsed = parseCommandArgs({
    args,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      file: { type: 'string', multiple: true },
      'dry-run': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      config: { type: 'string', short: 'c' },
      'server-id': { type: 'string' },
      'journal-dir': { type: 'string' },
    },
  });
  if (parsed.help) return 'help';
  const { values } = parsed;
  if (values.from === undefined) throw usage('--from is required (a GTID, FILE:POSITION or time)');
  const serverId = values['server-id'];
  if (serverId !== undefined && !/^\d+$/.test(serverId)) {
    throw usage(`--server-id must be a positive integer, not ${JSON.stringify(serverId)}`);
  }
  return {
    range: {
      from: parseBound(values.from, '--from'),
      to: values.to === undefined ? undefined : parseBound(values.to, '--to'),
    },
    files: values.file ?? [],
    dryRun: values['dry-run'],
    json: values.json,
    config: values.config,
    serverId: serverId === undefined ? undefined : Number(serverId),
    journalDir: values['journal-dir'],
  };
}

/** A dry run of files needs nothing from the config but its outbox tables: only read when given. */
function readConfig(opts: Options, env: NodeJS.ProcessEnv): TailerConfig | undefined {
  if (opts.dryRun && opts.files.length > 0 && opts.config === undefined) return undefined;
  return loadTailerConfig(opts.config, env);
}

export async function replayCommand(
  args: string[],
  io: ReplayIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  let opts: ReturnType<typeof parse>;
  try {
    opts = parse(args);
  } catch (err) {
    io.stderr.write(usageErrorLine('replay', err));
    return EXIT_USAGE;
  }
  if (opts === 'help') {
    io.stdout.write(REPLAY_HELP);
    return 0;
  }
  let config: TailerConfig | undefined;
  try {
    config = readConfig(opts, io.env);
  } catch (err) {
    io.stderr.write(`cachetail replay: ${errorMessage(err)} [${errorCodeOf(err)}]\n`);
    return 1;
  }
  return new ReplayRun(opts, config, io).run();
}

/** One replay: reads, selects, delivers (or prints), reports. */
class ReplayRun {
  private readonly out: LineOutput;
  private readonly sink: MemcachedSink | undefined;
  private readonly cursor: ReadCursor = { file: '', position: 0 };
  private readonly summary: ReplaySummary;
  private pending: TransactionReport[] = [];
  private pendingKeys = new Set<string>();
  private lastProgressAt = 0;
  private readonly never = new AbortController().signal;

  constructor(
    private readonly opts: Options,
    private readonly config: TailerConfig | undefined,
    private readonly io: ReplayIo,
  ) {
    this.out = new LineOutput(io.stdout);
    const log = createLogger(config?.log.level ?? 'warn', { write: (s: string) => io.stderr.write(s) });
    // readConfig loads the config whenever keys are deleted.
    this.sink = opts.dryRun || !config ? undefined : createReplaySink(config, log, opts.journalDir);
    this.summary = {
      dryRun: opts.dryRun,
      transactionsRead: 0,
      inRange: 0,
      withKeys: 0,
      keys: 0,
      rejected: 0,
      incomplete: 0,
      first: undefined,
      last: undefined,
      readTo: this.cursor,
      sink: this.sink?.stats,
    };
  }

  async run(): Promise<number> {
    let failure: unknown;
    try {
      await this.sink?.start();
      for await (const t of this.transactions()) await this.transaction(t);
      await this.deliver();
    } catch (err) {
      failure = err;
    } finally {
      await this.sink?.close();
      this.clearProgress();
    }
    await this.out.line(renderSummary(this.summary, this.opts.json));
    await this.out.close();
    if (failure !== undefined) {
      this.io.stderr.write(`cachetail replay: ${errorMessage(failure)} [${errorCodeOf(failure)}]\n`);
      return 1;
    }
    const journaled = this.sink?.stats.journaled ?? 0;
    if (journaled > 0) {
      const err = new CachetailError(
        'REPLAY_JOURNALED',
        `${journaled} keys were journaled for memcached servers that did not answer; run cachetail replay ` +
          'again (any range) once they answer: it delivers the journal first',
      );
      this.io.stderr.write(`cachetail replay: ${err.message} [${err.code}]\n`);
      return 1;
    }
    if (this.summary.inRange === 0) {
      this.io.stderr.write('cachetail replay: no transaction of the range was found in what was read\n');
    }
    return 0;
  }

  private transactions(): AsyncGenerator<TransactionReport> {
    const { opts, config } = this;
    const tables = config?.outbox.tables ?? [];
    const outbox = tables.length > 0 ? { tables } : undefined;
    if (opts.files.length > 0) return transactionsFromFiles(opts.files, opts.range, outbox, this.cursor);
    if (!config) throw new CachetailError('USAGE', 'reading the replica needs its config');
    const source = { ...config.source, serverId: opts.serverId ?? config.source.serverId + 2 };
    return transactionsFromReplica(source, opts.range, outbox, this.cursor);
  }

  private async transaction(t: TransactionReport): Promise<void> {
    const s = this.summary;
    s.transactionsRead++;
    this.progress();
    // Not committed in what was read: the tailer would not have deleted these keys either.
    if (t.incomplete) {
      s.incomplete++;
      return;
    }
    if (!inRange(this.opts.range, t)) return;
    s.inRange++;
    s.first ??= t;
    s.last = t;
    s.rejected += t.rejected.length;
    if (t.keys.length === 0) return;
    s.withKeys++;
    s.keys += t.keys.length;
    if (this.opts.dryRun) {
      for (const line of renderTransaction(t, this.opts.json)) await this.out.line(line);
      return;
    }
    this.pending.push(t);
    for (const k of t.keys) this.pendingKeys.add(k);
    if (this.pendingKeys.size >= (this.config?.batch.maxKeys ?? 1_000)) await this.deliver();
  }

  /** The pending transactions as one batch, like the tailer's: their keys' union, in first-seen order. */
  private async deliver(): Promise<void> {
    if (!this.sink || this.pending.length === 0) return;
    const transactions: CommittedTransaction[] = this.pending.map((t) => ({
      gtid: t.gtid,
      file: t.file,
      nextPosition: t.endLogPos,
      serverId: t.serverId,
      commitTimeMs: t.commitTimeMs,
      keys: t.keys,
      writerTimeMs: t.writerTimeMs,
    }));
    const keys = [...this.pendingKeys];
    this.pending = [];
    this.pendingKeys = new Set();
    await this.sink.deliver({ transactions, keys }, this.never);
  }

  private progress(): void {
    if (this.io.stderr.isTTY !== true) return;
    const now = Date.now();
    if (now - this.lastProgressAt < PROGRESS_INTERVAL_MS) return;
    this.lastProgressAt = now;
    const s = this.summary;
    this.io.stderr.write(
      `\r\x1b[Kreplay: ${s.transactionsRead} transactions read, ${s.inRange} in range, ${s.keys} keys, ` +
        `at ${this.cursor.file}:${this.cursor.position}`,
    );
  }

  private clearProgress(): void {
    if (this.io.stderr.isTTY === true && this.lastProgressAt > 0) this.io.stderr.write('\r\x1b[K');
  }
}
