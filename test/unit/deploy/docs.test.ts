/**
 * The docs agree with each other and with the code (issue #17 item 6): the tailer account's grants
 * wherever they are written down, and README's list of the Debian packages `npm test` needs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TAILER_GRANTS } from '../../../src/devcluster/mariadb.js';
import { MYSQL_TAILER_GRANTS } from '../../../src/devcluster/mysql.js';
import {
  binlogMonitorPrivilege,
  relayLogPrivilege,
  replicaMonitorPrivilege,
  type ServerKind,
} from '../../../src/replication/preflight-sql.js';
import { deployFiles } from './helpers.js';

/** What the preflight checks the tailer's account for: the binlog dump, then each statement it runs. */
function checkedPrivileges(server: ServerKind): string {
  const all = [
    'REPLICATION SLAVE',
    binlogMonitorPrivilege(server),
    replicaMonitorPrivilege(server),
    relayLogPrivilege(server),
  ];
  return [...new Set(all)].join(', ');
}

const PRIVILEGE = '(?:REPLICATION SLAVE|REPLICATION CLIENT|BINLOG MONITOR|SLAVE MONITOR|REPLICA MONITOR)';
/** Two or more privileges in a comma-separated list, possibly wrapped across lines. */
const GRANT_LIST = new RegExp(`${PRIVILEGE}(?:,\\s+${PRIVILEGE})+`, 'g');

function grantLists(text: string): string[] {
  return [...text.matchAll(GRANT_LIST)].map((m) => m[0].replace(/\s+/g, ' '));
}

const DOCUMENTS = [
  'README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  ...deployFiles(),
];

/** The README table row (or config reference row) that starts with this cell. */
function row(file: string, firstCell: string): string {
  const found = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(`| ${firstCell} |`));
  expect(found, `${file}: one row for ${firstCell}`).toHaveLength(1);
  return found[0];
}

describe("the tailer account's grants", () => {
  it('are what the preflight checks, on each flavor (and the test clusters grant exactly that)', () => {
    expect(checkedPrivileges({ flavor: 'mariadb', serverVersion: '10.11.14-MariaDB' })).toBe(TAILER_GRANTS);
    expect(TAILER_GRANTS).toBe('REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR');
    expect(checkedPrivileges({ flavor: 'mysql', serverVersion: '9.7.4' })).toBe(MYSQL_TAILER_GRANTS);
    expect(checkedPrivileges({ flavor: 'mariadb', serverVersion: '10.5.8-MariaDB' })).toBe(
      MYSQL_TAILER_GRANTS,
    );
    expect(MYSQL_TAILER_GRANTS).toBe('REPLICATION SLAVE, REPLICATION CLIENT');
  });

  it('are given as GRANT statements in docs/production.md, the reference', () => {
    const text = readFileSync('docs/production.md', 'utf8');
    expect(text).toContain(`GRANT ${TAILER_GRANTS} ON *.* TO 'cachetail'@'127.0.0.1';`);
    expect(text).toContain(`GRANT ${MYSQL_TAILER_GRANTS} ON *.* TO 'cachetail'@'127.0.0.1';`);
  });

  it('are the same set wherever README, docs/ and deploy/ list them', () => {
    const found = DOCUMENTS.flatMap((file) =>
      grantLists(readFileSync(file, 'utf8')).map((list) => ({ file, list })),
    );
    expect(found.length).toBeGreaterThanOrEqual(8);
    expect(found.filter(({ list }) => list !== TAILER_GRANTS && list !== MYSQL_TAILER_GRANTS)).toEqual([]);
  });

  it('are named for both flavors where the source.user field is described', () => {
    for (const line of [
      row('README.md', '`source.user`'),
      row('docs/config-reference.md', '`source.user`'),
    ]) {
      expect(grantLists(line)).toEqual([TAILER_GRANTS, MYSQL_TAILER_GRANTS]);
    }
  });

  it("are in README's server table for each line's flavor", () => {
    expect(grantLists(row('README.md', 'MariaDB 10.11'))).toEqual([TAILER_GRANTS]);
    expect(grantLists(row('README.md', 'MySQL 9.7'))).toEqual([MYSQL_TAILER_GRANTS]);
  });
});

describe('the packages `npm test` needs', () => {
  /** .ci/run's `[command or file]=package` entries. */
  function ciPackages(): string[] {
    const text = readFileSync('.ci/run', 'utf8');
    const packages = [...text.matchAll(/^\s*\[[^\]]+\]=([a-z0-9][a-z0-9.+-]*)\s*$/gm)].map((m) => m[1]);
    return [...new Set(packages)].sort();
  }

  /** The Debian package names README's "The two commands" section writes in backticks (prose only). */
  function readmePackages(): string[] {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## The two commands'), readme.indexOf('\n## Demo'));
    const prose = section.replace(/```[\s\S]*?```/g, '');
    return [...new Set([...prose.matchAll(/`([a-z0-9][a-z0-9.+-]+)`/g)].map((m) => m[1]))].sort();
  }

  it('are listed in README exactly as .ci/run installs them', () => {
    expect(ciPackages()).toEqual([
      'chromium',
      'debootstrap',
      'default-jre-headless',
      'gcc',
      'libmemcached-dev',
      'mariadb-client',
      'mariadb-server',
      'maven',
      'memcached',
      'pkg-config',
    ]);
    expect(readmePackages()).toEqual(ciPackages());
  });
});
