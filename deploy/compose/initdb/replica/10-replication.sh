#!/bin/bash
# Runs once, on the replica's first start: replicate from the primary by GTID from its beginning (the
# primary is fresh too, so its accounts arrive here through replication).
set -euo pipefail
mariadb -uroot -p"$(cat /run/secrets/db_root_password)" <<SQL
CHANGE MASTER TO MASTER_HOST = 'primary', MASTER_PORT = 3306, MASTER_USER = 'repl',
  MASTER_PASSWORD = '$(cat /run/secrets/repl_password)', MASTER_USE_GTID = slave_pos,
  MASTER_CONNECT_RETRY = 5;
START SLAVE;
SQL
