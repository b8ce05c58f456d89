/** MYSQL_ONLY files in the test matrix: on every MySQL line of the run, on no MariaDB line, and said so. */
import { describe, expect, it } from 'vitest';
import { describeMatrix, MYSQL_ONLY, serverMatrix } from '../../matrix.js';

describe('test matrix: MySQL-only files', () => {
  it('lists mysql-features.test.ts', () => {
    expect(MYSQL_ONLY).toContain('mysql-features.test.ts');
  });

  it('runs them on the MySQL line only, and prints where', () => {
    const m = serverMatrix({ CACHETAIL_SERVER_LINES: 'mariadb-10.11,mariadb-11.8,mysql-9.7' });
    for (const f of MYSQL_ONLY) {
      expect(m.files.get('mysql-9.7')).toContain(f);
      expect(m.files.get('mariadb-10.11')).not.toContain(f);
      expect(m.files.get('mariadb-11.8')).not.toContain(f);
      // Not "not yet on this line": it never will be.
      expect(m.notYet.get('mariadb-11.8')).not.toContain(f);
      expect(m.notYet.get('mysql-9.7')).not.toContain(f);
    }
    expect(m.mysqlOnly).toEqual({ files: [...MYSQL_ONLY].sort(), lines: ['mysql-9.7'] });
    expect(describeMatrix(m)).toContain(`  MySQL only (mysql-9.7): ${[...MYSQL_ONLY].sort().join(', ')}`);
  });

  it('says they do not run when no MySQL line is in the run', () => {
    const m = serverMatrix({ CACHETAIL_SERVER_LINES: 'mariadb-10.11' });
    for (const f of MYSQL_ONLY) expect(m.files.get('mariadb-10.11')).not.toContain(f);
    expect(describeMatrix(m)).toContain(
      `  MySQL only (not run: no MySQL line in this run): ${[...MYSQL_ONLY].sort().join(', ')}`,
    );
  });

  it('a MySQL line run alone also gets the line-independent files and its MySQL-only ones', () => {
    const m = serverMatrix({ CACHETAIL_SERVER_LINES: 'mysql-9.7' });
    const files = m.files.get('mysql-9.7') ?? [];
    for (const f of MYSQL_ONLY) expect(files).toContain(f);
    expect(files).toContain('devcluster.test.ts');
    expect(files).toContain('edge-shapes.test.ts');
  });
});
