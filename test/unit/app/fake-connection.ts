/** A recording stand-in for a mysql2 promise connection / pool: the SQL sent, in order, and injected failures. */
import type { Connection, PoolConnection } from 'mysql2/promise';

export interface FakeConnection {
  /** Every statement, in order; `execute` ones prefixed with "EXECUTE ". */
  sql: string[];
  /** Values passed with each statement (undefined when none). */
  values: unknown[];
  /** Throws this error for the first statement matching the pattern. */
  failOn(pattern: RegExp, err: unknown): void;
  /** Answers every statement matching the pattern with this result (default `{ affectedRows: 1 }`). */
  answer(pattern: RegExp, result: unknown): void;
  released: number;
  destroyed: number;
  conn: Connection;
  pool: { getConnection(): Promise<PoolConnection> };
}

export function fakeConnection(): FakeConnection {
  const failures: [RegExp, unknown][] = [];
  const answers: [RegExp, unknown][] = [];
  const fake: FakeConnection = {
    sql: [],
    values: [],
    failOn: (pattern, err) => failures.push([pattern, err]),
    answer: (pattern, result) => answers.push([pattern, result]),
    released: 0,
    destroyed: 0,
    conn: undefined as unknown as Connection,
    pool: undefined as unknown as { getConnection(): Promise<PoolConnection> },
  };
  const run = (prefix: string, sql: unknown, values: unknown): Promise<unknown> => {
    const text = typeof sql === 'string' ? sql : String((sql as { sql: string }).sql);
    fake.sql.push(prefix + text);
    fake.values.push(values);
    const i = failures.findIndex(([p]) => p.test(text));
    if (i >= 0) {
      const [[, err]] = failures.splice(i, 1);
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const answer = answers.find(([p]) => p.test(text));
    return Promise.resolve([answer ? answer[1] : { affectedRows: 1 }, []]);
  };
  // A pool hands out a new wrapper around the same session each time (as mysql2's pool does).
  const session = {};
  const conn = {
    connection: session,
    query: (sql: unknown, values?: unknown) => run('', sql, values),
    execute: (sql: unknown, values?: unknown) => run('EXECUTE ', sql, values),
    release: () => void fake.released++,
    destroy: () => void fake.destroyed++,
  };
  fake.conn = conn as unknown as Connection;
  fake.pool = {
    getConnection: () => Promise.resolve({ ...conn } as unknown as PoolConnection),
  };
  return fake;
}

/** A mysql2-style server error. */
export function serverError(errno: number, message: string): Error {
  return Object.assign(new Error(message), { errno, code: `ER_${errno}` });
}
