-- cachetail application tables (generated from src/app/schema.ts; see docs/app-library.md).
-- Create them on the primary, in the schema your application writes to; they replicate like any table.

-- Comment mode: the statement that carries the annotation at commit upserts this connection's row.
CREATE TABLE IF NOT EXISTS `cachetail_carrier` (
  conn_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  n BIGINT UNSIGNED NOT NULL,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
) ENGINE=InnoDB;

-- Outbox mode: one row per dirty key, inserted in the writer's transaction; the tailer decodes the
-- inserts (column order matters). `cachetail outbox cleanup` deletes old rows.
CREATE TABLE IF NOT EXISTS `cachetail_dirty_keys` (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  cache_key VARBINARY(250) NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB;
