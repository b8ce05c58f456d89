// The account's privileges: REPLICATION SLAVE from SHOW GRANTS (required), the monitoring privileges from
// what the server allowed (optional). Grant texts are MariaDB 10.11's and MySQL 8's own output.
import { describe, expect, it } from 'vitest';
import { runPreflight } from '../../../src/replication/preflight.js';
import { parseGrants } from '../../../src/replication/preflight-privileges.js';
import { denied, fakeConnection, mariadbReplica, mysqlReplica, ServerError } from './preflight-fake.js';
import type { FakeServer } from './preflight-fake.js';

async function privileges(server: FakeServer) {
  const report = await runPreflight(fakeConnection(server), {
    ourServerId: 4_000_001,
    server: '127.0.0.1:3307',
  });
  return report.checks.find((c) => c.id === 'privileges');
}

const grant = (privs: string, user = '`cachetail`@`127.0.0.1`') =>
  `GRANT ${privs} ON *.* TO ${user} IDENTIFIED BY PASSWORD '*3046'`;

describe('parseGrants', () => {
  it('collects global privileges only, and notices role grants', () => {
    expect(
      parseGrants([
        'GRANT `tailrole` TO `ro`@`127.0.0.1`',
        "GRANT USAGE ON *.* TO `ro`@`127.0.0.1` IDENTIFIED BY PASSWORD '*B6'",
        'GRANT SELECT, INSERT ON `app`.* TO `ro`@`127.0.0.1`',
        'GRANT REPLICATION SLAVE,  SLAVE MONITOR ON *.* TO `tailrole`',
        'SET DEFAULT ROLE `tailrole` FOR `ro`@`127.0.0.1`',
      ]),
    ).toEqual({ global: new Set(['USAGE', 'REPLICATION SLAVE', 'SLAVE MONITOR']), roles: true });
  });
});

describe('privileges on MariaDB', () => {
  it('fails without REPLICATION SLAVE', async () => {
    expect(await privileges(mariadbReplica({ grants: [grant('BINLOG MONITOR, SLAVE MONITOR')] }))).toEqual({
      id: 'privileges',
      status: 'fail',
      message:
        "'cachetail'@'127.0.0.1' lacks REPLICATION SLAVE on 127.0.0.1:3307: the server refuses the binlog dump, so cachetail cannot read any event.",
      fix: "GRANT REPLICATION SLAVE ON *.* TO 'cachetail'@'127.0.0.1' (on the primary, so that the grant replicates).",
    });
  });

  it('names every missing privilege and what it costs, with one GRANT for all', async () => {
    const server = mariadbReplica({
      user: 'nobody@%',
      grants: [grant('USAGE', '`nobody`@`%`')],
      binlogStatus: denied('SUPER, BINLOG MONITOR'),
      replicaStatus: denied('SUPER, SLAVE MONITOR'),
    });
    expect(await privileges(server)).toEqual({
      id: 'privileges',
      status: 'fail',
      message:
        "'nobody'@'%' lacks REPLICATION SLAVE on 127.0.0.1:3307: the server refuses the binlog dump, so cachetail cannot read any event. It also lacks BINLOG MONITOR (SHOW MASTER STATUS is refused, so cachetail cannot read 127.0.0.1:3307's current binlog position, which it needs to start without a checkpoint and to continue after a gap) and SLAVE MONITOR (SHOW ALL SLAVES STATUS is refused, so the preflight cannot see 127.0.0.1:3307's replication).",
      fix: "GRANT REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR ON *.* TO 'nobody'@'%' (on the primary, so that the grant replicates).",
    });
  });

  it('fails without BINLOG MONITOR: the tailer could not find where the binlog ends', async () => {
    const server = mariadbReplica({
      grants: [grant('REPLICATION SLAVE, SLAVE MONITOR')],
      binlogStatus: denied('SUPER, BINLOG MONITOR'),
    });
    expect(await privileges(server)).toEqual({
      id: 'privileges',
      status: 'fail',
      message:
        "'cachetail'@'127.0.0.1' lacks BINLOG MONITOR (SHOW MASTER STATUS is refused, so cachetail cannot read 127.0.0.1:3307's current binlog position, which it needs to start without a checkpoint and to continue after a gap) on 127.0.0.1:3307.",
      fix: "GRANT BINLOG MONITOR ON *.* TO 'cachetail'@'127.0.0.1' (on the primary, so that the grant replicates).",
    });
  });

  it('warns when SUPER stands in for SLAVE MONITOR but SHOW RELAYLOG EVENTS still needs it', async () => {
    const server = mariadbReplica({
      grants: [grant('REPLICATION SLAVE, SUPER')],
      relay: { 'relay-bin.000002': denied('SLAVE MONITOR') },
    });
    expect(await privileges(server)).toEqual({
      id: 'privileges',
      status: 'warn',
      message:
        "'cachetail'@'127.0.0.1' lacks SLAVE MONITOR (SHOW RELAYLOG EVENTS is refused, so the preflight cannot check the primary's binlog format) on 127.0.0.1:3307.",
      fix: "GRANT SLAVE MONITOR ON *.* TO 'cachetail'@'127.0.0.1' (on the primary, so that the grant replicates).",
    });
  });

  it('accepts ALL PRIVILEGES and privileges held through an enabled role', async () => {
    expect((await privileges(mariadbReplica({ grants: [grant('ALL PRIVILEGES')] })))?.status).toBe('ok');
    const viaRole = mariadbReplica({
      user: 'ro@127.0.0.1',
      grants: [
        'GRANT `tailrole` TO `ro`@`127.0.0.1`',
        grant('USAGE', '`ro`@`127.0.0.1`'),
        'GRANT REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR ON *.* TO `tailrole`',
        'SET DEFAULT ROLE `tailrole` FOR `ro`@`127.0.0.1`',
      ],
    });
    expect(await privileges(viaRole)).toEqual({
      id: 'privileges',
      status: 'ok',
      message:
        "'ro'@'127.0.0.1' has REPLICATION SLAVE (for the binlog dump) and may run SHOW MASTER STATUS, SHOW ALL SLAVES STATUS and SHOW RELAYLOG EVENTS on 127.0.0.1:3307.",
    });
  });

  it('warns when SHOW GRANTS itself fails', async () => {
    expect(await privileges(mariadbReplica({ grants: new ServerError(1105, 'Unknown error') }))).toEqual({
      id: 'privileges',
      status: 'warn',
      message:
        "SHOW GRANTS failed on 127.0.0.1:3307, so whether 'cachetail'@'127.0.0.1' has REPLICATION SLAVE (needed for the binlog dump) is unknown.",
    });
  });

  it('names REPLICATION CLIENT on MariaDB before 10.5.9', async () => {
    const server = mariadbReplica({
      serverVersion: '10.4.32-MariaDB-log',
      binlogStatus: denied('SUPER, REPLICATION CLIENT'),
    });
    expect((await privileges(server))?.fix).toBe(
      "GRANT REPLICATION CLIENT ON *.* TO 'cachetail'@'127.0.0.1' (on the primary, so that the grant replicates).",
    );
  });
});

describe('privileges on MySQL', () => {
  it('only warns when REPLICATION SLAVE may come from a role (SHOW GRANTS does not expand roles)', async () => {
    const server = mysqlReplica({
      grants: ['GRANT USAGE ON *.* TO `cachetail`@`%`', 'GRANT `replication_reader`@`%` TO `cachetail`@`%`'],
    });
    expect(await privileges(server)).toEqual({
      id: 'privileges',
      status: 'warn',
      message:
        "'cachetail'@'%' has no direct REPLICATION SLAVE grant on 127.0.0.1:3307; it may come from a role, which SHOW GRANTS does not expand. Without it the server refuses the binlog dump.",
      fix: "make sure a default role of 'cachetail'@'%' has REPLICATION SLAVE, or GRANT REPLICATION SLAVE ON *.* TO 'cachetail'@'%' (on the primary, so that the grant replicates).",
    });
  });

  it('fails without REPLICATION SLAVE, naming it once though SHOW RELAYLOG EVENTS needs it too', async () => {
    const server = mysqlReplica({
      grants: ['GRANT REPLICATION CLIENT ON *.* TO `cachetail`@`%`'],
      relay: { 'db2-relay-bin.000003': denied('REPLICATION SLAVE') },
    });
    expect(await privileges(server)).toEqual({
      id: 'privileges',
      status: 'fail',
      message:
        "'cachetail'@'%' lacks REPLICATION SLAVE on 127.0.0.1:3307: the server refuses the binlog dump, so cachetail cannot read any event; SHOW RELAYLOG EVENTS is refused, so the preflight cannot check the primary's binlog format.",
      fix: "GRANT REPLICATION SLAVE ON *.* TO 'cachetail'@'%' (on the primary, so that the grant replicates).",
    });
  });

  it('fails without REPLICATION CLIENT, grouping what it costs', async () => {
    const server = mysqlReplica({
      grants: ['GRANT REPLICATION SLAVE ON *.* TO `cachetail`@`%`'],
      binlogStatus: denied('SUPER, REPLICATION CLIENT'),
      replicaStatus: denied('SUPER, REPLICATION CLIENT'),
    });
    expect(await privileges(server)).toEqual({
      id: 'privileges',
      status: 'fail',
      message:
        "'cachetail'@'%' lacks REPLICATION CLIENT (SHOW MASTER STATUS is refused, so cachetail cannot read 127.0.0.1:3307's current binlog position, which it needs to start without a checkpoint and to continue after a gap; SHOW REPLICA STATUS is refused, so the preflight cannot see 127.0.0.1:3307's replication) on 127.0.0.1:3307.",
      fix: "GRANT REPLICATION CLIENT ON *.* TO 'cachetail'@'%' (on the primary, so that the grant replicates).",
    });
  });
});
