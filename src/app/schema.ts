/**
 * The two small tables the writer helpers use, and their DDL (also shipped as sql/cachetail-app.sql; a
 * unit test keeps the two identical).
 *
 * - The carrier table (comment mode). An annotation only reaches the binlog on a statement the server
 *   logs, and in ROW format that is a statement that changes a row. So at commit the helper upserts this
 *   connection's row (`n = n + 1` always changes it) with the annotation attached: one statement, no
 *   contention (CONNECTION_ID() is unique among live connections), one row per connection id.
 * - The outbox table (outbox mode). The keys themselves, one row each, inserted in the transaction; the
 *   tailer decodes the inserts from the replica's binlog (src/tailer/outbox.ts reads this exact layout
 *   by column position). Rows are only needed until they are in the binlog; `cachetail outbox cleanup`
 *   deletes old ones, and the tailer ignores those deletes.
 * Both must be InnoDB: rows of a rolled-back transaction must vanish with it.
 */
import { InvalidationError } from './errors.js';

export const DEFAULT_OUTBOX_TABLE = 'cachetail_dirty_keys';
export const DEFAULT_CARRIER_TABLE = 'cachetail_carrier';

export interface TableName {
  /** As configured: `table` or `db.table`. */
  readonly name: string;
  /** Backtick-quoted for SQL. */
  readonly sql: string;
}

// Plain identifiers only: table names come from config, but a name is pasted into SQL, so nothing that
// would need escaping is accepted.
const IDENT = /^[A-Za-z0-9_$]{1,64}$/;

export function tableName(name: string): TableName {
  const parts = name.split('.');
  if (parts.length > 2 || !parts.every((p) => IDENT.test(p)) || parts.every((p) => /^\d+$/.test(p))) {
    throw new InvalidationError(
      'INVALIDATION_TABLE_NAME',
      `table name ${JSON.stringify(name)}: expected table or db.table of letters, digits, _ and $`,
    );
  }
  return { name, sql: parts.map((p) => `\`${p}\``).join('.') };
}

export function outboxTableDdl(name = DEFAULT_OUTBOX_TABLE): string {
  return `CREATE TABLE IF NOT EXISTS ${tableName(name).sql} (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  cache_key VARBINARY(250) NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB;`;
}

export function carrierTableDdl(name = DEFAULT_CARRIER_TABLE): string {
  return `CREATE TABLE IF NOT EXISTS ${tableName(name).sql} (
  conn_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  n BIGINT UNSIGNED NOT NULL,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
) ENGINE=InnoDB;`;
}

/** The contents of sql/cachetail-app.sql: both tables under their default names. */
export function schemaSql(): string {
  return `-- cachetail application tables (generated from src/app/schema.ts; see docs/app-library.md).
-- Create them on the primary, in the schema your application writes to; they replicate like any table.

-- Comment mode: the statement that carries the annotation at commit upserts this connection's row.
${carrierTableDdl()}

-- Outbox mode: one row per dirty key, inserted in the writer's transaction; the tailer decodes the
-- inserts (column order matters). \`cachetail outbox cleanup\` deletes old rows.
${outboxTableDdl()}
`;
}
