import { describe, expect, it } from 'vitest';
import { lineSpec, parseServerLine, requestedLines, SERVER_LINES } from '../../../src/devcluster/lines.js';
import { debianMirror, rootPath, rootsDir } from '../../../src/devcluster/roots.js';
import { describeMatrix, EVERY_LINE, LINE_INDEPENDENT, serverMatrix } from '../../matrix.js';

describe('server lines', () => {
  it('knows the three lines, their flavor and where their binaries come from', () => {
    expect(SERVER_LINES).toEqual(['mariadb-10.11', 'mariadb-11.8', 'mysql-9.7']);
    expect(
      SERVER_LINES.map((l) => [l, lineSpec(l).flavor, lineSpec(l).suite, lineSpec(l).binlogTool]),
    ).toEqual([
      ['mariadb-10.11', 'mariadb', null, 'mariadb-binlog'],
      ['mariadb-11.8', 'mariadb', 'trixie', 'mariadb-binlog'],
      ['mysql-9.7', 'mysql', 'sid', 'mysqlbinlog'],
    ]);
  });

  it('refuses an unknown line, naming the known ones', () => {
    expect(parseServerLine(' mysql-9.7 ')).toBe('mysql-9.7');
    expect(() => parseServerLine('mysql-8.0')).toThrow(
      "unknown server line 'mysql-8.0': expected one of mariadb-10.11, mariadb-11.8, mysql-9.7",
    );
  });

  it('reads CACHETAIL_SERVER_LINES: unset → null (every line the machine can run), all, or a list', () => {
    expect(requestedLines({})).toBeNull();
    expect(requestedLines({ CACHETAIL_SERVER_LINES: ' ' })).toBeNull();
    expect(requestedLines({ CACHETAIL_SERVER_LINES: 'all' })).toEqual([...SERVER_LINES]);
    expect(requestedLines({ CACHETAIL_SERVER_LINES: 'mysql-9.7, mariadb-11.8,mysql-9.7' })).toEqual([
      'mysql-9.7',
      'mariadb-11.8',
    ]);
    expect(() => requestedLines({ CACHETAIL_SERVER_LINES: 'mysql-9.7,postgres' })).toThrow(
      /unknown server line/,
    );
  });

  it('keeps roots outside any checkout unless CACHETAIL_SERVER_ROOTS moves them', () => {
    expect(rootsDir({})).toBe('/var/cache/cachetail/server-roots');
    expect(rootsDir({ CACHETAIL_SERVER_ROOTS: '/srv/roots' })).toBe('/srv/roots');
    expect(rootPath('mariadb-10.11')).toBeNull();
    expect(rootPath('mysql-9.7')).toBe(`${rootsDir()}/mysql-9.7`);
  });

  it("takes the Debian mirror from apt's own configuration", () => {
    // This machine's apt is configured (the project installs its packages with it).
    expect(debianMirror()).toMatch(/^https?:\/\/\S+$/);
  });
});

describe('test matrix', () => {
  it('runs only the asked lines; line-independent files once; unported files on mariadb-10.11 only', () => {
    const m = serverMatrix({ CACHETAIL_SERVER_LINES: 'mariadb-10.11' });
    expect(m.lines).toEqual(['mariadb-10.11']);
    const files = m.files.get('mariadb-10.11') ?? [];
    for (const f of [...LINE_INDEPENDENT, ...EVERY_LINE]) expect(files).toContain(f);
    expect(m.notYet.size).toBe(0);
  });

  it('gives a line other than the default the EVERY_LINE files, and names the rest', () => {
    const m = serverMatrix({ CACHETAIL_SERVER_LINES: 'mariadb-10.11,mariadb-11.8' });
    expect(m.files.get('mariadb-11.8')).toEqual([...EVERY_LINE].sort());
    const notYet = m.notYet.get('mariadb-11.8') ?? [];
    for (const f of notYet) expect(EVERY_LINE).not.toContain(f);
    for (const f of LINE_INDEPENDENT) expect(notYet).not.toContain(f);
    expect(describeMatrix(m)).toContain('server lines (CACHETAIL_SERVER_LINES): mariadb-10.11, mariadb-11.8');
  });

  it('without the default line, the first asked line also runs the line-independent files', () => {
    const m = serverMatrix({ CACHETAIL_SERVER_LINES: 'mariadb-11.8' });
    expect(m.files.get('mariadb-11.8')).toEqual(expect.arrayContaining([...LINE_INDEPENDENT, ...EVERY_LINE]));
  });
});
