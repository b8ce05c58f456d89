// The server line's own binlog decoder (`mariadb-binlog` / `mysqlbinlog`, lines.ts `binlogTool`), for
// differential tests and benchmarks: the host's binary for a host line, `chroot <root> <tool>` for a
// line with a root. A chrooted tool sees only files inside its root: `visibleInRoot` puts a file there
// (a hard link when the file system allows it, else a copy).
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Runner } from './db.js';
import { lineSpec, type ServerLine } from './lines.js';

export interface BinlogTool {
  /** `mariadb-binlog` or `mysqlbinlog`. */
  readonly name: string;
  readonly root: string | null;
  /**
   * The command line that runs the tool with `args` then `file` (a host path, which must lie inside
   * the root when there is one: a server's datadir does, other files go through `visibleInRoot`).
   */
  command(args: readonly string[], file?: string): { cmd: string; args: string[] };
}

export function binlogTool(line: ServerLine, root: string | null): BinlogTool {
  const runner = new Runner(root);
  const name = lineSpec(line).binlogTool;
  return {
    name,
    root,
    command: (args, file) =>
      runner.command(
        name,
        file === undefined ? args : [...args, runner.path(file)],
        `the ${line} client (${name})`,
      ),
  };
}

/**
 * A host path of `file` that a tool chrooted into `root` can open, and how to remove it again. Without
 * a root the file itself (nothing to remove).
 */
export function visibleInRoot(file: string, root: string | null): { path: string; remove: () => void } {
  if (root === null) return { path: file, remove: () => undefined };
  const parent = join(root, 'tmp');
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'cachetail-binlog-'));
  const path = join(dir, basename(file));
  try {
    linkSync(file, path);
  } catch {
    copyFileSync(file, path);
  }
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
