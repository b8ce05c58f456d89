/**
 * Where the tailer starts and resumes: the binlog end by flavor and version (MySQL 8.4 removed SHOW
 * MASTER STATUS), and the choice between GTID and file/position for both servers.
 */
import { describe, expect, it } from 'vitest';
import type { Flavor, ReplicationConnection } from '../../../src/replication/client.js';
import { currentEnd, resolveInitialStart, resumeFrom } from '../../../src/tailer/resume.js';

const UUID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';

/** A connection answering the statements currentEnd runs; records what ran. */
function fakeConn(
  flavor: Flavor,
  serverVersion: string,
  answers: { gtid: string; status: { File: string; Position: number } | null },
): { conn: ReplicationConnection; ran: string[] } {
  const ran: string[] = [];
  const conn = {
    flavor,
    serverVersion,
    query: (sql: string) => {
      ran.push(sql);
      if (sql.startsWith('SELECT @@global.gtid')) return Promise.resolve([{ g: answers.gtid }]);
      if (sql.startsWith('SHOW')) return Promise.resolve(answers.status ? [answers.status] : []);
      return Promise.reject(new Error(`unexpected statement ${sql}`));
    },
  };
  return { conn: conn as unknown as ReplicationConnection, ran };
}

describe('currentEnd', () => {
  const status = { File: 'bin.000007', Position: 1234 };

  it('MariaDB: gtid_binlog_pos, then SHOW MASTER STATUS', async () => {
    const { conn, ran } = fakeConn('mariadb', '10.11.19-MariaDB-log', { gtid: '0-1-42', status });
    expect(await currentEnd(conn)).toEqual({
      start: { kind: 'file', file: 'bin.000007', position: 1234 },
      gtid: '0-1-42',
      file: 'bin.000007',
      position: 1234,
      why: 'current end of the binlog',
    });
    expect(ran).toEqual(['SELECT @@global.gtid_binlog_pos AS g', 'SHOW MASTER STATUS']);
  });

  it('MySQL 8.0: gtid_executed (newlines dropped), then SHOW MASTER STATUS', async () => {
    const { conn, ran } = fakeConn('mysql', '8.0.36', {
      gtid: `${UUID}:1-5,\n${UUID.replace('3e', '4e')}:1`,
      status,
    });
    const r = await currentEnd(conn);
    expect(r.gtid).toBe(`${UUID}:1-5,${UUID.replace('3e', '4e')}:1`);
    expect(r.start).toEqual({ kind: 'file', file: 'bin.000007', position: 1234 });
    expect(ran).toEqual(['SELECT @@global.gtid_executed AS g', 'SHOW MASTER STATUS']);
  });

  for (const version of ['8.2.0', '8.4.3', '9.7.0']) {
    it(`MySQL ${version}: SHOW BINARY LOG STATUS`, async () => {
      const { conn, ran } = fakeConn('mysql', version, { gtid: '', status });
      const r = await currentEnd(conn);
      expect(r.gtid).toBe('');
      expect(r.file).toBe('bin.000007');
      expect(ran).toEqual(['SELECT @@global.gtid_executed AS g', 'SHOW BINARY LOG STATUS']);
    });
  }

  it('no binary log: names the statement and the setting to fix, by flavor and version', async () => {
    const cases: [Flavor, string, string][] = [
      [
        'mariadb',
        '10.11.19-MariaDB',
        'the replica has no binary log (SHOW MASTER STATUS is empty): enable log_bin and log_slave_updates=ON',
      ],
      [
        'mysql',
        '8.0.22',
        'the replica has no binary log (SHOW MASTER STATUS is empty): enable log_bin and log_slave_updates=ON',
      ],
      [
        'mysql',
        '8.0.36',
        'the replica has no binary log (SHOW MASTER STATUS is empty): enable log_bin and log_replica_updates=ON',
      ],
      [
        'mysql',
        '9.7.0',
        'the replica has no binary log (SHOW BINARY LOG STATUS is empty): enable log_bin and log_replica_updates=ON',
      ],
    ];
    for (const [flavor, version, message] of cases) {
      const { conn } = fakeConn(flavor, version, { gtid: '', status: null });
      await expect(currentEnd(conn)).rejects.toMatchObject({
        code: 'BINLOG_DISABLED',
        retryable: false,
        message,
      });
    }
  });
});

describe('resumeFrom', () => {
  const at = { file: 'bin.000003', position: 900 };

  it('MariaDB with a GTID position: by GTID', () => {
    expect(resumeFrom('mariadb', { ...at, gtid: '0-1-5' }, true)).toEqual({
      start: { kind: 'gtid', gtid: '0-1-5' },
      gtid: '0-1-5',
      file: 'bin.000003',
      position: 900,
      why: 'GTID state',
    });
    expect(resumeFrom('mariadb', { ...at, gtid: '0-1-5' }, false)).toEqual({
      start: { kind: 'gtid', gtid: '0-1-5' },
      gtid: '0-1-5',
      file: '',
      position: 0,
      why: 'GTID state (the server identity changed)',
    });
  });

  it('MySQL with a (complete) GTID set: by GTID (COM_BINLOG_DUMP_GTID), on this server or another', () => {
    const gtid = `${UUID}:1-77:tag_a:1-3`;
    expect(resumeFrom('mysql', { ...at, gtid }, true)).toEqual({
      start: { kind: 'gtid', gtid },
      gtid,
      file: 'bin.000003',
      position: 900,
      why: 'GTID set',
    });
    expect(resumeFrom('mysql', { ...at, gtid }, false)).toEqual({
      start: { kind: 'gtid', gtid },
      gtid,
      file: '',
      position: 0,
      why: 'GTID set (the server identity changed)',
    });
  });

  it('no GTID (null, or empty: on MySQL that would ask for the whole history): file/position on the same server', () => {
    for (const flavor of ['mysql', 'mariadb'] as const) {
      for (const gtid of [null, '']) {
        expect(resumeFrom(flavor, { ...at, gtid }, true)).toEqual({
          start: { kind: 'file', file: 'bin.000003', position: 900 },
          gtid,
          file: 'bin.000003',
          position: 900,
          why: 'file/position',
        });
      }
    }
  });

  it('no GTID on another server (or no file): a gap', () => {
    for (const flavor of ['mysql', 'mariadb'] as const) {
      expect(() => resumeFrom(flavor, { ...at, gtid: null }, false)).toThrow(
        expect.objectContaining({ code: 'GAP_IDENTITY_CHANGED', retryable: false }),
      );
      expect(() => resumeFrom(flavor, { file: '', position: 0, gtid: '' }, true)).toThrow(
        expect.objectContaining({ code: 'GAP_IDENTITY_CHANGED' }),
      );
    }
  });
});

describe('resolveInitialStart', () => {
  const mysql = { flavor: 'mysql' as const, serverId: 2, serverUuid: UUID, address: 'r:3306' };

  it('a MySQL checkpoint with a GTID set resumes by GTID, on a rebuilt replica too', async () => {
    const { conn, ran } = fakeConn('mysql', '9.7.0', { gtid: `${UUID}:1-12`, status: null });
    const checkpoint = {
      version: 1 as const,
      server: { ...mysql, serverUuid: '00000000-0000-0000-0000-000000000009' },
      gtid: `${UUID}:1-10`,
      file: 'bin.000001',
      position: 500,
      writtenAt: 0,
    };
    const r = await resolveInitialStart(conn, mysql, checkpoint, { kind: 'current' });
    expect(r.start).toEqual({ kind: 'gtid', gtid: `${UUID}:1-10` });
    expect(r.why).toBe('checkpoint (GTID set (the server identity changed))');
    // Only the history check: the replica's GTIDs join on to the checkpoint's.
    expect(ran).toEqual(['SELECT @@global.gtid_executed AS g']);
  });

  it('a configured MySQL GTID set is used as given', async () => {
    const { conn } = fakeConn('mysql', '9.7.0', { gtid: '', status: null });
    const r = await resolveInitialStart(conn, mysql, null, { kind: 'gtid', gtid: `${UUID}:1-3` });
    expect(r).toEqual({
      start: { kind: 'gtid', gtid: `${UUID}:1-3` },
      gtid: `${UUID}:1-3`,
      file: '',
      position: 0,
      why: 'configured GTID',
    });
  });
});
