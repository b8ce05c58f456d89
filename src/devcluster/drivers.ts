// The driver of each server line (db.ts): MariaDB's for both MariaDB lines, MySQL's for MySQL.
import type { DbDriver } from './db.js';
import { Runner } from './db.js';
import { lineSpec, type ServerLine } from './lines.js';
import { mariadbDriver } from './mariadb.js';
import { mysqlDriver } from './mysql.js';
import { ensureRoot } from './roots.js';

/** The driver of `line`, building its root first when the line has one that is not built yet. */
export async function dbDriver(
  line: ServerLine,
  log: (msg: string) => void = () => undefined,
): Promise<DbDriver> {
  return driverIn(line, await ensureRoot(line, log));
}

/** The driver of a line whose root (if any) is known to be built, e.g. from a running cluster's info. */
export function driverIn(line: ServerLine, root: string | null): DbDriver {
  const runner = new Runner(root);
  return lineSpec(line).flavor === 'mysql' ? mysqlDriver(line, runner) : mariadbDriver(line, runner);
}
