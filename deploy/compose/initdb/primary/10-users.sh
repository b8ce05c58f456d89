#!/bin/bash
# Runs once, on the primary's first start (docker-entrypoint-initdb.d): the replication account and the
# tailer's account. They replicate to the replica like any other statement. Passwords come from the
# compose secrets, never from this file.
set -euo pipefail
repl=$(cat /run/secrets/repl_password)
tailer=$(cat /run/secrets/cachetail_db_password)
mariadb -uroot -p"$(cat /run/secrets/db_root_password)" <<SQL
CREATE USER 'repl'@'%' IDENTIFIED BY '${repl}';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';
-- The tailer reads the replica's binlog (docs/production.md §2).
CREATE USER 'cachetail'@'%' IDENTIFIED BY '${tailer}';
GRANT REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR ON *.* TO 'cachetail'@'%';
SQL
