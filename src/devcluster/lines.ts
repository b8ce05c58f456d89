// The server lines the devcluster can run (DESIGN.md §6, §7): which database each is, where its binaries
// come from, and which lines a test run asks for.
//
//  - mariadb-10.11: the host's own Debian (bookworm) mariadb-server.
//  - mariadb-11.8:  Debian trixie's MariaDB, inside a debootstrap root under the server-roots cache.
//  - mysql-9.7:     Oracle MySQL from Debian sid, likewise (the two server packages conflict: one root each).
import { DevclusterError } from './proc.js';

export const SERVER_LINES = ['mariadb-10.11', 'mariadb-11.8', 'mysql-9.7'] as const;
export type ServerLine = (typeof SERVER_LINES)[number];
export type ServerFlavor = 'mariadb' | 'mysql';

export const DEFAULT_LINE: ServerLine = 'mariadb-10.11';

/** Environment variable that picks the lines a test run uses: a comma list, or `all`. */
export const LINES_ENV = 'CACHETAIL_SERVER_LINES';

export interface LineSpec {
  line: ServerLine;
  flavor: ServerFlavor;
  /** Debian suite of the root the binaries run in; null = the host's own packages. */
  suite: 'trixie' | 'sid' | null;
  /** Installed into the root with --no-install-recommends (the server, its client and binlog tool). */
  packages: readonly string[];
  /** The server binary (inside the root when there is one). */
  server: string;
  /** Its own binlog decoder, for differential tests (`mariadb-binlog` / `mysqlbinlog`). */
  binlogTool: string;
  /** The version prefix the server reports, checked at start (a root with another version is stale). */
  versionPrefix: string;
}

const SPECS: Record<ServerLine, LineSpec> = {
  'mariadb-10.11': {
    line: 'mariadb-10.11',
    flavor: 'mariadb',
    suite: null,
    packages: ['mariadb-server', 'mariadb-client'],
    server: 'mariadbd',
    binlogTool: 'mariadb-binlog',
    versionPrefix: '10.11.',
  },
  'mariadb-11.8': {
    line: 'mariadb-11.8',
    flavor: 'mariadb',
    suite: 'trixie',
    packages: ['mariadb-server-core', 'mariadb-client'],
    server: 'mariadbd',
    binlogTool: 'mariadb-binlog',
    versionPrefix: '11.8.',
  },
  'mysql-9.7': {
    line: 'mysql-9.7',
    flavor: 'mysql',
    suite: 'sid',
    packages: ['mysql-server-core', 'mysql-client-core'],
    server: 'mysqld',
    binlogTool: 'mysqlbinlog',
    versionPrefix: '9.7.',
  },
};

export function lineSpec(line: ServerLine): LineSpec {
  return SPECS[line];
}

export function isServerLine(text: string): text is ServerLine {
  return (SERVER_LINES as readonly string[]).includes(text);
}

/** A line name as a user typed it; an unknown one is an error that lists the known ones. */
export function parseServerLine(text: string): ServerLine {
  const t = text.trim();
  if (isServerLine(t)) return t;
  throw new DevclusterError(
    'UNKNOWN_LINE',
    `unknown server line '${text}': expected one of ${SERVER_LINES.join(', ')}`,
  );
}

/**
 * The lines named by `CACHETAIL_SERVER_LINES` (comma list or `all`), or null when it is unset or empty
 * (the caller then takes every line the machine can run).
 */
export function requestedLines(env: NodeJS.ProcessEnv = process.env): ServerLine[] | null {
  const raw = env[LINES_ENV]?.trim();
  if (!raw) return null;
  if (raw === 'all') return [...SERVER_LINES];
  const lines = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parseServerLine);
  return [...new Set(lines)];
}
