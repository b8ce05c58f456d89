/**
 * The replica commit gate on a scripted connection: which GTIDs it waits for, that it waits until the
 * server says they are executed, reconnects after a failure, gives up (delivering) after maxWaitMs, and
 * stops when the tailer does. And the delivery queue holds a batch back until its gate opens.
 */
import { describe, expect, it } from 'vitest';
import type { RowDataPacket } from 'mysql2/promise';
import { createLogger, type Logger } from '../../../src/observability/logger.js';
import type { CommittedTransaction, InvalidationBatch, Sink } from '../../../src/sinks/sink.js';
import { mysqlGtidSetOf, ReplicaCommitGate, type GateConnection } from '../../../src/tailer/commit-gate.js';
import { DeliveryQueue } from '../../../src/tailer/delivery.js';

const U1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const U2 = '00000000-0000-0000-0000-0000000000aa';

function txn(gtid: string | undefined, keys: string[] = ['k']): CommittedTransaction {
  return { gtid, file: 'bin.1', nextPosition: 100, serverId: 1, commitTimeMs: 0, keys };
}

/** Answers each WAIT_FOR_EXECUTED_GTID_SET with the next scripted result (a number, or an error). */
class ScriptedConnection implements GateConnection {
  readonly asked: unknown[][] = [];
  closed = false;
  constructor(private readonly script: (number | Error | 'hang')[]) {}
  query<T extends RowDataPacket[]>(sql: string, values?: unknown[]): Promise<T> {
    expect(sql).toBe('SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS r');
    this.asked.push(values ?? []);
    const next = this.script.shift() ?? 1;
    if (next === 'hang') {
      return new Promise((_resolve, reject) => {
        const check = setInterval(() => {
          if (this.closed) {
            clearInterval(check);
            reject(new Error('Connection lost: The server closed the connection.'));
          }
        }, 1);
      });
    }
    if (next instanceof Error) return Promise.reject(next);
    return Promise.resolve([{ r: next }] as unknown as T);
  }
  close(): void {
    this.closed = true;
  }
}

function gate(
  conns: ScriptedConnection[],
  opts: { maxWaitMs?: number; pollSeconds?: number; graceMs?: number } = {},
) {
  const opened: ScriptedConnection[] = [];
  const warnings: unknown[] = [];
  const log = {
    child: () => log,
    warn: (o: unknown) => void warnings.push(o),
    debug: () => undefined,
  } as unknown as Logger;
  const g = new ReplicaCommitGate({
    open: () => {
      const c = conns.shift();
      if (!c) return Promise.reject(new Error('connect ECONNREFUSED'));
      opened.push(c);
      return Promise.resolve(c);
    },
    log,
    maxWaitMs: opts.maxWaitMs ?? 5_000,
    pollSeconds: opts.pollSeconds ?? 1,
    graceMs: opts.graceMs,
    retryMs: 1,
  });
  return { g, opened, warnings };
}

const signal = () => new AbortController().signal;

describe('mysqlGtidSetOf', () => {
  it('is the set of the MySQL GTIDs of the batch, tagged ones included', () => {
    expect(
      mysqlGtidSetOf([txn(`${U1}:7`), txn(`${U2}:3`), txn(`${U1}:Pay:2`), txn(`${U1}:5`), txn(`${U1}:6`)]),
    ).toBe(`${U2}:3,${U1}:5-7:pay:2`);
  });

  it('is empty for MariaDB GTIDs, anonymous transactions and transactions without a GTID', () => {
    expect(mysqlGtidSetOf([txn('0-1-5'), txn('ANONYMOUS'), txn(undefined), txn('')])).toBe('');
  });
});

describe('ReplicaCommitGate', () => {
  it('opens no connection when the batch has no MySQL GTID', async () => {
    const { g, opened } = gate([new ScriptedConnection([])]);
    await g.wait([txn('0-1-5'), txn(undefined)], signal());
    expect(opened).toEqual([]);
  });

  it('waits until the replica reports every GTID of the batch executed, on one connection', async () => {
    const conn = new ScriptedConnection([1, 1, 0, 0]);
    const { g, opened } = gate([conn]);
    await g.wait([txn(`${U1}:8`), txn(`${U1}:tag:1`)], signal());
    expect(opened).toEqual([conn]);
    expect(conn.asked).toEqual([
      [`${U1}:8:tag:1`, 1],
      [`${U1}:8:tag:1`, 1],
      [`${U1}:8:tag:1`, 1],
    ]);
    // The connection is kept for the next batch.
    conn.asked.length = 0;
    await g.wait([txn(`${U1}:9`)], signal());
    expect(conn.asked).toEqual([[`${U1}:9`, 1]]);
    g.close();
    expect(conn.closed).toBe(true);
  });

  it('reconnects after a failed query or connect and keeps waiting', async () => {
    const broken = new ScriptedConnection([new Error('Connection lost')]);
    const good = new ScriptedConnection([1, 0]);
    const { g, opened } = gate([broken, good]);
    await g.wait([txn(`${U1}:8`)], signal());
    expect(opened).toEqual([broken, good]);
    expect(broken.closed).toBe(true);
    expect(good.asked).toHaveLength(2);
  });

  it('treats a NULL answer (a server-side error) as not yet confirmed', async () => {
    const conn = new ScriptedConnection([Number.NaN, 0]);
    const { g } = gate([conn]);
    await g.wait([txn(`${U1}:8`)], signal());
    expect(conn.asked).toHaveLength(2);
  });

  it('delivers anyway after maxWaitMs without confirmation, and says so', async () => {
    const { g, warnings } = gate([], { maxWaitMs: 30 });
    const started = Date.now();
    await g.wait([txn(`${U1}:8`)], signal());
    expect(Date.now() - started).toBeGreaterThanOrEqual(30);
    expect(g.unconfirmed).toBe(1);
    expect(warnings).toEqual([
      expect.objectContaining({ gtids: `${U1}:8`, problem: 'connect ECONNREFUSED' }),
    ]);
  });

  it('drops a connection whose server stops answering, and still delivers after maxWaitMs', async () => {
    const frozen = new ScriptedConnection(['hang']);
    const { g, warnings } = gate([frozen], { maxWaitMs: 100, pollSeconds: 0.01, graceMs: 10 });
    const started = Date.now();
    await g.wait([txn(`${U1}:8`)], signal());
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(frozen.closed).toBe(true);
    expect(g.unconfirmed).toBe(1);
    expect(warnings).toHaveLength(1);
  });

  it('stops waiting at once when the delivery is aborted, interrupting the server-side wait', async () => {
    const conn = new ScriptedConnection(['hang']);
    const { g } = gate([conn]);
    const abort = new AbortController();
    const waiting = g.wait([txn(`${U1}:8`)], abort.signal);
    await new Promise((r) => setTimeout(r, 10));
    abort.abort(new Error('tailer stopped'));
    await expect(waiting).rejects.toThrow('tailer stopped');
    expect(conn.closed).toBe(true);
  });

  it('refuses to wait once closed', async () => {
    const { g } = gate([new ScriptedConnection([0])]);
    g.close();
    await expect(g.wait([txn(`${U1}:8`)], signal())).rejects.toMatchObject({ code: 'STOPPED' });
  });
});

describe('DeliveryQueue with a commit gate', () => {
  it('holds a batch (and the acknowledged position) until the gate opens', async () => {
    const delivered: string[][] = [];
    const sink: Sink = {
      name: 'recorder',
      deliver: (batch: InvalidationBatch) => {
        delivered.push([...batch.keys]);
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    };
    let open: () => void = () => undefined;
    const gated: string[][] = [];
    const q = new DeliveryQueue<number>({
      sink,
      maxBatchKeys: 10,
      maxPending: 10,
      log: createLogger('silent'),
      pause: () => undefined,
      resume: () => undefined,
      onDelivered: () => undefined,
      onFailed: (err) => {
        throw err;
      },
      beforeDeliver: (batch) => {
        gated.push(batch.transactions.map((t) => t.gtid ?? ''));
        return new Promise<void>((r) => (open = r));
      },
    });
    q.reset(0);
    const running = q.run();
    q.push(txn(`${U1}:1`, ['a']), 1);
    q.push(txn(`${U1}:2`, ['b']), 2);
    await new Promise((r) => setTimeout(r, 20));
    expect(gated).toEqual([[`${U1}:1`, `${U1}:2`]]);
    expect(delivered).toEqual([]);
    expect(q.acknowledged).toBe(0);
    open();
    await new Promise((r) => setTimeout(r, 20));
    expect(delivered).toEqual([['a', 'b']]);
    expect(q.acknowledged).toBe(2);
    q.close();
    await running;
  });
});
