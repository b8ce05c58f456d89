// The server matrix of the test suite: which database server lines a run uses and which integration
// files run on each. Read by vitest.config.ts (one vitest project per line) and printed at the start of
// a run, so that what ran where is never a guess.
//
//  - CACHETAIL_SERVER_LINES=mysql-9.7,mariadb-11.8 (or `all`) picks lines; unset, every line this machine
//    can run or build (src/devcluster/roots.ts). With CI=true every line is required: one that cannot be
//    built fails the run instead of being left out.
//  - Unit tests (test/unit) need no server and run once, in the `unit` project.
import { readdirSync } from 'node:fs';
import {
  DEFAULT_LINE,
  lineSpec,
  LINES_ENV,
  requestedLines,
  rootState,
  SERVER_LINES,
  type ServerLine,
} from '../src/devcluster/index.js';

/**
 * Integration files that need no database server (memcached, the edge, the demo's own stack, the packed
 * npm package): run once.
 */
export const LINE_INDEPENDENT: readonly string[] = [
  'demo-signals.test.ts',
  'demo.test.ts',
  'edge-proxy.test.ts',
  'edge-shapes.test.ts',
  'memcached-hang.test.ts',
  'memcached-holdoff.test.ts',
  'memcached-ketama-libmemcached.test.ts',
  'memcached-outage.test.ts',
  'memcached-routing.test.ts',
  'package.test.ts',
];

/**
 * Integration files that prove the chain on a server and run on every line. A file that is in neither
 * list runs on mariadb-10.11 only, and the run's first lines name it for each other line.
 */
export const EVERY_LINE: readonly string[] = [
  'app-adversarial.test.ts',
  'app-key-safety.test.ts',
  'app-outbox.test.ts',
  'app-read-through.test.ts',
  'app-writer.test.ts',
  'binlog-differential.test.ts',
  'chaos.test.ts',
  'devcluster.test.ts',
  'edge-e2e.test.ts',
  'jason-monkey.test.ts',
  'kafka-consume.test.ts',
  'kafka-outage.test.ts',
  'kafka-publish.test.ts',
  'kafka-tail-cli.test.ts',
  'memcached-tailer.test.ts',
  'preflight.test.ts',
  'replay.test.ts',
  'replica-reset-moved.test.ts',
  'switchover.test.ts',
  'tail-bad-input.test.ts',
  'tailer-crash.test.ts',
  'tailer-failures.test.ts',
  'tailer-outbox.test.ts',
  'tailer-sampler.test.ts',
];

/**
 * Integration files about features only MySQL has (tagged GTIDs, compressed transaction payloads, the
 * replica_preserve_commit_order applier, COM_BINLOG_DUMP_GTID): they run on the MySQL lines and on no
 * MariaDB line, and the run's first lines say where they run.
 */
export const MYSQL_ONLY: readonly string[] = ['mysql-features.test.ts'];

export interface Matrix {
  lines: ServerLine[];
  /** Lines left out, and why (never in CI). */
  leftOut: { line: ServerLine; why: string }[];
  /** Per line, the integration files it runs (relative to test/integration). */
  files: Map<ServerLine, string[]>;
  /** Per line, the server-bound files that do not run on it yet. */
  notYet: Map<ServerLine, string[]>;
  /** The MYSQL_ONLY files and the lines of this run they run on (none when no MySQL line runs). */
  mysqlOnly: { files: string[]; lines: ServerLine[] };
}

export function serverMatrix(env: NodeJS.ProcessEnv = process.env): Matrix {
  const asked = requestedLines(env);
  const leftOut: Matrix['leftOut'] = [];
  const lines: ServerLine[] = [];
  for (const line of asked ?? SERVER_LINES) {
    const state = rootState(line);
    if (state.kind === 'unavailable') {
      if (asked !== null || env.CI === 'true') {
        throw new Error(`server line ${line} cannot run on this machine: ${state.why}`);
      }
      leftOut.push({ line, why: state.why });
      continue;
    }
    lines.push(line);
  }
  const all = readdirSync(new URL('./integration', import.meta.url))
    .filter((f) => f.endsWith('.test.ts'))
    .sort();
  const serverBound = all.filter((f) => !LINE_INDEPENDENT.includes(f));
  // Line-independent files and the not-yet-ported ones go with the default line, or the first one asked.
  const home = lines.includes(DEFAULT_LINE) ? DEFAULT_LINE : lines[0];
  const files = new Map<ServerLine, string[]>();
  const notYet = new Map<ServerLine, string[]>();
  const mysqlLines = lines.filter((l) => lineSpec(l).flavor === 'mysql');
  for (const line of lines) {
    const own = (f: string) => onEvery(f) || (mysqlLines.includes(line) && MYSQL_ONLY.includes(f));
    if (line === home) {
      const everything = all.filter((f) => !MYSQL_ONLY.includes(f));
      files.set(line, line === DEFAULT_LINE ? everything : [...LINE_INDEPENDENT, ...serverBound.filter(own)]);
    } else {
      files.set(line, serverBound.filter(own));
    }
    if (line !== DEFAULT_LINE)
      notYet.set(
        line,
        serverBound.filter((f) => !onEvery(f) && !MYSQL_ONLY.includes(f)),
      );
  }
  const mysqlOnly = { files: all.filter((f) => MYSQL_ONLY.includes(f)), lines: mysqlLines };
  return { lines, leftOut, files, notYet, mysqlOnly };
}

function onEvery(file: string): boolean {
  return EVERY_LINE.includes(file);
}

/** The lines the run uses and what does not run where, for the top of the output. */
export function describeMatrix(m: Matrix): string {
  const out = [`server lines (${LINES_ENV}): ${m.lines.join(', ') || 'none'}`];
  for (const { line, why } of m.leftOut) out.push(`  ${line}: left out — ${why}`);
  if (m.mysqlOnly.files.length > 0) {
    const where = m.mysqlOnly.lines.join(', ') || 'not run: no MySQL line in this run';
    out.push(`  MySQL only (${where}): ${m.mysqlOnly.files.join(', ')}`);
  }
  for (const [line, files] of m.notYet) {
    if (files.length > 0)
      out.push(`  ${line}: not yet on this line (mariadb-10.11 only): ${files.join(', ')}`);
  }
  return out.join('\n');
}
