#!/bin/sh
# Creates the lab's secrets in ./secrets (git-ignored): random passwords and one cookie signing key.
# Existing files are kept, so running it again changes nothing.
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
for name in db_root_password repl_password cachetail_db_password; do
  [ -s "secrets/$name" ] || openssl rand -hex 24 > "secrets/$name"
done
[ -s secrets/cookie_keys ] || printf 'lab1:%s\n' "$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')" > secrets/cookie_keys
echo "secrets in $(pwd)/secrets"
