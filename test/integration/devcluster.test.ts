// The devcluster itself: the servers the rest of the suite relies on behave like the deployment in
// DESIGN.md §2 (annotated ROW binlogs re-logged by the replica, a least-privilege tailer account).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import memjs from 'memjs';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clusterControl, ensureKafka } from '../../src/devcluster/index.js';
import type { KafkaInfo } from '../../src/devcluster/index.js';

const info = inject('cluster');
const control = clusterControl(info);
const { sql } = control.driver;
const mysql = info.server.flavor === 'mysql';

describe(`devcluster ${info.server.line} pair`, () => {
  beforeAll(async () => {
    await control.query(
      'primary',
      `CREATE DATABASE IF NOT EXISTS devcluster_test;
       CREATE TABLE IF NOT EXISTS devcluster_test.users (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL)`,
    );
  });

  it('runs the version of its line', async () => {
    const [row] = await control.query('replica', 'SELECT VERSION() AS v');
    expect(String(row?.v)).toBe(info.server.version);
    expect(info.server.version.startsWith(info.server.line.split('-')[1])).toBe(true);
    expect(/mariadb/i.test(info.server.version)).toBe(!mysql);
  });

  it('is configured like a production pair of its line (binlogs, annotations, GTIDs, applier)', async () => {
    if (mysql) await expectMysqlSettings();
    else await expectMariadbSettings();
  });

  async function expectMysqlSettings(): Promise<void> {
    // GTIDs on, ROW binlogs with Rows_query events on both servers, MySQL's multi-threaded applier.
    for (const server of ['primary', 'replica'] as const) {
      const [row] = await control.query(
        server,
        `SELECT @@server_id AS id, @@log_bin AS logBin, @@binlog_format AS format, @@gtid_mode AS gtidMode,
                @@enforce_gtid_consistency AS enforce, @@binlog_rows_query_log_events AS rowsQuery,
                @@log_replica_updates AS replicaUpdates, @@replica_parallel_workers AS workers,
                @@replica_preserve_commit_order AS preserveOrder, @@port AS port`,
      );
      expect(row).toEqual({
        id: server === 'primary' ? 1 : 2,
        logBin: 1,
        format: 'ROW',
        gtidMode: 'ON',
        enforce: 'ON',
        rowsQuery: 1,
        replicaUpdates: 1,
        workers: 4,
        preserveOrder: 1,
        port: info[server].port,
      });
    }
    const [status] = await control.query('replica', sql.replicaStatus);
    expect(status).toMatchObject({ Auto_Position: 1, Replica_IO_Running: 'Yes', Replica_SQL_Running: 'Yes' });
  }

  async function expectMariadbSettings(): Promise<void> {
    // Distinct server ids, ROW binlogs with annotations on both servers, the replica re-logging them.
    for (const server of ['primary', 'replica'] as const) {
      const [row] = await control.query(
        server,
        `SELECT @@server_id AS id, @@log_bin AS logBin, @@binlog_format AS format,
                @@binlog_annotate_row_events AS annotate, @@log_slave_updates AS slaveUpdates,
                @@replicate_annotate_row_events AS replicateAnnotate, @@port AS port`,
      );
      expect(row).toEqual({
        id: server === 'primary' ? 1 : 2,
        logBin: 1,
        format: 'ROW',
        annotate: 1,
        slaveUpdates: 1,
        replicateAnnotate: 1,
        port: info[server].port,
      });
    }
  }

  it('replicates a write and the replica re-logs it with its statement event and comment', async () => {
    const marker = `devcluster-${Date.now()}`;
    // Read the replica's binlog from here on: an earlier file may have left an event over the session's
    // max_allowed_packet in it, which SHOW BINLOG EVENTS cannot return ("Wrong offset or I/O error").
    const [before] = await control.query('replica', sql.binlogStatus);
    await control.query('primary', `INSERT INTO devcluster_test.users VALUES (1, 'ada') /* ${marker} */`);
    await control.waitForReplicaCatchUp();

    const rows = await control.query('replica', 'SELECT id, name FROM devcluster_test.users');
    expect(rows).toEqual([{ id: 1, name: 'ada' }]);

    const events = await control.query(
      'replica',
      `SHOW BINLOG EVENTS IN '${String(before?.File)}' FROM ${Number(before?.Position)}`,
    );
    // MariaDB's Annotate_rows shows the statement; MySQL's Rows_query shows it behind '# '.
    const type = mysql ? 'Rows_query' : 'Annotate_rows';
    const statement = `INSERT INTO devcluster_test.users VALUES (1, 'ada') /* ${marker} */`;
    const annotations = events.filter((e) => e.Event_type === type).map((e) => String(e.Info));
    expect(annotations.filter((text) => text.includes(marker))).toEqual([
      mysql ? `# ${statement}` : statement,
    ]);
    const annotated = events.find((e) => e.Event_type === type && String(e.Info).includes(marker));
    expect(annotated?.Server_id).toBe(1); // re-logged, not rewritten: the origin server id is kept
  });

  it('lags on purpose while the SQL thread is stopped, and catches up after', async () => {
    await control.stopReplicaSql();
    try {
      await control.query('primary', `INSERT INTO devcluster_test.users VALUES (2, 'grace')`);
      await expect(control.waitForReplicaCatchUp(300)).rejects.toMatchObject({ code: 'TIMEOUT' });
      expect(await control.query('replica', 'SELECT id FROM devcluster_test.users WHERE id = 2')).toEqual([]);
    } finally {
      await control.startReplicaSql();
    }
    await control.waitForReplicaCatchUp();
    expect(await control.query('replica', 'SELECT name FROM devcluster_test.users WHERE id = 2')).toEqual([
      { name: 'grace' },
    ]);
  });

  it('lets the tailer account read binlog status and settings on the replica, and nothing more', async () => {
    const conn = await control.connect('replica', { user: info.tailerUser });
    try {
      const [master] = await conn.query<RowDataPacket[]>(sql.binlogStatus);
      expect(master[0]?.File).toMatch(/^mysql-bin\.\d{6}$/);
      const [settings] = await conn.query<RowDataPacket[]>(
        `SELECT @@global.${mysql ? 'log_replica_updates' : 'log_slave_updates'} AS lsu,
                @@global.binlog_format AS format`,
      );
      expect(settings).toEqual([{ lsu: 1, format: 'ROW' }]);
      const [slave] = await conn.query<RowDataPacket[]>(sql.replicaStatus);
      expect(slave[0]?.[mysql ? 'Replica_SQL_Running' : 'Slave_SQL_Running']).toBe('Yes');
      await expect(conn.query(sql.stopReplica)).rejects.toMatchObject({
        code: 'ER_SPECIFIC_ACCESS_DENIED_ERROR',
      });
      await expect(conn.query('SELECT * FROM devcluster_test.users')).rejects.toMatchObject({
        code: 'ER_TABLEACCESS_DENIED_ERROR',
      });
    } finally {
      await conn.end();
    }
  });
});

describe('devcluster memcached tiers', () => {
  const clients: memjs.Client[] = [];
  afterAll(() => clients.forEach((c) => c.close()));

  it.each(['master', 'replica'] as const)('stores and returns a value on the %s tier', async (tier) => {
    const client = memjs.Client.create(info.memcached[tier], { retries: 0, timeout: 2 });
    clients.push(client);
    await client.set(`devcluster:${tier}`, `value-${tier}`, { expires: 60 });
    const { value } = await client.get(`devcluster:${tier}`);
    expect(value?.toString()).toBe(`value-${tier}`);
  });

  it('keeps the two tiers separate', async () => {
    const master = memjs.Client.create(info.memcached.master, { retries: 0, timeout: 2 });
    const replica = memjs.Client.create(info.memcached.replica, { retries: 0, timeout: 2 });
    clients.push(master, replica);
    await master.set('devcluster:only-master', 'x', { expires: 60 });
    expect((await replica.get('devcluster:only-master')).value).toBeNull();
  });
});

describe('devcluster Kafka (started lazily)', () => {
  // In a hook: the first call may download the broker jars, which can take longer than a test timeout.
  let concurrent: KafkaInfo[] = [];
  beforeAll(async () => {
    concurrent = await Promise.all([ensureKafka(info), ensureKafka(info)]);
  });

  it('starts one broker per run, whichever process asks', async () => {
    const [first, second] = concurrent;
    expect(second).toEqual(first);
    // Another process (as another test worker would be) finds the same broker instead of starting one.
    const { stdout } = await promisify(execFile)('npx', [
      'tsx',
      'src/devcluster/cli.ts',
      'ensure-kafka',
      info.baseDir,
    ]);
    expect(JSON.parse(stdout)).toEqual(first);
  });

  it('round-trips a message through kafkajs', async () => {
    const { brokers } = await ensureKafka(info);
    const kafka = new Kafka({ clientId: 'devcluster-test', brokers, logLevel: logLevel.NOTHING });
    const topic = `devcluster-${Date.now()}`;
    const admin = kafka.admin();
    const producer = kafka.producer({ idempotent: true });
    const consumer = kafka.consumer({ groupId: `${topic}-group` });
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ key: 'user:1', value: 'invalidate' }] });

      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = await new Promise<{ key: string; value: string; offset: string }>((resolve) => {
        void consumer.run({
          eachMessage: ({ message }) => {
            resolve({ key: String(message.key), value: String(message.value), offset: message.offset });
            return Promise.resolve();
          },
        });
      });
      expect(received).toEqual({ key: 'user:1', value: 'invalidate', offset: '0' });
    } finally {
      await Promise.all([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
    }
  });
});
